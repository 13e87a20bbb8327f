package validators

import (
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// HAProxy Ingress (jcmoraisjr/haproxy-ingress) affinity rules. The controller
// reads its keys under haproxy-ingress.github.io/ and the legacy
// ingress.kubernetes.io/ prefix, from Ingresses and from Services; values are
// compared exactly and bools parsed with strconv.ParseBool. The HAProxy
// Technologies controller (haproxy.org/) is a different project.

const (
	hapPrefix       = "haproxy-ingress.github.io/"
	hapLegacyPrefix = "ingress.kubernetes.io/"
	hapTechCookie   = "haproxy.org/cookie-persistence"
)

var hap001 = &Rule{ID: "HAP-001", Severity: Deny, Kinds: []string{KindIngress, KindService}, Family: "HAProxy Ingress",
	Title:  `haproxy-ingress affinity is not "cookie", the only option; affinity stays off`,
	Fix:    `write "cookie"`,
	Source: "jcmoraisjr/haproxy-ingress docs/content/en/docs/configuration/keys.md §Affinity"}

var hap002 = &Rule{ID: "HAP-002", Severity: Deny, Kinds: []string{KindIngress, KindService}, Family: "HAProxy Ingress",
	Title:   "invalid value; haproxy-ingress uses the default",
	Fix:     "use a supported value",
	Explain: "session-cookie-strategy takes insert, prefix or rewrite; session-cookie-value-strategy server-name or pod-uid; session-cookie-dynamic, -preserve, -same-site and -shared true or false. The controller ignores any other value and uses the default.",
	Source:  "jcmoraisjr/haproxy-ingress docs/content/en/docs/configuration/keys.md §Affinity"}

var hap003 = &Rule{ID: "HAP-003", Severity: Warn, Kinds: []string{KindIngress}, Family: "HAProxy Ingress",
	Title:   "affinity annotation of the other HAProxy controller; this Ingress's controller ignores it",
	Fix:     `use haproxy-ingress.github.io/affinity: "cookie" (HAProxy Ingress) or haproxy.org/cookie-persistence: "<name>" (HAProxy Technologies)`,
	Explain: "Reported only when an IngressClass object (spec.controller haproxy-ingress.github.io/controller or haproxy.org/...) says which controller serves the Ingress: both controllers use the class name \"haproxy\" by default, so the name alone, or the legacy kubernetes.io/ingress.class annotation, does not tell.",
	Source:  "haproxytech kubernetes-ingress annotations docs vs jcmoraisjr/haproxy-ingress keys.md; both charts' default IngressClass name haproxy"}

var haproxyRules = []*Rule{hap001, hap002, hap003}

// hapKey splits a haproxy-ingress annotation key into its name, under either
// prefix.
func hapKey(k string) (string, bool) {
	if n, ok := strings.CutPrefix(k, hapPrefix); ok {
		return n, true
	}
	return strings.CutPrefix(k, hapLegacyPrefix)
}

// hapAffinityKey reports haproxy-ingress affinity keys (HAP-003, X-001).
func hapAffinityKey(k string) bool {
	n, ok := hapKey(k)
	return ok && (n == "affinity" || strings.HasPrefix(n, "session-cookie-"))
}

// hapTechKey reports HAProxy Technologies cookie-persistence keys.
func hapTechKey(k string) bool { return strings.HasPrefix(k, hapTechCookie) }

func validateServiceHAProxy(svc, old *corev1.Service, ctx *Context) (field.ErrorList, Warnings) {
	var f findings
	hapValues(&f, svc.Annotations)
	return f.result()
}

func validateIngressHAProxy(ing, old *networkingv1.Ingress, ctx *Context) (field.ErrorList, Warnings) {
	var f findings
	a := ing.Annotations
	ctrl := ctx.Related.Controller
	if appliesTo(ctrl, ControllerHAProxy) {
		hapValues(&f, a)
	}
	if ctx.Related.ClassShared {
		return f.result() // either HAProxy controller may serve it
	}
	for _, k := range slices.Sorted(maps.Keys(a)) {
		switch {
		case ctrl == ControllerHAProxy && hapTechKey(k):
			f.warn(ruleWithFix(hap003, `use haproxy-ingress.github.io/affinity: "cookie"`), annPath(k), nil,
				"a HAProxy Technologies key on a HAProxy Ingress class")
		case ctrl == ControllerHAProxyTech && hapAffinityKey(k):
			f.warn(ruleWithFix(hap003, `use haproxy.org/cookie-persistence: "<cookie-name>"`), annPath(k), nil,
				"a HAProxy Ingress key on a HAProxy Technologies class")
		}
	}
	return f.result()
}

func hapValues(f *findings, a map[string]string) {
	for _, k := range keysWhere(a, func(k string) bool { _, ok := hapKey(k); return ok }) {
		n, ok := hapKey(k)
		v := a[k]
		if !ok || v == "" {
			continue // empty means unset: the default applies
		}
		switch n {
		case "affinity":
			if v != "cookie" {
				f.notSupported(hap001, annPath(k), echoValue(v), []string{"cookie"}, "")
			}
		case "session-cookie-strategy":
			if valid := []string{"insert", "prefix", "rewrite"}; !slices.Contains(valid, v) {
				f.notSupported(hap002, annPath(k), echoValue(v), valid, "")
			}
		case "session-cookie-value-strategy":
			if valid := []string{"server-name", "pod-uid"}; !slices.Contains(valid, v) {
				f.notSupported(hap002, annPath(k), echoValue(v), valid, "")
			}
		case "session-cookie-dynamic", "session-cookie-preserve", "session-cookie-same-site", "session-cookie-shared":
			if _, valid := parseBool(v); !valid {
				f.invalid(ruleWithFix(hap002, `write "true" or "false"`), annPath(k), echoValue(v), "not a boolean; haproxy-ingress uses the default")
			}
		}
	}
}
