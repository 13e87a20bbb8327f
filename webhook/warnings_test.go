package webhook

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/engine"
	"github.com/stickyguard/stickyguard/validators"
)

func TestSanitize(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"plain", 10, "plain"},
		{"tab\there\nnew\x00", 20, "tab here new "},
		{"bad\xffutf8", 20, "badutf8"},
		{"abcdefghij", 10, "abcdefghij"},
		{"abcdefghijk", 10, "abcdefg..."},
		{"ééééééééééé", 5, "éé..."},
		{"\x1b[2Jclear", 20, " [2Jclear"},
	}
	for _, tt := range tests {
		got := sanitize(tt.in, tt.max)
		assert.Equal(t, tt.want, got, "%q", tt.in)
		assert.True(t, utf8.ValidString(got))
		assert.LessOrEqual(t, utf8.RuneCountInString(got), tt.max)
	}
}

func TestNotesDeduplicateAndBound(t *testing.T) {
	var n notes
	n.warn("a")
	n.warn("a")
	n.warn(strings.Repeat("x", 1000))
	assert.Equal(t, []string{"a", strings.Repeat("x", maxWarningRunes-3) + "..."}, n.list())

	n = notes{}
	for i := 0; i < maxWarnings+5; i++ {
		n.warn(strings.Repeat("w", i+1))
	}
	got := n.list()
	assert.Len(t, got, maxWarnings+1)
	assert.Equal(t, "stickyguard: 5 more warnings not shown (run `stickyguard check` on the manifest for all findings)", got[maxWarnings])

	n = notes{}
	for i := 0; i < maxAuditAnnotations+3; i++ {
		n.wouldSet(engine.Mutation{Rule: "SVC-005", Field: field.NewPath("spec", "x"), Value: strings.Repeat("v", i+1)})
	}
	assert.Len(t, n.annotations, maxAuditAnnotations)
	assert.Contains(t, n.annotations, "would-set-1")
	for k, v := range n.annotations {
		assert.NotContains(t, k, "/", "the API server prefixes keys with the webhook name")
		assert.LessOrEqual(t, utf8.RuneCountInString(v), maxAnnotationRunes)
	}
}

func TestFormats(t *testing.T) {
	p := field.NewPath("spec", "selector").Key("sessionAffinity")
	e := field.Invalid(p, "ClientIP", "the detail; fix: move it").WithOrigin("SVC-001")
	assert.Equal(t, "[audit] would deny SVC-001: spec.selector[sessionAffinity]: the detail; fix: move it", auditDeny(e))
	assert.Equal(t, "[audit] would set spec.externalTrafficPolicy=Local (SVC-005)",
		auditSet(engine.Mutation{Rule: "SVC-005", Field: field.NewPath("spec", "externalTrafficPolicy"), Value: "Local"}))
	assert.Equal(t, "SVC-002 metadata.annotations[x]: detail",
		ruleWarning(validators.Warning{Rule: "SVC-002", Field: field.NewPath("metadata", "annotations").Key("x"), Detail: "detail"}))
	assert.Equal(t, "DEP-002: rollout", ruleWarning(validators.Warning{Rule: "DEP-002", Detail: "rollout"}))
}

func TestResolveMode(t *testing.T) {
	tests := []struct {
		label      string
		found      bool
		forceAudit bool
		want       Mode
		note       bool
	}{
		{"enforce", true, false, ModeEnforce, false},
		{"enforce", true, true, ModeAudit, false},
		{"audit", true, false, ModeAudit, false},
		{"audit", true, true, ModeAudit, false},
		{"Enforce", true, false, ModeOff, true},
		{"", true, false, ModeOff, true},
		{"", false, false, ModeOff, true},
	}
	for _, tt := range tests {
		m, note := resolveMode(tt.label, tt.found, tt.forceAudit, "ns")
		assert.Equal(t, tt.want, m, "%+v", tt)
		assert.Equal(t, tt.note, note != "", "%+v", tt)
	}
}
