package audit

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"

	"github.com/stickyguard/stickyguard/engine"
	"github.com/stickyguard/stickyguard/internal/sticky"
	"github.com/stickyguard/stickyguard/validators"
)

// Result values of a finding, as PolicyReports spell them.
const (
	ResultFail = "fail" // enforce mode would deny the object
	ResultWarn = "warn" // a warning, or a default enforce mode would set
	ResultSkip = "skip" // the object is exempt (stickyguard.io/ignore)
)

// Finding is one thing the audit found on one object.
type Finding struct {
	Rule    string // rule ID; "" for an exemption
	Result  string // ResultFail, ResultWarn or ResultSkip
	Field   string // field path, when the finding has one
	Message string
	Doc     *engine.Document
	UID     types.UID
}

// Findings flattens checked objects into findings: deny findings first, then
// warnings (including the defaults enforce mode would set), per object, and
// one skip finding per exempt object.
func Findings(checked []engine.Checked) []Finding {
	var out []Finding
	for _, c := range checked {
		var uid types.UID
		if m, err := meta.Accessor(c.Doc.Object); err == nil {
			uid = m.GetUID()
		}
		if c.Result.Exempt != "" {
			out = append(out, Finding{Result: ResultSkip, Message: "exempt (" + sticky.AnnIgnore + "): " + c.Result.Exempt, Doc: c.Doc, UID: uid})
			continue
		}
		for _, e := range c.Result.Errors {
			out = append(out, Finding{Rule: validators.RuleOf(e), Result: ResultFail, Field: e.Field, Message: validators.Rendered(e).ErrorBody(), Doc: c.Doc, UID: uid})
		}
		for _, w := range c.Result.Warnings {
			f := Finding{Rule: w.Rule, Result: ResultWarn, Message: w.Message(), Doc: c.Doc, UID: uid}
			if w.Field != nil {
				f.Field = w.Field.String()
			}
			out = append(out, f)
		}
	}
	return out
}

// severity maps a rule's catalog severity to a PolicyReport severity.
func severity(rule string) string {
	r, ok := validators.RuleByID(rule)
	switch {
	case !ok:
		return "info"
	case r.Severity == validators.Deny:
		return "high"
	default:
		return "medium"
	}
}

// category is the rule's family ("Service", "ingress-nginx", ...).
func category(rule string) string {
	if r, ok := validators.RuleByID(rule); ok {
		return r.Family
	}
	return ""
}
