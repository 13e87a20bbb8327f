package validators

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
)

// trfA sets traefik.ingress.kubernetes.io/ annotations from name/value pairs
// on a Service.
func trfA(kv ...string) svcOpt {
	for i := 0; i < len(kv); i += 2 {
		kv[i] = trfPrefix + kv[i]
	}
	return svcAnn(kv...)
}

func trfP(name string) string { return annPath(trfPrefix + name).String() }

func TestServiceTraefik(t *testing.T) {
	tests := []struct {
		name     string
		opts     []svcOpt
		wantDeny []finding
		wantWarn []finding
	}{
		{name: "no annotations"},
		{name: "valid sticky cookie", opts: []svcOpt{trfA("service.sticky.cookie", "true", "service.sticky.cookie.name", "web",
			"service.sticky.cookie.secure", "true", "service.sticky.cookie.httponly", "false",
			"service.sticky.cookie.samesite", "None", "service.sticky.cookie.maxage", "3600")}},
		{name: "keys match case-insensitively", opts: []svcOpt{trfA("service.sticky.cookie", "TRUE", "service.sticky.cookie.httpOnly", "1")}},
		{name: "TRF-002 sticky without cookie", opts: []svcOpt{trfA("service.sticky", "true")},
			wantWarn: []finding{warn("TRF-002", trfP("service.sticky"))}},
		{name: "sticky with cookie sub-key", opts: []svcOpt{trfA("service.sticky", "true", "service.sticky.cookie.name", "web")}},
		{name: "TRF-003 samesite relaxed", opts: []svcOpt{trfA("service.sticky.cookie", "true", "service.sticky.cookie.samesite", "relaxed")},
			wantDeny: []finding{deny("TRF-003", trfP("service.sticky.cookie.samesite"))}},
		{name: "TRF-003 secure yes, maxage 1h, cookie on", opts: []svcOpt{trfA("service.sticky.cookie", "on",
			"service.sticky.cookie.secure", "yes", "service.sticky.cookie.maxage", "1h")},
			wantDeny: []finding{deny("TRF-003", trfP("service.sticky.cookie")), deny("TRF-003", trfP("service.sticky.cookie.secure")),
				deny("TRF-003", trfP("service.sticky.cookie.maxage"))}},
		{name: "TRF-003 cookie 1 disables silently", opts: []svcOpt{trfA("service.sticky.cookie", "1")},
			wantDeny: []finding{deny("TRF-003", trfP("service.sticky.cookie"))}},
		{name: "cookie false is explicit", opts: []svcOpt{trfA("service.sticky.cookie", "false")}},
		{name: "TRF-004 SameSite none without secure", opts: []svcOpt{trfA("service.sticky.cookie", "true", "service.sticky.cookie.samesite", "none")},
			wantWarn: []finding{warn("TRF-004", trfP("service.sticky.cookie.secure"))}},
		{name: "TRF-004 SameSite none with secure false", opts: []svcOpt{trfA("service.sticky.cookie", "true",
			"service.sticky.cookie.samesite", "NONE", "service.sticky.cookie.secure", "false")},
			wantWarn: []finding{warn("TRF-004", trfP("service.sticky.cookie.secure"))}},
		{name: "TRF-005 v1 annotations", opts: []svcOpt{svcAnn(trfPrefix+"affinity", "true", "traefik.backend.loadbalancer.stickiness", "true")},
			wantWarn: []finding{warn("TRF-005", trfP("affinity")), warn("TRF-005", annPath("traefik.backend.loadbalancer.stickiness").String())}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := mkSvc(tt.opts...)
			before := svc.DeepCopy()
			errs, warns := validateServiceTraefik(svc, nil, ctxFor(ControllerUnknown))
			assertFindings(t, errs, warns, tt.wantDeny, tt.wantWarn)
			assertMessagesFit(t, errs, warns)
			assert.Equal(t, before, svc, "input modified")
		})
	}
}

func TestIngressTraefik(t *testing.T) {
	sticky := ingAnn(trfPrefix+"service.sticky.cookie", "true", trfPrefix+"router.entrypoints", "websecure")
	tests := []struct {
		name     string
		opts     []ingOpt
		ctrl     Controller
		wantWarn []finding
	}{
		{name: "router annotations only", opts: []ingOpt{ingAnn(trfPrefix+"router.entrypoints", "web")}, ctrl: ControllerTraefik},
		{name: "TRF-001 service annotation on a Traefik Ingress", opts: []ingOpt{sticky}, ctrl: ControllerTraefik,
			wantWarn: []finding{warn("TRF-001", trfP("service.sticky.cookie"))}},
		{name: "TRF-001 with unknown controller", opts: []ingOpt{sticky},
			wantWarn: []finding{warn("TRF-001", trfP("service.sticky.cookie"))}},
		{name: "TRF-005 v1 annotation on an Ingress", opts: []ingOpt{ingAnn(trfPrefix+"session-cookie-name", "x")}, ctrl: ControllerTraefik,
			wantWarn: []finding{warn("TRF-005", trfP("session-cookie-name"))}},
		{name: "other controller: Traefik Ingress rules do not run", opts: []ingOpt{sticky}, ctrl: ControllerNginx},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs, warns := validateIngressTraefik(mkIng(tt.opts...), nil, ctxFor(tt.ctrl))
			assertFindings(t, errs, warns, nil, tt.wantWarn)
			assertMessagesFit(t, errs, warns)
		})
	}
}

func FuzzTraefik(f *testing.F) {
	f.Add("service.sticky.cookie.samesite", "NoNe", "service.sticky", "true")
	f.Add("service.sticky.cookie.maxage", "-9999999999999999999999", "service.sticky.cookie", "yes")
	f.Add("affinity", "true", "service.sticky.cookie.secure", "")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		ann := map[string]string{trfPrefix + k1: v1, k2: v2}
		svc := mkSvc(func(s *corev1.Service) { s.Annotations = ann })
		ing := mkIng(ingAnn(trfPrefix+k1, v1, k2, v2))
		for _, ctx := range []*Context{ctxFor(ControllerUnknown), ctxFor(ControllerTraefik), offlineCtx()} {
			validateServiceTraefik(svc, nil, ctx)
			validateIngressTraefik(ing, nil, ctx)
		}
		assert.Equal(t, map[string]string{trfPrefix + k1: v1, k2: v2}, svc.Annotations)
	})
}
