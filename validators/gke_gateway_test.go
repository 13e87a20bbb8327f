package validators

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stickyguard/stickyguard/apis"
)

type gcpOpt func(*apis.GCPBackendPolicy)

// mkGCP builds GCPBackendPolicy shop/web targeting Service shop/web with
// GENERATED_COOKIE affinity.
func mkGCP(opts ...gcpOpt) *apis.GCPBackendPolicy {
	p := &apis.GCPBackendPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: apis.GroupGKENetworking + "/v1", Kind: apis.KindGCPBackendPolicy},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec: apis.GCPBackendPolicySpec{
			TargetRef: apis.GCPTargetRef{Group: "", Kind: "Service", Name: "web"},
			Default: &apis.GCPBackendPolicyConfig{SessionAffinity: &apis.GCPSessionAffinity{
				Type: ptrTo(ggwGeneratedCookie), CookieTTLSec: ptrTo(int64(3600)),
			}},
		},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func gcpAffinity(typ *string, ttl *int64) gcpOpt {
	return func(p *apis.GCPBackendPolicy) {
		p.Spec.Default.SessionAffinity = &apis.GCPSessionAffinity{Type: typ, CookieTTLSec: ttl}
	}
}

func gcpTarget(group, kind, name string, ns *string) gcpOpt {
	return func(p *apis.GCPBackendPolicy) {
		p.Spec.TargetRef = apis.GCPTargetRef{Group: group, Kind: kind, Name: name, Namespace: ns}
	}
}

func gcpCtx(offline bool, svcs ...*corev1.Service) *Context {
	c := ctxFor(ControllerUnknown)
	c.Offline = offline
	c.Related.Gateway.Services = svcs
	return c
}

func TestGKEGatewayPolicy(t *testing.T) {
	sa := "spec.default.sessionAffinity"
	clientIPSvc := mkSvc(clientIP(10800))
	cases := []struct {
		name     string
		p        *apis.GCPBackendPolicy
		ctx      *Context
		wantDeny []finding
		wantWarn []finding
	}{
		{name: "generated cookie", p: mkGCP(), ctx: gcpCtx(false)},
		{name: "valid offline", p: mkGCP(), ctx: gcpCtx(true)},
		{name: "no sessionAffinity", p: mkGCP(func(p *apis.GCPBackendPolicy) { p.Spec.Default = nil }), ctx: gcpCtx(true)},
		{name: "GGW-001 lowercase type, offline", p: mkGCP(gcpAffinity(ptrTo("generated_cookie"), nil)), ctx: gcpCtx(true),
			wantDeny: []finding{deny("GGW-001", sa+".type")}},
		{name: "GGW-001 TTL above two weeks, offline", p: mkGCP(gcpAffinity(ptrTo(ggwGeneratedCookie), ptrTo(int64(1209601)))), ctx: gcpCtx(true),
			wantDeny: []finding{deny("GGW-001", sa+".cookieTtlSec")}},
		{name: "GGW-001 negative TTL, offline", p: mkGCP(gcpAffinity(ptrTo(ggwHTTPCookie), ptrTo(int64(-1)))), ctx: gcpCtx(true),
			wantDeny: []finding{deny("GGW-001", sa+".cookieTtlSec")}},
		{name: "GGW-001 two weeks is the maximum", p: mkGCP(gcpAffinity(ptrTo(ggwGeneratedCookie), ptrTo(int64(1209600)))), ctx: gcpCtx(true)},
		{name: "GGW-001 is offline only", p: mkGCP(gcpAffinity(ptrTo("SOURCE_IP"), ptrTo(int64(9999999)))), ctx: gcpCtx(false),
			wantWarn: []finding{warn("GGW-002", sa+".cookieTtlSec")}},
		{name: "GGW-002 TTL with CLIENT_IP", p: mkGCP(gcpAffinity(ptrTo(ggwClientIP), ptrTo(int64(60)))), ctx: gcpCtx(false),
			wantWarn: []finding{warn("GGW-002", sa+".cookieTtlSec")}},
		{name: "GGW-002 TTL without type (NONE)", p: mkGCP(gcpAffinity(nil, ptrTo(int64(0)))), ctx: gcpCtx(false),
			wantWarn: []finding{warn("GGW-002", sa+".cookieTtlSec")}},
		{name: "GGW-002 TTL with HTTP_COOKIE", p: mkGCP(gcpAffinity(ptrTo(ggwHTTPCookie), ptrTo(int64(60)))), ctx: gcpCtx(false)},
		{name: "GGW-003 target in another namespace", p: mkGCP(gcpTarget("", "Service", "web", ptrTo("payments"))), ctx: gcpCtx(false),
			wantWarn: []finding{warn("GGW-003", "spec.targetRef.namespace")}},
		{name: "GGW-003 own namespace spelled out", p: mkGCP(gcpTarget("", "Service", "web", ptrTo("shop"))), ctx: gcpCtx(false)},
		{name: "GGW-006 targets an HTTPRoute", p: mkGCP(gcpTarget(apis.GroupGateway, apis.KindHTTPRoute, "web", nil)), ctx: gcpCtx(false),
			wantWarn: []finding{warn("GGW-006", "spec.targetRef.kind")}},
		{name: "GGW-006 ServiceImport", p: mkGCP(gcpTarget(groupMultiCluster, "ServiceImport", "web", nil)), ctx: gcpCtx(false)},
		{name: "GGW-006 ServiceImport of the wrong group", p: mkGCP(gcpTarget("multicluster.x-k8s.io", "ServiceImport", "web", nil)), ctx: gcpCtx(false),
			wantWarn: []finding{warn("GGW-006", "spec.targetRef.kind")}},
		{name: "GGW-007 CLIENT_IP_PORT_PROTO", p: mkGCP(gcpAffinity(ptrTo(ggwClientIPPort), nil)), ctx: gcpCtx(false),
			wantWarn: []finding{warn("GGW-007", sa+".type")}},
		{name: "GGW-007 CLIENT_IP_PROTO", p: mkGCP(gcpAffinity(ptrTo(ggwClientIPProto), nil)), ctx: gcpCtx(false),
			wantWarn: []finding{warn("GGW-007", sa+".type")}},
		{name: "GGW-008 Service also ClientIP", p: mkGCP(), ctx: gcpCtx(false, clientIPSvc),
			wantWarn: []finding{warn("GGW-008", "spec.targetRef.name")}},
		{name: "GGW-008 Service without affinity", p: mkGCP(), ctx: gcpCtx(false, mkSvc())},
		{name: "GGW-008 other Service", p: mkGCP(gcpTarget("", "Service", "api", nil)), ctx: gcpCtx(false, clientIPSvc)},
		{name: "GGW-008 policy affinity NONE", p: mkGCP(gcpAffinity(ptrTo(ggwNone), nil)), ctx: gcpCtx(false, clientIPSvc)},
		{name: "GGW-008 not for a target in another namespace", p: mkGCP(gcpTarget("", "Service", "web", ptrTo("payments"))),
			ctx: gcpCtx(false, clientIPSvc), wantWarn: []finding{warn("GGW-003", "spec.targetRef.namespace")}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.p.DeepCopyObject()
			errs, warns := validateGCPBackendPolicy(tt.p, nil, tt.ctx)
			assertFindings(t, errs, warns, tt.wantDeny, tt.wantWarn)
			assert.Equal(t, before, tt.p, "input modified")
		})
	}
}

