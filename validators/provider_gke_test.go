package validators

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// gkeBC builds a BackendConfig with the given affinity type and optional TTL.
func gkeBC(name, typ string, ttl *int64) *BackendConfig {
	return &BackendConfig{Namespace: "shop", Name: name, SessionAffinity: &BackendConfigAffinity{
		AffinityType: typ, AffinityCookieTTLSec: ttl, TTLSet: ttl != nil,
	}}
}

// gkeCtx returns a live context that tracks the given BackendConfigs.
func gkeCtx(bcs ...*BackendConfig) *Context {
	c := ctxFor(ControllerUnknown)
	c.Related.BackendConfigs = map[string]*BackendConfig{}
	for _, bc := range bcs {
		c.Related.BackendConfigs[bc.Name] = bc
	}
	return c
}

func gkeServiceCases() []svcCase {
	ga, beta := annPath(annGKEBackendConfig).String(), annPath(annGKEBackendBeta).String()
	np := svcType(corev1.ServiceTypeNodePort)
	long := strings.Repeat("n", 63)
	return []svcCase{
		{name: "no annotation", svc: mkSvc(np)},
		{name: "default backend config", svc: mkSvc(np, svcAnn(annGKEBackendConfig, `{"default":"bc"}`))},
		{name: "GKE-004 not JSON", svc: mkSvc(np, svcAnn(annGKEBackendConfig, `{default: bc}`)),
			wantDeny: []finding{deny("GKE-004", ga)}},
		{name: "GKE-004 wrong JSON type", svc: mkSvc(np, svcAnn(annGKEBackendConfig, `{"default":["bc"]}`)),
			wantDeny: []finding{deny("GKE-004", ga)}},
		{name: "GKE-004 names nothing", svc: mkSvc(np, svcAnn(annGKEBackendConfig, `{"default":""}`)),
			wantDeny: []finding{deny("GKE-004", ga)}},
		{name: "GKE-004 beta key", svc: mkSvc(np, svcAnn(annGKEBackendBeta, `{}`)),
			wantDeny: []finding{deny("GKE-004", beta)}},
		{name: "GKE-004 GA key wins over broken beta", svc: mkSvc(np, svcAnn(annGKEBackendConfig, `{"default":"bc"}`, annGKEBackendBeta, `x`))},
		{name: "GKE-005 ports key is a targetPort", svc: mkSvc(np, svcAnn(annGKEBackendConfig, `{"ports":{"8080":"bc"}}`)),
			wantWarn: []finding{warn("GKE-005", ga)}},
		{name: "GKE-005 ports key by name", svc: mkSvc(np, svcAnn(annGKEBackendConfig, `{"ports":{"http":"bc"}}`))},
		{name: "GKE-005 ports key by number", svc: mkSvc(np, svcAnn(annGKEBackendConfig, `{"ports":{"80":"bc"}}`))},
		{name: "GKE-006 missing BackendConfig", svc: mkSvc(np, svcAnn(annGKEBackendConfig, `{"default":"bc"}`)), ctx: gkeCtx(),
			wantWarn: []finding{warn("GKE-006", ga)}},
		{name: "GKE-006 existing BackendConfig", svc: mkSvc(np, svcAnn(annGKEBackendConfig, `{"default":"bc"}`)),
			ctx: gkeCtx(gkeBC("bc", "NONE", nil))},
		{name: "GKE-006 untracked", svc: mkSvc(np, svcAnn(annGKEBackendConfig, `{"default":"bc"}`))},
		{name: "GKE-008 CLIENT_IP without NEG", svc: mkSvc(np, svcAnn(annGKEBackendConfig, `{"default":"bc"}`)),
			ctx: gkeCtx(gkeBC("bc", "CLIENT_IP", nil)), wantWarn: []finding{warn("GKE-008", ga)}},
		{name: "GKE-008 GENERATED_COOKIE on a port without NEG", svc: mkSvc(np, svcAnn(annGKEBackendConfig, `{"ports":{"http":"bc"}}`)),
			ctx: gkeCtx(gkeBC("bc", "GENERATED_COOKIE", nil)), wantWarn: []finding{warn("GKE-008", ga)}},
		{name: "GKE-008 with NEG", svc: mkSvc(np, svcAnn(annGKEBackendConfig, `{"default":"bc"}`, annGKENEG, `{"ingress": true}`)),
			ctx: gkeCtx(gkeBC("bc", "CLIENT_IP", nil))},
		{name: "GKE-008 with externalTrafficPolicy Local", svc: mkSvc(np, svcETP(corev1.ServiceExternalTrafficPolicyLocal),
			svcAnn(annGKEBackendConfig, `{"default":"bc"}`)), ctx: gkeCtx(gkeBC("bc", "CLIENT_IP", nil))},
		{name: "GKE-008 no affinity", svc: mkSvc(np, svcAnn(annGKEBackendConfig, `{"default":"bc"}`)),
			ctx: gkeCtx(gkeBC("bc", "NONE", nil))},
		{name: "GKE-008 skips ClusterIP backends (NEG only)", svc: mkSvc(svcAnn(annGKEBackendConfig, `{"default":"bc"}`)),
			ctx: gkeCtx(gkeBC("bc", "CLIENT_IP", nil))},
		{name: "GKE-008 LoadBalancer without NEG", svc: mkSvc(svcType(corev1.ServiceTypeLoadBalancer),
			svcAnn(annGKEBackendBeta, `{"default":"`+long+`"}`)), ctx: gkeCtx(gkeBC(long, "GENERATED_COOKIE", nil)),
			wantWarn: []finding{warn("GKE-008", beta)}},
		{name: "GKE-005 and GKE-006 with long names", svc: mkSvc(np, svcAnn(annGKEBackendBeta, `{"ports":{"`+long+`":"`+long+`"}}`)),
			ctx: gkeCtx(), wantWarn: []finding{warn("GKE-005", beta), warn("GKE-006", beta)}},
	}
}

