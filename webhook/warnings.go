package webhook

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/engine"
	"github.com/stickyguard/stickyguard/internal/sticky"
	"github.com/stickyguard/stickyguard/validators"
)

// Bounds on what goes back to the API server. Warnings end up in HTTP
// headers and kubectl output; the API server truncates each to 256 runes
// once they exceed 4 KiB in total, so stay within that ourselves.
const (
	maxWarningRunes     = 256
	maxWarnings         = 15
	maxReasonRunes      = 200
	maxAnnotationRunes  = 256
	maxAuditAnnotations = 16
)

// Audit annotation keys. The API server prefixes each with the webhook name,
// so the audit log shows e.g. "services.audit.stickyguard.io/would-deny-1"
// (validating) and "services.stickyguard.io/would-set-1" (mutating).
const (
	auditKeyWouldDeny = "would-deny-"
	auditKeyWouldSet  = "would-set-"
	auditKeyExempt    = "exempt"
)

// sanitize removes control characters and invalid UTF-8 (nothing from the
// request is rendered or executed, but it must not break headers or logs)
// and clips the text to max runes, ending clipped text with "...".
func sanitize(s string, max int) string {
	if fits(s, max) {
		return s
	}
	rs := make([]rune, 0, max+1)
	for _, r := range strings.ToValidUTF8(s, "") {
		if unicode.IsControl(r) {
			r = ' '
		}
		rs = append(rs, r)
		if len(rs) > max {
			break
		}
	}
	if len(rs) > max {
		keep := max - 3
		if keep < 0 {
			keep = 0
		}
		rs = append(rs[:keep], []rune("...")[:max-keep]...)
	}
	return string(rs)
}

// fits reports whether s is valid UTF-8 without control characters and at
// most max runes long.
func fits(s string, max int) bool {
	if !utf8.ValidString(s) {
		return false
	}
	n := 0
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
		n++
	}
	return n <= max
}

// ruleWarning renders a warning finding (or a mutation report in enforce
// mode) as "<RULE> <field>: <message>".
func ruleWarning(w validators.Warning) string {
	if w.Field == nil {
		return w.Rule + ": " + w.Detail
	}
	return w.Rule + " " + w.Field.String() + ": " + w.Detail
}

// auditDeny renders a deny finding in audit mode.
func auditDeny(e *field.Error) string {
	rule := validators.RuleOf(e)
	if rule == "" {
		rule = string(e.Type)
	}
	return "[audit] would deny " + rule + ": " + e.Field + ": " + e.Detail
}

// auditSet renders a withheld mutation in audit mode.
func auditSet(m engine.Mutation) string {
	return "[audit] would set " + m.Field.String() + "=" + m.Value + " (" + m.Rule + ")"
}

// exemptWarning names the exemption and its (sanitised) reason.
func exemptWarning(kind, reason string) string {
	return fmt.Sprintf("stickyguard: this %s is exempt from stickyguard's rules by %s; reason: %q",
		kind, sticky.AnnIgnore, sanitize(reason, maxReasonRunes))
}

// notes collects the warnings and audit annotations of one response:
// sanitised, clipped, deduplicated and bounded in number.
type notes struct {
	warnings    []string
	dropped     int
	annotations map[string]string
	nDeny, nSet int
}

func (n *notes) warn(s string) {
	s = sanitize(s, maxWarningRunes)
	if s == "" {
		return
	}
	for _, w := range n.warnings {
		if w == s {
			return
		}
	}
	if len(n.warnings) >= maxWarnings {
		n.dropped++
		return
	}
	n.warnings = append(n.warnings, s)
}

// list returns the warnings, with a last line counting those left out.
func (n *notes) list() []string {
	if n.dropped > 0 {
		return append(n.warnings, fmt.Sprintf("stickyguard: %d more warnings not shown (run `stickyguard check` on the manifest for all findings)", n.dropped))
	}
	return n.warnings
}

func (n *notes) annotate(key, value string) {
	if n.annotations == nil {
		n.annotations = map[string]string{}
	}
	if len(n.annotations) >= maxAuditAnnotations {
		return
	}
	n.annotations[key] = sanitize(value, maxAnnotationRunes)
}

// wouldDeny records an audit-mode denial as a warning and an annotation.
func (n *notes) wouldDeny(e *field.Error) {
	s := auditDeny(e)
	n.warn(s)
	n.nDeny++
	n.annotate(auditKeyWouldDeny+strconv.Itoa(n.nDeny), s)
}

// wouldSet records an audit-mode mutation as a warning and an annotation.
func (n *notes) wouldSet(m engine.Mutation) {
	s := auditSet(m)
	n.warn(s)
	n.nSet++
	n.annotate(auditKeyWouldSet+strconv.Itoa(n.nSet), s)
}