func TestGKEGatewayWorstCaseMessagesFit(t *testing.T) {
	long := strings.Repeat("x", 253)
	p := mkGCP(gcpTarget(strings.Repeat("g", 253), strings.Repeat("K", 63), long, ptrTo(strings.Repeat("n", 63))),
		gcpAffinity(ptrTo(strings.Repeat("T", 300)), ptrTo(int64(-9223372036854775808))))
	p.Namespace = strings.Repeat("s", 63)
	errs, warns := validateGCPBackendPolicy(p, nil, gcpCtx(true))
	assertFindings(t, errs, warns, []finding{deny("GGW-001", ""), deny("GGW-001", "")},
		[]finding{warn("GGW-002", ""), warn("GGW-003", ""), warn("GGW-006", "")})
	assertMessagesFit(t, errs, warns)

	svc := mkSvc(clientIP(60))
	svc.Name, svc.Namespace = strings.Repeat("w", 63), p.Namespace
	q := mkGCP(gcpTarget("", "Service", svc.Name, nil), gcpAffinity(ptrTo(ggwClientIPPort), nil))
	q.Namespace = p.Namespace
	errs, warns = validateGCPBackendPolicy(q, nil, gcpCtx(false, svc))
	assertFindings(t, errs, warns, nil, []finding{warn("GGW-007", ""), warn("GGW-008", "")})
	assertMessagesFit(t, errs, warns)
}

// TestGGW006NamesTheTarget: GGW-006 names the target's group and kind in
// full while the message fits the budget, and cuts them only beyond it.
func TestGGW006NamesTheTarget(t *testing.T) {
	long := strings.Repeat("a", 60) + ".example.com"
	cases := []struct {
		name, group, kind string
		want              string // in the message
	}{
		{"Gateway API group", apis.GroupGateway, apis.KindHTTPRoute, `group "gateway.networking.k8s.io" kind "HTTPRoute"`},
		{"long group that fits", long, "Backend", `group "` + long + `" kind "Backend"`},
		{"group beyond the budget", strings.Repeat("g", 253), strings.Repeat("K", 63), `kind "` + strings.Repeat("K", 24) + `..."`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, warns := validateGCPBackendPolicy(mkGCP(gcpTarget(tc.group, tc.kind, "web", nil)), nil, gcpCtx(false))
			assertFindings(t, nil, warns, nil, []finding{warn("GGW-006", "spec.targetRef.kind")})
			assert.Contains(t, warns[0].String(), tc.want)
			assertMessagesFit(t, nil, warns)
		})
	}
}
