package validators

import (
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Warning is a finding that does not deny the request.
type Warning struct {
	Rule    string      // rule ID
	Field   *field.Path // where, or nil
	Value   any         // the offending value, if any
	Message string      // "<ID>: <detail>; fix: <rule fix>"
}

// String renders a warning the way admission responses and `check` show it.
func (w Warning) String() string {
	if w.Field == nil {
		return w.Message
	}
	return w.Field.String() + ": " + w.Message
}

// Warnings is the second return value of every rule function.
type Warnings []Warning

// findings collects what one rule function finds. Rule functions build one,
// report into it, and return f.errs, f.warns.
type findings struct {
	errs  field.ErrorList
	warns Warnings
}

// message composes "<ID>: <detail>; fix: <fix>".
func message(r *Rule, detail string) string {
	var b strings.Builder
	b.WriteString(r.ID)
	b.WriteString(": ")
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

// report files a finding under the rule's default severity. For deny rules
// mk builds the typed field error from the composed message.
func (f *findings) report(r *Rule, p *field.Path, v any, detail string, mk func(msg string) *field.Error) {
	msg := message(r, detail)
	if r.Severity == Warn {
		f.warns = append(f.warns, Warning{Rule: r.ID, Field: p, Value: v, Message: msg})
		return
	}
	f.errs = append(f.errs, mk(msg).WithOrigin(r.ID))
}

// invalid reports a bad value (field.Invalid when the rule denies).
func (f *findings) invalid(r *Rule, p *field.Path, v any, detail string) {
	f.report(r, p, v, detail, func(msg string) *field.Error { return field.Invalid(p, v, msg) })
}

// notSupported reports a value outside an enum (field.NotSupported).
func (f *findings) notSupported(r *Rule, p *field.Path, v any, valid []string, detail string) {
	f.report(r, p, v, detail, func(msg string) *field.Error {
		e := field.NotSupported(p, v, valid)
		e.Detail = e.Detail + ": " + msg
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
	f.warns = append(f.warns, Warning{Rule: r.ID, Field: p, Value: v, Message: message(r, detail)})
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
