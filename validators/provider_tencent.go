package validators

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Tencent TKE (CLB) rules. Only the Service annotations are checked here;
// TKE-001/TKE-002 concern the TkeServiceConfig CRD, which stickyguard does
// not intercept.

const (
	tkeFamily        = "Tencent TKE"
	annTKEConfig     = "service.cloud.tencent.com/tke-service-config"
	annTKEConfigAuto = "service.cloud.tencent.com/tke-service-config-auto"
)

var tke003 = &Rule{ID: "TKE-003", Severity: Deny, Kinds: []string{KindService}, Family: tkeFamily,
	Title:  "tke-service-config used together with tke-service-config-auto, or naming a reserved auto-generated TkeServiceConfig",
	Fix:    "use tke-service-config or tke-service-config-auto, not both; avoid *-auto-*-config names",
	Source: "cloud.tencent.com/document/product/457/45490 (zh)"}

var tkeRules = []*Rule{tke003}

func validateServiceTKE(svc, _ *corev1.Service, _ *Context) (field.ErrorList, Warnings) {
	name, ok := svc.Annotations[annTKEConfig]
	if !ok {
		return nil, nil
	}
	var f findings
	p := annPath(annTKEConfig)
	if svc.Annotations[annTKEConfigAuto] == "true" {
		f.forbidden(tke003, p, `cannot be combined with tke-service-config-auto: "true"`)
	}
	for _, suffix := range []string{"-auto-service-config", "-auto-ingress-config"} {
		if strings.HasSuffix(name, suffix) {
			f.invalid(tke003, p, clipValue(name), "names ending in "+suffix+" are reserved for TKE")
		}
	}
	return f.result()
}
