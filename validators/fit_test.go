package validators

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/policy"
)

// TestFindingsFitTheBudget drives the generic fitting with the worst inputs a
// request can carry (a long annotation key, a long value, a long detail):
// every rendered form stays within MessageBudget and keeps ID and fix.
func TestFindingsFitTheBudget(t *testing.T) {
	r := &Rule{ID: "TST-001", Severity: Deny, Title: "a test rule", Fix: "set the value to something short"}
	w := &Rule{ID: "TST-002", Severity: Warn, Title: "a test warning", Fix: "set the value to something short"}
	key := "example.com/" + strings.Repeat("k", 60)
	long := strings.Repeat("v", 64) + "..."
	what := "the value " + strings.Repeat("is far too long and ", 8) + "breaks things"
	check := func(name, rendered, id string) {
		t.Helper()
		assert.LessOrEqual(t, len(rendered), MessageBudget, "%s: %s", name, rendered)
		assert.Contains(t, rendered, id+": ", name)
		assert.Contains(t, rendered, "; fix: set the value to something short", name)
	}
	var f findings
	f.invalid(r, annPath(key), long, what)
	f.notSupported(r, annPath(key), long, []string{"a", "b"}, what)
	f.required(r, annPath(key), what)
	f.warn(w, annPath(key), long, what)
	for _, e := range f.errs {
		check(string(e.Type), Rendered(e).Error(), r.ID)
	}
	check("warning", f.warns[0].String(), w.ID)

	// A warning that the policy turns into a denial gains a type and value.
	pol := policy.Default()
	pol.Rules = map[string]policy.Override{w.ID: policy.OverrideDeny}
	errs, _ := ApplyOverrides(nil, f.warns, pol)
	if assert.Len(t, errs, 1) {
		check("warning denied by policy", Rendered(errs[0]).Error(), w.ID)
	}

	// Short findings are left exactly as written.
	var g findings
	g.invalid(r, field.NewPath("spec", "x"), "v", "bad")
	assert.Equal(t, `spec.x: Invalid value: "v": TST-001: bad; fix: set the value to something short`, Rendered(g.errs[0]).Error())
}