func TestProviderGKEService(t *testing.T) {
	runSvcCases(t, validateServiceGKE, gkeServiceCases())
}

func gkeIngressCases() []ingCase {
	aff := "nginx.ingress.kubernetes.io/affinity"
	name := "nginx.ingress.kubernetes.io/session-cookie-name"
	return []ingCase{
		{name: "GKE-009 nginx affinity on gce", ing: mkIng(ingAnn(aff, "cookie", name, "route")), ctx: ctxFor(ControllerGCE),
			wantWarn: []finding{warn("GKE-009", annPath(aff).String()), warn("GKE-009", annPath(name).String())}},
		{name: "GKE-009 unrelated nginx annotation", ing: mkIng(ingAnn("nginx.ingress.kubernetes.io/rewrite-target", "/")), ctx: ctxFor(ControllerGCE)},
		{name: "GKE-009 unknown controller", ing: mkIng(ingAnn(aff, "cookie")), ctx: ctxFor(ControllerUnknown)},
		{name: "GKE-009 nginx controller", ing: mkIng(ingAnn(aff, "cookie")), ctx: ctxFor(ControllerNginx)},
	}
}

func TestProviderGKEIngress(t *testing.T) {
	runIngCases(t, validateIngressGKE, func() *Context { return ctxFor(ControllerGCE) }, gkeIngressCases())
}

// bcCase is one row of the BackendConfig rules' table.
type bcCase struct {
	name     string
	bc       *BackendConfig
	wantDeny []finding
	wantWarn []finding
}

func gkeBackendConfigCases() []bcCase {
	typ, ttlP := "spec.sessionAffinity.affinityType", "spec.sessionAffinity.affinityCookieTtlSec"
	i64 := func(v int64) *int64 { return &v }
	return []bcCase{
		{name: "nil", bc: nil},
		{name: "no affinity", bc: &BackendConfig{Name: "bc"}},
		{name: "generated cookie with ttl", bc: gkeBC("bc", "GENERATED_COOKIE", i64(86400))},
		{name: "empty type", bc: gkeBC("bc", "", nil)},
		{name: "GKE-001 HTTP_COOKIE", bc: gkeBC("bc", "HTTP_COOKIE", nil), wantDeny: []finding{deny("GKE-001", typ)}},
		{name: "GKE-001 camel case", bc: gkeBC("bc", "ClientIP", nil), wantDeny: []finding{deny("GKE-001", typ)}},
		{name: "GKE-002 negative ttl", bc: gkeBC("bc", "GENERATED_COOKIE", i64(-1)), wantDeny: []finding{deny("GKE-002", ttlP)}},
		{name: "GKE-002 ttl above a day", bc: gkeBC("bc", "GENERATED_COOKIE", i64(86401)), wantDeny: []finding{deny("GKE-002", ttlP)}},
		{name: "GKE-003 ttl with CLIENT_IP", bc: gkeBC("bc", "CLIENT_IP", i64(60)), wantWarn: []finding{warn("GKE-003", ttlP)}},
	}
}

func TestProviderGKEBackendConfig(t *testing.T) {
	for _, tt := range gkeBackendConfigCases() {
		t.Run(tt.name, func(t *testing.T) {
			errs, warns := validateBackendConfigGKE(tt.bc, ctxFor(ControllerUnknown))
			assertFindings(t, errs, warns, tt.wantDeny, tt.wantWarn)
		})
	}
}

func FuzzProviderGKE(f *testing.F) {
	f.Add(`{"default":"bc","ports":{"80":"bc2"}}`, `{"ingress":true}`, "CLIENT_IP", int64(10), "cookie")
	f.Add(`null`, `[]`, "", int64(-5), "")
	f.Fuzz(func(t *testing.T, bcAnn, neg, typ string, ttl int64, nginx string) {
		svc := mkSvc(svcType(corev1.ServiceTypeNodePort), svcAnn(annGKEBackendConfig, bcAnn, annGKEBackendBeta, bcAnn, annGKENEG, neg))
		ing := mkIng(ingAnn("nginx.ingress.kubernetes.io/affinity", nginx, "nginx.ingress.kubernetes.io/session-cookie-"+nginx, nginx))
		bc := gkeBC("bc", typ, &ttl)
		for _, ctx := range []*Context{ctxFor(ControllerUnknown), offlineCtx(), gkeCtx(bc, gkeBC("bc2", typ, nil)), ctxFor(ControllerGCE)} {
			validateServiceGKE(svc, nil, ctx)
			validateIngressGKE(ing, nil, ctx)
			validateBackendConfigGKE(bc, ctx)
		}
	})
}
