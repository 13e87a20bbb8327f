package validators

import (
	"strings"
	"testing"
)

func tencentServiceCases() []svcCase {
	cfg := annPath(annTKEConfig).String()
	return []svcCase{
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
		{name: "TKE-003 long reserved name", svc: mkSvc(svcAnn(annTKEConfig, strings.Repeat("w", 40)+"-auto-ingress-config", annTKEConfigAuto, "true")),
			wantDeny: []finding{deny("TKE-003", cfg), deny("TKE-003", cfg)}},
	}
}

func TestProviderTencentService(t *testing.T) {
	runSvcCases(t, validateServiceTKE, tencentServiceCases())
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
