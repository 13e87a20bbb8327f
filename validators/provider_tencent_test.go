package validators

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
)

func TestProviderTencentService(t *testing.T) {
	cfg := annPath(annTKEConfig).String()
	tests := []struct {
		name     string
		svc      *corev1.Service
		wantDeny []finding
	}{
		{name: "no annotations", svc: mkSvc()},
		{name: "named config", svc: mkSvc(svcAnn(annTKEConfig, "web-clb"))},
		{name: "auto config", svc: mkSvc(svcAnn(annTKEConfigAuto, "true"))},
		{name: "named config with auto false", svc: mkSvc(svcAnn(annTKEConfig, "web-clb", annTKEConfigAuto, "false"))},
		{name: "TKE-003 both annotations", svc: mkSvc(svcAnn(annTKEConfig, "web-clb", annTKEConfigAuto, "true")),
			wantDeny: []finding{deny("TKE-003", cfg)}},
		{name: "TKE-003 reserved service config name", svc: mkSvc(svcAnn(annTKEConfig, "web-auto-service-config")),
			wantDeny: []finding{deny("TKE-003", cfg)}},
		{name: "TKE-003 reserved ingress config name", svc: mkSvc(svcAnn(annTKEConfig, "web-auto-ingress-config")),
			wantDeny: []finding{deny("TKE-003", cfg)}},
		{name: "TKE-003 both problems", svc: mkSvc(svcAnn(annTKEConfig, "web-auto-service-config", annTKEConfigAuto, "true")),
			wantDeny: []finding{deny("TKE-003", cfg), deny("TKE-003", cfg)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.svc.DeepCopy()
			errs, warns := validateServiceTKE(tt.svc, nil, ctxFor(ControllerUnknown))
			assertFindings(t, errs, warns, tt.wantDeny, nil)
			assert.Equal(t, before, tt.svc, "input modified")
		})
	}
}

func FuzzProviderTencent(f *testing.F) {
	f.Add("web-auto-service-config", "true")
	f.Fuzz(func(t *testing.T, name, auto string) {
		svc := mkSvc(svcAnn(annTKEConfig, name, annTKEConfigAuto, auto))
		for _, ctx := range []*Context{ctxFor(ControllerUnknown), offlineCtx()} {
			validateServiceTKE(svc, nil, ctx)
		}
	})
}
