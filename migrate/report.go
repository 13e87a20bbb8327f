package migrate

import (
	"fmt"
	"io"
	"strings"
)

// Rule is a kind of migration finding. The IDs are the migration rows of
// ../shared/GATEWAY-FACTS.md §F.4.
type Rule struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

var (
	mig001 = Rule{"MIG-001", "Existing sticky sessions are not carried over: no target reads ingress-nginx cookie values, so every client is balanced anew at cutover."}
	mig002 = Rule{"MIG-002", "Route sessionPersistence exists only in the experimental-channel Gateway API CRDs; with standard CRDs it is pruned and the route is not sticky."}
	mig003 = Rule{"MIG-003", "Where a controller would accept and ignore route sessionPersistence (Istio, Traefik, Envoy Gateway on GRPCRoute), its own mechanism is written instead."}
	mig004 = Rule{"MIG-004", "An annotation the target cannot express is dropped; the report names the nearest workaround."}
	mig005 = Rule{"MIG-005", "A regex path without session-cookie-path: ingress-nginx made the regex the cookie Path (never sent back); the target uses a literal prefix, a broader scope."}
	mig006 = Rule{"MIG-006", "session-cookie-expires / max-age that is not a positive integer has no valid duration: a session cookie is written."}
	mig007 = Rule{"MIG-007", "With affinity: cookie, ingress-nginx ignores upstream-hash-by; only the cookie is migrated."}
)

// Rules lists the migration findings.
func Rules() []Rule { return []Rule{mig001, mig002, mig003, mig004, mig005, mig006, mig007} }

// Report is what the migration kept, changed and lost. Its JSON form is for
// tools; keep it stable.
type Report struct {
	Target string `json:"target"`
	// GatewayAPI is the Gateway API version whose sessionPersistence shape
	// was written, and why ("" when the target writes no route).
	GatewayAPI string         `json:"gatewayAPI,omitempty"`
	Notes      []Note         `json:"notes"`
	Objects    []ObjectReport `json:"objects"`
	// Unmatched lists the Ingress paths with affinity that no rule of the
	// --onto routes matched.
	Unmatched []Unmatched `json:"unmatched"`
	Summary   Summary     `json:"summary"`
}

// Note is a finding about the whole migration.
type Note struct {
	Rule    string `json:"rule,omitempty"`
	Message string `json:"message"`
}

// ObjectReport is one Ingress: how it was carried and, per annotation, what
// was kept.
type ObjectReport struct {
	Source    string `json:"source"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Mechanism is the table column used ("" when nothing was written).
	Mechanism Column `json:"mechanism,omitempty"`
	// Outputs are the objects written or changed for it (Kind/namespace/name).
	Outputs []string `json:"outputs"`
	Items   []Item   `json:"items"`
	// Skipped says why nothing was migrated ("" when something was).
	Skipped string `json:"skipped,omitempty"`
}

// Item is one annotation (or behaviour) of an Ingress on the target.
type Item struct {
	Aspect     Aspect  `json:"aspect"`
	Annotation string  `json:"annotation,omitempty"`
	Value      string  `json:"value,omitempty"`
	Verdict    Verdict `json:"verdict"`
	Note       string  `json:"note"`
	Workaround string  `json:"workaround,omitempty"`
	Rule       string  `json:"rule,omitempty"`
}

// Unmatched is an Ingress path --onto found no route rule for.
type Unmatched struct {
	Namespace string `json:"namespace"`
	Ingress   string `json:"ingress"`
	Host      string `json:"host"`
	Path      string `json:"path"`
	Backend   string `json:"backend"`
	Reason    string `json:"reason"`
}

// Summary counts the items by verdict.
type Summary struct {
	Exact       int `json:"exact"`
	Approximate int `json:"approximate"`
	Lost        int `json:"lost"`
	Unmatched   int `json:"unmatched"`
}

// Lost reports whether anything was lost: a lost item or an unmatched path.
func (r *Report) Lost() bool { return r.Summary.Lost > 0 || r.Summary.Unmatched > 0 }

func (r *Report) finish() {
	r.Summary = Summary{Unmatched: len(r.Unmatched)}
	for _, o := range r.Objects {
		for _, it := range o.Items {
			switch it.Verdict {
			case Exact:
				r.Summary.Exact++
			case Approximate:
				r.Summary.Approximate++
			case Lost:
				r.Summary.Lost++
			}
		}
	}
	if r.Notes == nil {
		r.Notes = []Note{}
	}
	if r.Objects == nil {
		r.Objects = []ObjectReport{}
	}
	if r.Unmatched == nil {
		r.Unmatched = []Unmatched{}
	}
}

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "migrate --to %s", r.Target)
	if r.GatewayAPI != "" {
		fmt.Fprintf(&b, " (Gateway API %s)", r.GatewayAPI)
	}
	b.WriteString("\n")
	for _, n := range r.Notes {
		b.WriteString("  note: ")
		if n.Rule != "" {
			b.WriteString(n.Rule + ": ")
		}
		b.WriteString(n.Message + "\n")
	}
	for _, o := range r.Objects {
		fmt.Fprintf(&b, "\nIngress %s (%s)", qualified(o.Namespace, o.Name), o.Source)
		if o.Mechanism != "" {
			fmt.Fprintf(&b, " via %s", o.Mechanism)
		}
		b.WriteString("\n")
		if o.Skipped != "" {
			fmt.Fprintf(&b, "  skipped: %s\n", o.Skipped)
		}
		if len(o.Outputs) > 0 {
			fmt.Fprintf(&b, "  writes: %s\n", strings.Join(o.Outputs, ", "))
		}
		for _, it := range o.Items {
			what := string(it.Aspect)
			if it.Annotation != "" {
				what = it.Annotation
				if it.Value != "" {
					what += "=" + it.Value
				}
			}
			fmt.Fprintf(&b, "  %-11s %s: %s", it.Verdict, what, it.Note)
			if it.Workaround != "" {
				fmt.Fprintf(&b, " (nearest: %s)", it.Workaround)
			}
			if it.Rule != "" {
				fmt.Fprintf(&b, " [%s]", it.Rule)
			}
			b.WriteString("\n")
		}
	}
	if len(r.Unmatched) > 0 {
		b.WriteString("\nIngress paths no --onto rule matched (nothing was written for them):\n")
		for _, u := range r.Unmatched {
			fmt.Fprintf(&b, "  %s host %q path %q -> %s: %s\n", qualified(u.Namespace, u.Ingress), u.Host, u.Path, u.Backend, u.Reason)
		}
	}
	s := r.Summary
	fmt.Fprintf(&b, "\n%d exact, %d approximate, %d lost, %d unmatched\n", s.Exact, s.Approximate, s.Lost, s.Unmatched)
	_, err := io.WriteString(w, b.String())
	return err
}

func qualified(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}
