package validators

import (
	"maps"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Azure Application Gateway Ingress Controller (AGIC) affinity rules. AGIC
// has exactly two affinity annotations, both parsed with strconv.ParseBool
// on the raw value (pkg/annotations/ingress_annotations.go parseBool); an
// invalid value raises an InvalidAnnotation event and leaves affinity off.

const (
	agicPrefix       = "appgw.ingress.kubernetes.io/"
	agicAffinity     = agicPrefix + "cookie-based-affinity"
	agicDistinctName = agicPrefix + "cookie-based-affinity-distinct-name"
)

var agic001 = &Rule{ID: "AGIC-001", Severity: Deny, Kinds: []string{KindIngress}, Family: "Azure AGIC",
	Title:  "not a boolean; AGIC emits an InvalidAnnotation event and leaves affinity off",
	Fix:    `write "true" or "false"`,
	Source: "AGIC pkg/annotations/ingress_annotations.go parseBool; pkg/appgw/backendhttpsettings.go"}

var agic002 = &Rule{ID: "AGIC-002", Severity: Warn, Kinds: []string{KindIngress}, Family: "Azure AGIC",
	Title:   "AGIC has no such affinity annotation; it is ignored",
	Fix:     "use cookie-based-affinity and cookie-based-affinity-distinct-name",
	Explain: `AGIC has exactly two affinity annotations: appgw.ingress.kubernetes.io/cookie-based-affinity: "true" and cookie-based-affinity-distinct-name: "true" for a per-service cookie name (appgw-affinity-<hash>); there is no cookie-name annotation.`,
	Source:  "AGIC docs/annotations.md; pkg/appgw/backendhttpsettings.go:283"}

var agic003 = &Rule{ID: "AGIC-003", Severity: Warn, Kinds: []string{KindIngress}, Family: "Azure AGIC",
	Title:  "cookie-based-affinity-distinct-name has no effect without cookie-based-affinity",
	Fix:    `add appgw.ingress.kubernetes.io/cookie-based-affinity: "true"`,
	Source: "AGIC docs/annotations.md §Distinct cookie name"}

var agicRules = []*Rule{agic001, agic002, agic003}

// agicAffinityKey reports appgw annotations that look like affinity settings,
// known or not (AGIC-002, X-001).
func agicAffinityKey(k string) bool {
	n, ok := strings.CutPrefix(k, agicPrefix)
	if !ok {
		return false
	}
	n = strings.ToLower(n)
	for _, w := range []string{"affinity", "afinity", "cookie", "sticky", "session"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func validateIngressAGIC(ing, old *networkingv1.Ingress, ctx *Context) (field.ErrorList, Warnings) {
	if !appliesTo(ctx.Related.Controller, ControllerAGIC) {
		return nil, nil
	}
	var f findings
	a := ing.Annotations
	flags := map[string]bool{}
	for _, k := range []string{agicAffinity, agicDistinctName} {
		v, ok := a[k]
		if !ok {
			continue
		}
		b, valid := parseBool(v)
		if !valid {
			f.invalid(agic001, annPath(k), echoValue(v), "")
		}
		flags[k] = b
	}
	for _, k := range slices.Sorted(maps.Keys(a)) {
		if k != agicAffinity && k != agicDistinctName && agicAffinityKey(k) {
			f.warn(agic002, annPath(k), nil, "")
		}
	}
	if flags[agicDistinctName] && !flags[agicAffinity] {
		f.warn(agic003, annPath(agicDistinctName), nil, "")
	}
	return f.result()
}
