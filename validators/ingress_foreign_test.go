package validators

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIngressForeign(t *testing.T) {
	p := func(k string) string { return annPath(k).String() }
	nginxAff := ingAnn(ngxPrefix+"affinity", "cookie", ngxPrefix+"session-cookie-name", "web")
	tests := []struct {
		name     string
		opts     []ingOpt
		ctrl     Controller
		shared   bool
		wantWarn []finding
	}{
		{name: "nginx annotations on an nginx Ingress", opts: []ingOpt{nginxAff}, ctrl: ControllerNginx},
		{name: "unknown controller", opts: []ingOpt{nginxAff}},
		{name: "class without rules", opts: []ingOpt{nginxAff}, ctrl: ControllerOther},
		{name: "X-001 nginx annotations on ALB, one warning per dialect", opts: []ingOpt{nginxAff}, ctrl: ControllerAWS,
			wantWarn: []finding{warn("X-001", p(ngxPrefix+"affinity"))}},
		{name: "X-001 nginx annotations on Traefik", opts: []ingOpt{nginxAff}, ctrl: ControllerTraefik,
			wantWarn: []finding{warn("X-001", p(ngxPrefix+"affinity"))}},
		{name: "nginx annotations on GCE are GKE-009's", opts: []ingOpt{nginxAff}, ctrl: ControllerGCE},
		{name: "X-001 AGIC annotation on GCE", opts: []ingOpt{ingAnn(agicAffinity, "true")}, ctrl: ControllerGCE,
			wantWarn: []finding{warn("X-001", p(agicAffinity))}},
		{name: "X-001 Traefik and HAProxy annotations on nginx", ctrl: ControllerNginx,
			opts:     []ingOpt{ingAnn(trfPrefix+"service.sticky.cookie", "true", hapPrefix+"affinity", "cookie")},
			wantWarn: []finding{warn("X-001", p(trfPrefix+"service.sticky.cookie")), warn("X-001", p(hapPrefix+"affinity"))}},
		{name: "legacy prefix and F5 keys on nginx are NGX-025's", ctrl: ControllerNginx,
			opts: []ingOpt{ingAnn(hapLegacyPrefix+"affinity", "cookie", "nginx.com/sticky-cookie-services", "serviceName=web")}},
		{name: "X-001 F5 key on AGIC", ctrl: ControllerAGIC, opts: []ingOpt{ingAnn("nginx.com/sticky-cookie-services", "serviceName=web")},
			wantWarn: []finding{warn("X-001", p("nginx.com/sticky-cookie-services"))}},
		{name: "HAProxy pair is HAP-003's", ctrl: ControllerHAProxy, opts: []ingOpt{ingAnn(hapTechCookie, "SRV")}},
		{name: "HAProxy pair on the shared class name is nobody's", ctrl: ControllerHAProxy, shared: true, opts: []ingOpt{ingAnn(hapTechCookie, "SRV")}},
		{name: "F5 keys on the shared class name nginx are nobody's", ctrl: ControllerNginx, shared: true,
			opts: []ingOpt{ingAnn("nginx.com/sticky-cookie-services", "serviceName=web srv_id")}},
		{name: "X-001 Traefik on the shared class name nginx", ctrl: ControllerNginx, shared: true,
			opts:     []ingOpt{ingAnn(trfPrefix+"service.sticky.cookie", "true", "nginx.org/lb-method", "ip_hash")},
			wantWarn: []finding{warn("X-001", p(trfPrefix+"service.sticky.cookie"))}},
		{name: "X-001 nginx on the shared class name haproxy", ctrl: ControllerHAProxyTech, shared: true, opts: []ingOpt{nginxAff},
			wantWarn: []finding{warn("X-001", p(ngxPrefix+"affinity"))}},
		{name: "X-001 ALB stickiness on nginx", ctrl: ControllerNginx,
			opts:     []ingOpt{ingAnn(annAWSALBAttrs, "stickiness.enabled=true,stickiness.lb_cookie.duration_seconds=60")},
			wantWarn: []finding{warn("X-001", p(annAWSALBAttrs))}},
		{name: "ALB attributes without stickiness", ctrl: ControllerNginx, opts: []ingOpt{ingAnn(annAWSALBAttrs, "deregistration_delay.timeout_seconds=30")}},
		{name: "X-001 CCE mode on HAProxy", ctrl: ControllerHAProxy, opts: []ingOpt{ingAnn(annCCEMode, "HTTP_COOKIE")},
			wantWarn: []finding{warn("X-001", p(annCCEMode))}},
		{name: "CCE mode on CCE", ctrl: ControllerCCE, opts: []ingOpt{ingAnn(annCCEMode, "HTTP_COOKIE")}},
		{name: "other nginx annotations are not affinity", ctrl: ControllerAWS, opts: []ingOpt{ingAnn(ngxPrefix+"proxy-body-size", "8m")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ing := mkIng(tt.opts...)
			before := ing.DeepCopy()
			ctx := ctxFor(tt.ctrl)
			ctx.Related.ClassShared = tt.shared
			errs, warns := validateIngressForeign(ing, nil, ctx)
			assertFindings(t, errs, warns, nil, tt.wantWarn)
			assertMessagesFit(t, errs, warns)
			assert.Equal(t, before, ing, "input modified")
		})
	}
}

func FuzzIngressForeign(f *testing.F) {
	f.Add("nginx.ingress.kubernetes.io/affinity", "cookie", "appgw.ingress.kubernetes.io/x-cookie", "1")
	f.Add("alb.ingress.kubernetes.io/target-group-attributes", "stickiness.enabled=true", "ingress.kubernetes.io/affinity", "")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		ing := mkIng(ingAnn(k1, v1, k2, v2))
		before := ing.DeepCopy()
		for _, c := range []Controller{ControllerUnknown, ControllerNginx, ControllerAWS, ControllerGCE, ControllerTraefik,
			ControllerAGIC, ControllerHAProxy, ControllerHAProxyTech, ControllerCCE, ControllerOther} {
			validateIngressForeign(ing, nil, ctxFor(c))
		}
		validateIngressForeign(ing, nil, offlineCtx())
		assert.Equal(t, before, ing)
	})
}
