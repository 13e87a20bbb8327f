package validators

import (
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/policy"
)

var idRe = regexp.MustCompile(`^[A-Z]+-D?\d{3}$|^[A-Z]+-D\d{2}$`)

func TestCatalogIsWellFormed(t *testing.T) {
	all := Catalog()
	assert.NotEmpty(t, all)
	for _, r := range all {
		assert.Regexp(t, idRe, r.ID)
		assert.Contains(t, []Severity{Deny, Warn}, r.Severity, r.ID)
		assert.NotEmpty(t, r.Kinds, r.ID)
		assert.NotEmpty(t, r.Family, r.ID)
		assert.NotEmpty(t, r.Title, r.ID)
		assert.NotEmpty(t, r.Fix, "%s needs a how-to-fix line", r.ID)
		assert.NotEmpty(t, r.Source, r.ID)
		assert.NotContains(t, r.Fix, "\n", r.ID)
		got, ok := RuleByID(r.ID)
		assert.True(t, ok)
		assert.Same(t, r, got)
		if strings.Contains(r.ID, "-D") {
			assert.True(t, r.Offline, "%s: -D IDs are offline (API-duplicate) rules", r.ID)
		}
	}
	assert.False(t, KnownRule("NOPE-001"))
}

// exercised records every rule ID a test saw in a finding (assertFindings
// and assertRule record into it). TestMain fails the package when a rule in
// the catalog never fired in any test, so every rule has a failing case.
var exercised sync.Map

func record(id string) { exercised.Store(id, true) }

// firedOutsideValidators are default-filling rules whose finding is the
// mutation itself; engine/'s tests cover them.
var firedOutsideValidators = map[string]bool{"SVC-008": true}

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && !isFiltered() {
		var missing []string
		for _, r := range Catalog() {
			if _, ok := exercised.Load(r.ID); !ok && !firedOutsideValidators[r.ID] {
				missing = append(missing, r.ID)
			}
		}
		if len(missing) > 0 {
			println("rules without a failing test case:", strings.Join(missing, ", "))
			code = 1
		}
	}
	os.Exit(code)
}

// isFiltered reports a run restricted by -run/-fuzz, where not every test runs.
func isFiltered() bool {
	for _, a := range os.Args {
		if strings.HasPrefix(a, "-test.run") || strings.HasPrefix(a, "-test.fuzz") || strings.HasPrefix(a, "-test.bench") {
			return true
		}
	}
	return false
}

func TestApplyOverrides(t *testing.T) {
	p := policy.Default()
	p.Rules = map[string]policy.Override{"SVC-001": policy.OverrideWarn, "SVC-009": policy.OverrideDeny, "SVC-003": policy.OverrideDisabled}
	errs := field.ErrorList{field.Invalid(field.NewPath("spec", "selector").Key("sessionAffinity"), "ClientIP", "x").WithOrigin("SVC-001")}
	warns := Warnings{
		{Rule: "SVC-009", Field: field.NewPath("spec", "sessionAffinity"), Detail: "y"},
		{Rule: "SVC-003", Field: field.NewPath("spec"), Detail: "z"},
	}
	e, w := ApplyOverrides(errs, warns, p)
	if assert.Len(t, e, 1) {
		assert.Equal(t, "SVC-009", e[0].Origin)
		assert.Equal(t, "spec.sessionAffinity", e[0].Field)
	}
	if assert.Len(t, w, 1) {
		assert.Equal(t, "SVC-001", w[0].Rule)
		assert.Equal(t, "spec.selector[sessionAffinity]", w[0].Field.String())
	}
}
