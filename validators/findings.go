package validators

import (
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Warning is a finding that does not deny the request. It stays structured
// until rendered: the rule ID is a field of its own, never part of Detail.
type Warning struct {
	Rule   string      // rule ID
	Field  *field.Path // where, or nil
	Value  any         // the offending value, if any
	Detail string      // "<what is wrong>; fix: <rule fix>", without the ID
}

// Message renders "<ID>: <detail>; fix: <fix>".
func (w Warning) Message() string { return withID(w.Rule, w.Detail) }

// String renders a warning the way admission responses and `check` show it.
func (w Warning) String() string {
	if w.Field == nil {
		return w.Message()
	}
	return w.Field.String() + ": " + w.Message()
}

// withID prefixes a finding's text with its rule ID, the rendered form.
func withID(id, detail string) string {
	if id == "" {
		return detail
	}
	return id + ": " + detail
}

// Rendered returns a copy of a deny finding as clients see it: its Detail
// prefixed with the rule ID (kept in Origin until here). Every edge that
// shows a field error (the 422 adapter, `check`, the audit) renders it so.
func Rendered(e *field.Error) *field.Error {
	c := *e
	c.Detail = withID(e.Origin, e.Detail)
	return &c
}

// RenderedList renders every deny finding of errs (see Rendered).
func RenderedList(errs field.ErrorList) field.ErrorList {
	out := make(field.ErrorList, len(errs))
	for i, e := range errs {
		out[i] = Rendered(e)
	}
	return out
}

// renderedLen is the length of a field error's text once rendered.
func renderedLen(e *field.Error) int {
	if e.Origin == "" {
		return len(e.Error())
	}
	return len(e.Error()) + len(e.Origin) + len(": ")
}

// Warnings is the second return value of every rule function.
type Warnings []Warning

// findings collects what one rule function finds. Rule functions build one,
// report into it, and return f.errs, f.warns.
type findings struct {
	errs  field.ErrorList
	warns Warnings
}

// message composes "<detail>; fix: <fix>"; the rule ID is rendered at the
// edge (Warning.Message, Rendered).
func message(r *Rule, detail string) string {
	var b strings.Builder
	if detail == "" {
		detail = r.Title
	}
	b.WriteString(detail)
	if r.Fix != "" {
		b.WriteString("; fix: ")
		b.WriteString(r.Fix)
	}
	return b.String()
}

// MessageBudget is the length of one rendered finding ("<field>: <what>"
// for a warning, the field error's full text for a denial): the API server
// cuts every warning to 256 characters once a response's warnings pass
// 4 KiB, so the rule ID, what is wrong and the fix must fit in it.
const MessageBudget = 256

// report files a finding under the rule's default severity. For deny rules
// mk builds the typed field error from the composed message.
func (f *findings) report(r *Rule, p *field.Path, v any, detail string, mk func(msg string) *field.Error) {
	if r.Severity == Warn {
		f.warn(r, p, v, detail)
		return
	}
	f.errs = append(f.errs, fitError(r, detail, mk))
}

// fitError builds the field error and keeps its text within MessageBudget:
// first the echoed value is shortened (or left out), then what is wrong;
// the rule ID and the fix are kept.
func fitError(r *Rule, detail string, mk func(msg string) *field.Error) *field.Error {
	e := mk(message(r, detail)).WithOrigin(r.ID)
	over := renderedLen(e) - MessageBudget
	if over <= 0 {
		return e
	}
	if s, ok := e.BadValue.(string); ok {
		if keep := len(s) - over - len("..."); keep >= 8 {
			e.BadValue = clipTo(s, keep)
			return e
		}
		e.BadValue = field.OmitValueType{}
		if over = renderedLen(e) - MessageBudget; over <= 0 {
			return e
		}
	}
	e.Detail = message(r, shorten(detailOr(r, detail), over))
	if over = renderedLen(e) - MessageBudget; over > 0 { // only for absurdly long field paths
		e.Detail = clipTo(e.Detail, max(len(e.Detail)-over-len("..."), 0))
	}
	return e
}

// fitWarning keeps "<field>: <message>" within MessageBudget by shortening
// what is wrong; the rule ID and the fix are kept.
func fitWarning(r *Rule, w Warning, detail string) Warning {
	over := len(w.String()) - MessageBudget
	if over <= 0 {
		return w
	}
	w.Detail = message(r, shorten(detailOr(r, detail), over))
	if over = len(w.String()) - MessageBudget; over > 0 { // only for absurdly long field paths
		w.Detail = clipTo(w.Detail, max(len(w.Detail)-over-len("..."), 0))
	}
	return w
}

// fitConverted keeps a warning that a policy turned into a denial within
// MessageBudget: the error adds its type and value to the warning's text, so
// the value goes first, then the middle of what is wrong ("<ID>: <what>;
// fix: <fix>" keeps its ID and fix).
func fitConverted(e *field.Error) *field.Error {
	over := renderedLen(e) - MessageBudget
	if over <= 0 {
		return e
	}
	if e.BadValue != nil {
		e.BadValue = field.OmitValueType{}
		if over = renderedLen(e) - MessageBudget; over <= 0 {
			return e
		}
	}
	if what, fix, hasFix := strings.Cut(e.Detail, "; fix: "); hasFix {
		e.Detail = shorten(what, over) + "; fix: " + fix
	}
	if over = renderedLen(e) - MessageBudget; over > 0 {
		e.Detail = clipTo(e.Detail, max(len(e.Detail)-over-len("..."), 0))
	}
	return e
}

func detailOr(r *Rule, detail string) string {
	if detail == "" {
		return r.Title
	}
	return detail
}

// shorten drops over bytes (and room for "...") from the end of s.
func shorten(s string, over int) string {
	return clipTo(s, max(len(s)-over-len("..."), 0))
}

// invalid reports a bad value (field.Invalid when the rule denies).
func (f *findings) invalid(r *Rule, p *field.Path, v any, detail string) {
	f.report(r, p, v, detail, func(msg string) *field.Error { return field.Invalid(p, v, msg) })
}

// notSupported reports a value outside an enum (field.NotSupported). The
// rule's fix names the valid values, so the detail does not list them again.
func (f *findings) notSupported(r *Rule, p *field.Path, v any, valid []string, detail string) {
	f.report(r, p, v, detail, func(msg string) *field.Error {
		e := field.NotSupported(p, v, valid)
		e.Detail = msg
		return e
	})
}

// required reports a missing value (field.Required).
func (f *findings) required(r *Rule, p *field.Path, detail string) {
	f.report(r, p, nil, detail, func(msg string) *field.Error { return field.Required(p, msg) })
}

// forbidden reports a value that must not be there (field.Forbidden).
func (f *findings) forbidden(r *Rule, p *field.Path, detail string) {
	f.report(r, p, nil, detail, func(msg string) *field.Error { return field.Forbidden(p, msg) })
}

// warn reports a finding of a warn rule (or a deny rule's soft variant).
func (f *findings) warn(r *Rule, p *field.Path, v any, detail string) {
	w := Warning{Rule: r.ID, Field: p, Value: v, Detail: message(r, detail)}
	f.warns = append(f.warns, fitWarning(r, w, detail))
}

func (f *findings) result() (field.ErrorList, Warnings) { return f.errs, f.warns }

// RuleOf returns the rule ID a field error was filed under.
func RuleOf(e *field.Error) string { return e.Origin }

// annPath is the field path of an annotation.
func annPath(key string) *field.Path {
	return field.NewPath("metadata", "annotations").Key(key)
}

// labelPath is the field path of a label.
func labelPath(key string) *field.Path {
	return field.NewPath("metadata", "labels").Key(key)
}

// clipValue shortens an echoed value to 64 bytes (at a rune boundary) so
// messages stay readable and bounded whatever the request carried.
func clipValue(s string) string { return clipTo(s, 64) }

// clipTo shortens an echoed string to at most limit bytes (at a rune
// boundary, "..." appended) where a long field path leaves less room than
// clipValue's 64 bytes in a 256-character message.
func clipTo(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
