package validators

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIngressAGIC(t *testing.T) {
	affP, distinctP := annPath(agicAffinity).String(), annPath(agicDistinctName).String()
	tests := []struct {
		name     string
		opts     []ingOpt
		ctrl     Controller
		wantDeny []finding
		wantWarn []finding
	}{
		{name: "no annotations", ctrl: ControllerAGIC},
		{name: "affinity with distinct name", ctrl: ControllerAGIC, opts: []ingOpt{ingAnn(agicAffinity, "true", agicDistinctName, "True")}},
		{name: "AGIC-001 yes", ctrl: ControllerAGIC, opts: []ingOpt{ingAnn(agicAffinity, "yes")},
			wantDeny: []finding{deny("AGIC-001", affP)}},
		{name: "AGIC-001 empty and padded", opts: []ingOpt{ingAnn(agicAffinity, "", agicDistinctName, " true")},
			wantDeny: []finding{deny("AGIC-001", affP), deny("AGIC-001", distinctP)}},
		{name: "AGIC-002 cookie name annotation", ctrl: ControllerAGIC,
			opts:     []ingOpt{ingAnn(agicAffinity, "true", agicPrefix+"affinity-cookie-name", "SESSION")},
			wantWarn: []finding{warn("AGIC-002", annPath(agicPrefix+"affinity-cookie-name").String())}},
		{name: "other appgw annotations", ctrl: ControllerAGIC, opts: []ingOpt{ingAnn(agicPrefix+"backend-path-prefix", "/")}},
		{name: "AGIC-003 distinct name alone", ctrl: ControllerAGIC, opts: []ingOpt{ingAnn(agicDistinctName, "true")},
			wantWarn: []finding{warn("AGIC-003", distinctP)}},
		{name: "AGIC-003 affinity false", ctrl: ControllerAGIC, opts: []ingOpt{ingAnn(agicAffinity, "false", agicDistinctName, "true")},
			wantWarn: []finding{warn("AGIC-003", distinctP)}},
		{name: "other controller: AGIC rules do not run", ctrl: ControllerNginx, opts: []ingOpt{ingAnn(agicAffinity, "yes")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ing := mkIng(tt.opts...)
			before := ing.DeepCopy()
			errs, warns := validateIngressAGIC(ing, nil, ctxFor(tt.ctrl))
			assertFindings(t, errs, warns, tt.wantDeny, tt.wantWarn)
			assertMessagesFit(t, errs, warns)
			assert.Equal(t, before, ing, "input modified")
		})
	}
}

func FuzzIngressAGIC(f *testing.F) {
	f.Add("cookie-based-affinity", "true", "cookie-based-affinity-distinct-name", "1")
	f.Add("affinity-cookie-name", "x", "cookie-based-affinity", "")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		ing := mkIng(ingAnn(agicPrefix+k1, v1, agicPrefix+k2, v2, k2, v2))
		before := ing.DeepCopy()
		for _, ctx := range []*Context{ctxFor(ControllerUnknown), ctxFor(ControllerAGIC), offlineCtx()} {
			validateIngressAGIC(ing, nil, ctx)
		}
		assert.Equal(t, before, ing)
	})
}
