package validators

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func hapP(key string) string { return annPath(key).String() }

func TestServiceHAProxy(t *testing.T) {
	tests := []struct {
		name     string
		opts     []svcOpt
		wantDeny []finding
	}{
		{name: "no annotations"},
		{name: "valid affinity", opts: []svcOpt{svcAnn(hapPrefix+"affinity", "cookie", hapPrefix+"session-cookie-strategy", "prefix",
			hapPrefix+"session-cookie-value-strategy", "pod-uid", hapPrefix+"session-cookie-dynamic", "false",
			hapPrefix+"session-cookie-same-site", "true", hapPrefix+"session-cookie-keywords", "indirect nocache httponly")}},
		{name: "HAP-001 affinity true", opts: []svcOpt{svcAnn(hapPrefix+"affinity", "true")},
			wantDeny: []finding{deny("HAP-001", hapP(hapPrefix+"affinity"))}},
		{name: "HAP-001 legacy prefix Cookie", opts: []svcOpt{svcAnn(hapLegacyPrefix+"affinity", "Cookie")},
			wantDeny: []finding{deny("HAP-001", hapP(hapLegacyPrefix+"affinity"))}},
		{name: "HAP-002 strategies and bools", opts: []svcOpt{svcAnn(hapPrefix+"affinity", "cookie",
			hapPrefix+"session-cookie-strategy", "Insert", hapLegacyPrefix+"session-cookie-value-strategy", "pod-name",
			hapPrefix+"session-cookie-shared", "yes", hapPrefix+"session-cookie-preserve", "1")},
			wantDeny: []finding{deny("HAP-002", hapP(hapPrefix+"session-cookie-strategy")),
				deny("HAP-002", hapP(hapLegacyPrefix+"session-cookie-value-strategy")), deny("HAP-002", hapP(hapPrefix+"session-cookie-shared"))}},
		{name: "empty values are unset", opts: []svcOpt{svcAnn(hapPrefix+"affinity", "", hapPrefix+"session-cookie-dynamic", "")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := mkSvc(tt.opts...)
			before := svc.DeepCopy()
			errs, warns := validateServiceHAProxy(svc, nil, ctxFor(ControllerUnknown))
			assertFindings(t, errs, warns, tt.wantDeny, nil)
			assertMessagesFit(t, errs, warns)
			assert.Equal(t, before, svc, "input modified")
		})
	}
}

func TestIngressHAProxy(t *testing.T) {
	tests := []struct {
		name     string
		opts     []ingOpt
		ctrl     Controller
		shared   bool // only the class name "haproxy" says the controller
		wantDeny []finding
		wantWarn []finding
	}{
		{name: "valid affinity", opts: []ingOpt{ingAnn(hapPrefix+"affinity", "cookie")}, ctrl: ControllerHAProxy},
		{name: "HAP-001 on a HAProxy Ingress", opts: []ingOpt{ingAnn(hapPrefix+"affinity", "source")}, ctrl: ControllerHAProxy,
			wantDeny: []finding{deny("HAP-001", hapP(hapPrefix+"affinity"))}},
		{name: "HAP-002 with unknown controller", opts: []ingOpt{ingAnn(hapPrefix+"session-cookie-strategy", "set")},
			wantDeny: []finding{deny("HAP-002", hapP(hapPrefix+"session-cookie-strategy"))}},
		{name: "other controller: values not checked", opts: []ingOpt{ingAnn(hapPrefix+"affinity", "source")}, ctrl: ControllerNginx},
		{name: "HAP-003 haproxy.org key on HAProxy Ingress", opts: []ingOpt{ingAnn(hapTechCookie, "SRV")}, ctrl: ControllerHAProxy,
			wantWarn: []finding{warn("HAP-003", hapP(hapTechCookie))}},
		{name: "HAP-003 haproxy-ingress key on HAProxy Technologies", opts: []ingOpt{ingAnn(hapPrefix+"affinity", "source")},
			ctrl: ControllerHAProxyTech, wantWarn: []finding{warn("HAP-003", hapP(hapPrefix+"affinity"))}},
		{name: "haproxy.org key on HAProxy Technologies", opts: []ingOpt{ingAnn(hapTechCookie, "SRV")}, ctrl: ControllerHAProxyTech},
		{name: "haproxy.org key with unknown controller", opts: []ingOpt{ingAnn(hapTechCookie, "SRV")}},
		{name: "haproxy.org key on the shared class name haproxy", opts: []ingOpt{ingAnn(hapTechCookie, "SRV")}, ctrl: ControllerHAProxy, shared: true},
		{name: "haproxy-ingress key on a shared class still has its values checked", opts: []ingOpt{ingAnn(hapPrefix+"affinity", "source", hapTechCookie, "SRV")},
			ctrl: ControllerHAProxy, shared: true, wantDeny: []finding{deny("HAP-001", hapP(hapPrefix+"affinity"))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := ctxFor(tt.ctrl)
			ctx.Related.ClassShared = tt.shared
			errs, warns := validateIngressHAProxy(mkIng(tt.opts...), nil, ctx)
			assertFindings(t, errs, warns, tt.wantDeny, tt.wantWarn)
			assertMessagesFit(t, errs, warns)
		})
	}
}

func FuzzHAProxy(f *testing.F) {
	f.Add("affinity", "cookie", "session-cookie-strategy", "insert")
	f.Add("session-cookie-shared", "maybe", "haproxy.org/cookie-persistence", "x")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		svc := mkSvc(svcAnn(hapPrefix+k1, v1, hapLegacyPrefix+k2, v2, k2, v2))
		ing := mkIng(ingAnn(hapPrefix+k1, v1, hapLegacyPrefix+k2, v2, k2, v2))
		before := ing.DeepCopy()
		for _, ctx := range []*Context{ctxFor(ControllerUnknown), ctxFor(ControllerHAProxy), ctxFor(ControllerHAProxyTech), offlineCtx()} {
			validateServiceHAProxy(svc, nil, ctx)
			validateIngressHAProxy(ing, nil, ctx)
		}
		assert.Equal(t, before, ing)
	})
}
