package validators

import (
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Rules about stickyguard's own annotations.
var (
	sg001 = &Rule{
		ID: "SG-001", Severity: Deny, Kinds: []string{KindService, KindIngress, KindDeployment}, Family: "stickyguard",
		Title:  "stickyguard.io/ignore is set without a reason",
		Fix:    `give the exemption a reason, e.g. stickyguard.io/ignore: "legacy app, ticket OPS-123"`,
		Source: "stickyguard exemption policy: exemptions must be visible and explained",
	}
	sg002 = &Rule{
		ID: "SG-002", Severity: Deny, Kinds: []string{KindDeployment}, Family: "stickyguard",
		Title:  "stickyguard.io/anti-affinity has an unknown value",
		Fix:    "use preferred, required or disabled",
		Source: "stickyguard DEP-001 default",
	}
	sg003 = &Rule{
		ID: "SG-003", Severity: Deny, Kinds: []string{KindService}, Family: "stickyguard",
		Title:  "stickyguard.io/keep-traffic-policy is not a boolean",
		Fix:    `use "true" to keep externalTrafficPolicy as written, or remove the annotation`,
		Source: "stickyguard SVC-005 default",
	}

	sgD01 = &Rule{
		ID: "SG-D01", Severity: Deny, Kinds: []string{KindService, KindIngress, KindDeployment}, Family: "stickyguard", Offline: true,
		Title:  "the object does not decode as its kind (a wrong type somewhere), so the API server rejects it with 400 before any rule runs",
		Fix:    "fix the field named in the message to its API type (kubectl apply --dry-run=server shows the same error)",
		Source: "API decode of typed objects (STICKY-FACTS §1.2)",
	}
)

var metaRules = []*Rule{sg001, sg002, sg003, sgD01}

// DecodeError is the SG-D01 finding for an object that does not decode.
func DecodeError(err error) *field.Error {
	return field.Invalid(field.NewPath("(root)"), nil, message(sgD01, clipDecodeErr(err.Error()))).WithOrigin(sgD01.ID)
}

func clipDecodeErr(s string) string {
	const max = 300
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

var antiAffinityModes = []string{"preferred", "required", "disabled"}

func checkIgnore(f *findings, annotations map[string]string) {
	if v, ok := annotations[AnnIgnore]; ok && strings.TrimSpace(v) == "" {
		f.required(sg001, annPath(AnnIgnore), "an exemption needs a reason")
	}
}

func validateServiceMeta(svc, _ *corev1.Service, _ *Context) (field.ErrorList, Warnings) {
	var f findings
	checkIgnore(&f, svc.Annotations)
	if v, ok := svc.Annotations[AnnKeepTrafficPolicy]; ok {
		if _, err := strconv.ParseBool(strings.TrimSpace(v)); err != nil {
			f.invalid(sg003, annPath(AnnKeepTrafficPolicy), clipValue(v), "")
		}
	}
	return f.result()
}

func validateIngressMeta(ing, _ *networkingv1.Ingress, _ *Context) (field.ErrorList, Warnings) {
	var f findings
	checkIgnore(&f, ing.Annotations)
	return f.result()
}

func validateDeploymentMeta(d, _ *appsv1.Deployment, _ *Context) (field.ErrorList, Warnings) {
	var f findings
	checkIgnore(&f, d.Annotations)
	if v, ok := d.Annotations[AnnAntiAffinity]; ok {
		switch v {
		case "preferred", "required", "disabled":
		default:
			f.notSupported(sg002, annPath(AnnAntiAffinity), clipValue(v), antiAffinityModes, "")
		}
	}
	return f.result()
}
