package validators

import (
	"fmt"
	"slices"
	"sync"
)

// Severity is what a finding does to an admission request.
type Severity string

// Severities.
const (
	Deny Severity = "deny"
	Warn Severity = "warn"
)

// Kind names used in Rule.Kinds.
const (
	KindService       = "Service"
	KindIngress       = "Ingress"
	KindDeployment    = "Deployment"
	KindStatefulSet   = "StatefulSet"
	KindBackendConfig = "BackendConfig"
	// Custom resources (apis/).
	KindHTTPRoute             = "HTTPRoute"
	KindGRPCRoute             = "GRPCRoute"
	KindXBackendTrafficPolicy = "XBackendTrafficPolicy"
	KindBackendLBPolicy       = "BackendLBPolicy"
	KindEnvoyBTP              = "BackendTrafficPolicy" // Envoy Gateway
	KindDestinationRule       = "DestinationRule"
	KindGCPBackendPolicy      = "GCPBackendPolicy"
)

// Rule describes one rule of the catalog.
type Rule struct {
	// ID is stable across releases, e.g. "NGX-013".
	ID string
	// Severity is the default effect; a policy may override it.
	Severity Severity
	// Kinds the rule is evaluated on.
	Kinds []string
	// Family groups rules in docs ("Service", "ingress-nginx", "Huawei CCE", ...).
	Family string
	// Title says what the rule catches, in one line.
	Title string
	// Fix says how to fix it, in one line; every message includes it.
	Fix string
	// Explain is the longer why (upstream behaviour, edge cases). It is shown
	// in docs/rules.md only, never in a message: admission warnings are cut
	// to 256 characters, so messages carry only ID, what is wrong and the fix.
	Explain string
	// Source names the upstream code or document the rule rests on.
	Source string
	// Offline marks rules that only `stickyguard check` runs: the API server
	// already enforces them (or drops the field) before admission.
	Offline bool
	// Default marks rules whose main effect is filling a default (a mutation);
	// their Severity applies when the default cannot be filled.
	Default bool
}

var catalogOnce = sync.OnceValue(func() []*Rule {
	var all []*Rule
	seen := map[string]bool{}
	for _, fam := range families {
		for _, r := range fam.rules {
			if seen[r.ID] {
				panic(fmt.Sprintf("validators: duplicate rule ID %s", r.ID))
			}
			seen[r.ID] = true
			all = append(all, r)
		}
	}
	slices.SortFunc(all, func(a, b *Rule) int { return compareIDs(a.ID, b.ID) })
	return all
})

// Catalog returns every rule, sorted by ID. The slice is shared: do not modify.
func Catalog() []*Rule { return catalogOnce() }

var indexOnce = sync.OnceValue(func() map[string]*Rule {
	m := map[string]*Rule{}
	for _, r := range Catalog() {
		m[r.ID] = r
	}
	return m
})

// RuleByID returns the rule with the given ID.
func RuleByID(id string) (*Rule, bool) {
	r, ok := indexOnce()[id]
	return r, ok
}

// KnownRule reports whether id names a rule; policy parsing uses it.
func KnownRule(id string) bool {
	_, ok := RuleByID(id)
	return ok
}

// compareIDs orders "NGX-002" before "NGX-010" and families alphabetically.
func compareIDs(a, b string) int {
	pa, na := splitID(a)
	pb, nb := splitID(b)
	if pa != pb {
		if pa < pb {
			return -1
		}
		return 1
	}
	if na != nb {
		if na < nb {
			return -1
		}
		return 1
	}
	if a < b {
		return -1
	} else if a > b {
		return 1
	}
	return 0
}

func splitID(id string) (string, int) {
	for i := len(id) - 1; i >= 0; i-- {
		if id[i] == '-' {
			n := 0
			for _, c := range id[i+1:] {
				if c < '0' || c > '9' {
					return id, 0
				}
				n = n*10 + int(c-'0')
			}
			return id[:i], n
		}
	}
	return id, 0
}
