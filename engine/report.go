package engine

import (
	"fmt"
	"io"
	"strings"

	"gomodules.xyz/jsonpatch/v2"

	"github.com/stickyguard/stickyguard/validators"
)

// Report is the machine-readable output of `check -o json` (and `audit -o
// json`): exactly one JSON document. Keep it stable: users parse it in CI.
type Report struct {
	Results []ReportResult  `json:"results"`
	Skipped []ReportSkipped `json:"skipped"`
}

// ReportResult is one checked object.
type ReportResult struct {
	Source     string                `json:"source"`
	APIVersion string                `json:"apiVersion"`
	Kind       string                `json:"kind"`
	Namespace  string                `json:"namespace"`
	Name       string                `json:"name"`
	Allowed    bool                  `json:"allowed"`
	Exempt     string                `json:"exempt,omitempty"`
	Violations []ReportViolation     `json:"violations"`
	Warnings   []ReportWarning       `json:"warnings"`
	Patch      []jsonpatch.Operation `json:"patch"`
}

// ReportViolation is one deny finding.
type ReportViolation struct {
	Rule    string `json:"rule"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ReportWarning is one warning (a warn finding or a default that was set).
type ReportWarning struct {
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// ReportSkipped is an object whose kind is not checked.
type ReportSkipped struct {
	Source     string `json:"source"`
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace"`
	Name       string `json:"name"`
	Reason     string `json:"reason"`
}

// NewReport builds the report for a checked set.
func NewReport(checked []Checked, skipped []*Document) *Report {
	rep := &Report{Results: make([]ReportResult, 0, len(checked)), Skipped: make([]ReportSkipped, 0, len(skipped))}
	for _, c := range checked {
		d := c.Doc
		rr := ReportResult{
			Source: d.Source, APIVersion: d.APIVersion, Kind: d.Kind, Namespace: d.Namespace, Name: d.Name,
			Allowed: c.Allowed(), Exempt: c.Result.Exempt,
			Violations: make([]ReportViolation, 0, len(c.Result.Errors)),
			Warnings:   make([]ReportWarning, 0, len(c.Result.Warnings)),
			Patch:      c.Patch,
		}
		if rr.Patch == nil {
			rr.Patch = []jsonpatch.Operation{}
		}
		for _, e := range c.Result.Errors {
			rr.Violations = append(rr.Violations, ReportViolation{Rule: e.Origin, Field: e.Field, Message: validators.Rendered(e).ErrorBody()})
		}
		for _, w := range c.Result.Warnings {
			rr.Warnings = append(rr.Warnings, ReportWarning{Rule: w.Rule, Message: w.String()})
		}
		rep.Results = append(rep.Results, rr)
	}
	for _, d := range skipped {
		rep.Skipped = append(rep.Skipped, ReportSkipped{Source: d.Source, APIVersion: d.APIVersion, Kind: d.Kind, Namespace: d.Namespace, Name: d.Name, Reason: d.Skipped})
	}
	return rep
}

// Denied counts the objects enforce mode would deny.
func (r *Report) Denied() int {
	n := 0
	for _, res := range r.Results {
		if !res.Allowed {
			n++
		}
	}
	return n
}

// WriteText prints the report for people: one line per finding,
// "FILE#DOC Kind/ns/name RULE field: message", then a summary line.
func (r *Report) WriteText(w io.Writer) error {
	var warned, patched int
	for _, res := range r.Results {
		obj := fmt.Sprintf("%s/%s/%s", res.Kind, orDash(res.Namespace), res.Name)
		if res.Exempt != "" {
			fmt.Fprintf(w, "%s %s exempt: %s\n", res.Source, obj, oneLine(res.Exempt))
		}
		for _, v := range res.Violations {
			fmt.Fprintf(w, "%s %s %s %s: %s\n", res.Source, obj, v.Rule, v.Field, oneLine(v.Message))
		}
		for _, wn := range res.Warnings {
			fmt.Fprintf(w, "%s %s %s (warning) %s\n", res.Source, obj, wn.Rule, oneLine(wn.Message))
		}
		if len(res.Warnings) > 0 {
			warned++
		}
		if len(res.Patch) > 0 {
			patched++
		}
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(w, "%s %s/%s/%s skipped: %s\n", s.Source, orDash(s.Kind), orDash(s.Namespace), orDash(s.Name), s.Reason)
	}
	_, err := fmt.Fprintf(w, "%d objects checked: %d denied, %d with warnings, %d with defaults set; %d skipped\n",
		len(r.Results), r.Denied(), warned, patched, len(r.Skipped))
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
