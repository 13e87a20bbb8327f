package validators

import (
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/internal/sticky"
)

// Rules about stickyguard's own annotations.
var (
	sg001 = &Rule{
		ID: "SG-001", Severity: Deny, Kinds: []string{KindService, KindIngress, KindDeployment, KindStatefulSet}, Family: "stickyguard",
		Title:  "stickyguard.io/ignore is set without a reason",
		Fix:    `give the exemption a reason, e.g. stickyguard.io/ignore: "legacy app, ticket OPS-123"`,
		Source: "stickyguard exemption policy: exemptions must be visible and explained",
	}
	sg002 = &Rule{
		ID: "SG-002", Severity: Deny, Kinds: []string{KindDeployment, KindStatefulSet}, Family: "stickyguard",
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
		ID: "SG-D01", Severity: Deny, Kinds: []string{KindService, KindIngress, KindDeployment, KindStatefulSet}, Family: "stickyguard", Offline: true,
		Title: "the object does not decode as its kind (a value has the wrong type)",
		Fix:   "give the value its API type; quote annotation and label values",
		Explain: "The API server decodes the object into its Go type before any admission webhook runs; a wrong " +
			"type (a number for a string, a string for an integer) fails with 400 and no rule ever sees the object. " +
			"kubectl apply --dry-run=server shows the same error.",
		Source: "API decode of typed objects (STICKY-FACTS §1.2)",
	}
)

var metaRules = []*Rule{sg001, sg002, sg003, sgD01, sgD02, sgD03}

// DecodeError is the SG-D01 finding for an object that does not decode.
func DecodeError(err error) *field.Error {
	return field.Invalid(field.NewPath("(root)"), nil, message(sgD01, clipDecodeErr(err.Error()))).WithOrigin(sgD01.ID)
}

// clipDecodeErr keeps a decode error short enough that the whole finding
// fits an admission warning (256 characters) with its fix.
func clipDecodeErr(s string) string {
	return clipTo(strings.TrimPrefix(s, "json: "), 120)
}

var antiAffinityModes = []string{"preferred", "required", "disabled"}

func checkIgnore(f *findings, annotations map[string]string) {
	if v, ok := annotations[sticky.AnnIgnore]; ok && strings.TrimSpace(v) == "" {
		f.required(sg001, annPath(sticky.AnnIgnore), "an exemption needs a reason")
	}
}

func validateServiceMeta(svc, _ *corev1.Service, _ *Context) (field.ErrorList, Warnings) {
	var f findings
	checkIgnore(&f, svc.Annotations)
	if v, ok := svc.Annotations[sticky.AnnKeepTrafficPolicy]; ok {
		if _, err := strconv.ParseBool(strings.TrimSpace(v)); err != nil {
			f.invalid(sg003, annPath(sticky.AnnKeepTrafficPolicy), echoValue(v), "")
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
	return validateWorkloadMeta(d.Annotations)
}

func validateStatefulSetMeta(s, _ *appsv1.StatefulSet, _ *Context) (field.ErrorList, Warnings) {
	return validateWorkloadMeta(s.Annotations)
}

// validateWorkloadMeta is SG-001 and SG-002 on a Deployment's or
// StatefulSet's annotations.
func validateWorkloadMeta(annotations map[string]string) (field.ErrorList, Warnings) {
	var f findings
	checkIgnore(&f, annotations)
	if v, ok := annotations[sticky.AnnAntiAffinity]; ok {
		switch v {
		case "preferred", "required", "disabled":
		default:
			f.notSupported(sg002, annPath(sticky.AnnAntiAffinity), echoValue(v), antiAffinityModes, "")
		}
	}
	return f.result()
}

// keysWhere returns the keys of m that keep accepts, sorted (findings come
// out in a stable order). It allocates nothing when no key is kept, which is
// the common case: most objects carry no annotation of a given family.
func keysWhere(m map[string]string, keep func(string) bool) []string {
	var out []string
	for k := range m {
		if keep(k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// isNLBAttrsKey reports whether k is the NLB target-group-attributes key or
// one of its per-port .PORT variants.
func isNLBAttrsKey(k string) bool {
	return k == annAWSNLBAttrs || strings.HasPrefix(k, annAWSNLBAttrs+".")
}
