//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loadExamples reads testdata/examples and the golden check output.
func loadExamples(t *testing.T) []Example {
	t.Helper()
	dir := filepath.Join(env.Root, "testdata", "examples")
	golden, err := GoldenPath(env.Root, dir)
	require.NoError(t, err)
	exs, err := LoadExamples(dir, golden)
	require.NoError(t, err)
	require.NotEmpty(t, exs)
	return exs
}

// applied is what happened to one example in one namespace.
type applied struct {
	res    result
	stored map[string]any // nil when rejected
}

// testExamples applies every example to an enforce, an audit and an
// unlabelled namespace with kubectl (server-side apply) and compares what
// the cluster did with what `stickyguard check` predicted:
//   - enforce: rejected naming every live violation's rule ID, or admitted
//     with the predicted warnings and the predicted defaults in the stored object;
//   - audit: admitted, "[audit]" warnings naming the rules, nothing set;
//   - unlabelled: admitted, no stickyguard warnings, nothing set.
func testExamples(t *testing.T) {
	exs := loadExamples(t)
	nss := map[string]string{
		enforce: namespace(t, "ex-enforce", enforce),
		audit:   namespace(t, "ex-audit", audit),
		off:     namespace(t, "ex-off", off),
	}
	got := map[string]map[string]applied{enforce: {}, audit: {}, off: {}}
	for _, mode := range []string{enforce, audit, off} {
		for _, ex := range exs {
			if !ex.Applicable() {
				continue
			}
			got[mode][ex.ID()] = applyExample(t, ex, nss[mode], mode)
		}
	}

	for _, ex := range exs {
		t.Run(ex.ID(), func(t *testing.T) {
			if !ex.Intercepted() {
				// BackendConfigs: a CRD kind the webhooks do not review
				// (checked offline and by audit only).
				t.Logf("not reviewed live: %s", whyNotApplicable(ex))
				return
			}
			if !ex.Applicable() {
				assertAPIServerRejects(t, ex, nss[off])
				return
			}
			e, a, o := got[enforce][ex.ID()], got[audit][ex.ID()], got[off][ex.ID()]

			// enforce
			if ex.Denied() {
				require.Error(t, e.res.Err, "enforce must reject (%v)\n%s", ex.LiveViolations(), e.res)
				for _, rule := range ex.LiveViolations() {
					assert.Contains(t, e.res.Stderr, rule, "the rejection names %s", rule)
				}
				assert.Contains(t, e.res.Stderr, "is invalid", "a 422 Invalid with causes, not a bare 403")
				assert.Nil(t, e.stored, "nothing stored")
			} else {
				require.NoError(t, e.res.Err, "enforce must admit\n%s", e.res)
				for _, rule := range ex.LiveWarnings() {
					assert.True(t, anyContains(e.res.Warnings(), rule), "enforce warnings name %s: %q", rule, e.res.Warnings())
				}
				for _, op := range ex.Golden.Patch {
					assertPatched(t, e.stored, op)
				}
			}

			// audit: admitted, warnings say what enforce would do, nothing changed
			require.NoError(t, a.res.Err, "audit must admit\n%s", a.res)
			for _, rule := range ex.LiveViolations() {
				assert.True(t, anyContains(a.res.Warnings(), "[audit]", rule), "audit warns that it would deny %s: %q", rule, a.res.Warnings())
			}
			for _, op := range ex.Golden.Patch {
				assert.True(t, anyContains(a.res.Warnings(), "[audit]", pathField(op.Path)), "audit warns that it would set %s: %q", op.Path, a.res.Warnings())
			}
			for _, rule := range ex.LiveWarnings() {
				assert.True(t, anyContains(a.res.Warnings(), rule), "audit warnings name %s: %q", rule, a.res.Warnings())
			}

			// unlabelled: admitted, silent, untouched
			require.NoError(t, o.res.Err, "an unlabelled namespace admits everything\n%s", o.res)
			for _, w := range o.res.Warnings() {
				assert.NotRegexp(t, `\[audit\]|[A-Z]{2,4}-[0-9D]{2,3}`, w, "no stickyguard warning outside opted-in namespaces")
			}
			for _, op := range ex.Golden.Patch {
				av, aok := lookup(a.stored, op.Path)
				ov, ook := lookup(o.stored, op.Path)
				assert.Equal(t, ook, aok, "audit sets nothing at %s", op.Path)
				assert.Equal(t, ov, av, "audit leaves %s as the API server made it", op.Path)
			}
			if len(ex.Golden.Patch) > 0 {
				untouched := false
				for _, op := range ex.Golden.Patch {
					if v, ok := lookup(o.stored, op.Path); !ok || !contains(v, decodeValue(t, op.Value)) {
						untouched = true
					}
				}
				assert.True(t, untouched, "the unlabelled namespace's object lacks stickyguard's defaults")
			}
		})
	}
}

// assertAPIServerRejects proves the point of the offline-only rules: the
// API server itself refuses a decode-level mistake (a wrong type, or an
// unknown field under kubectl's strict field validation) in any namespace,
// before a webhook could see it, so only `stickyguard check` can report it.
func assertAPIServerRejects(t *testing.T, ex Example, ns string) {
	t.Helper()
	res := kubectl(t, ex.YAML, "-n", ns, "apply", "--server-side", "--field-manager=stickyguard-e2e", "--dry-run=server", "-f", "-")
	require.Error(t, res.Err, "the API server must refuse %s (%s)\n%s", ex.ID(), whyNotApplicable(ex), res)
	assert.NotContains(t, res.Stderr, "stickyguard", "refused by the API server, not by the webhook")
}

func whyNotApplicable(ex Example) string {
	if !ex.Intercepted() {
		return ex.APIVersion + " " + ex.Kind + " is not reviewed by the webhooks"
	}
	return fmt.Sprintf("decode-level mistakes %v only `stickyguard check` sees", ex.Golden.Violations)
}

// applyExample applies one document. In opted-in namespaces it first waits
// (server-side dry-run) until the webhook gives the predicted answer: its
// informer cache may not have seen the objects applied just before (a
// Deployment's Service), and the answer depends on them.
func applyExample(t *testing.T, ex Example, ns, mode string) applied {
	t.Helper()
	args := []string{"-n", ns, "apply", "--server-side", "--field-manager=stickyguard-e2e", "-f", "-"}
	if mode != off {
		deadline := time.Now().Add(20 * time.Second)
		for {
			r := kubectl(t, ex.YAML, append(args, "--dry-run=server")...)
			if answerSettled(ex, mode, r) || time.Now().After(deadline) {
				break
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	r := kubectl(t, ex.YAML, args...)
	out := applied{res: r}
	if r.Err == nil {
		resource := strings.ToLower(ex.Kind)
		if g := apiGroup(ex.APIVersion); g != "" {
			resource += "." + g
		}
		out.stored = getJSON(t, ns, resource, ex.Name)
	}
	return out
}

// answerSettled reports whether a dry-run answer is the predicted one.
func answerSettled(ex Example, mode string, r result) bool {
	if strings.Contains(r.Stderr, "failed calling webhook") {
		return false
	}
	switch {
	case mode == enforce && ex.Denied():
		if r.Err == nil {
			return false
		}
		for _, rule := range ex.LiveViolations() {
			if !strings.Contains(r.Stderr, rule) {
				return false
			}
		}
		return true
	case r.Err != nil:
		return false
	}
	rules := ex.LiveWarnings()
	if mode == audit {
		rules = append(rules, ex.LiveViolations()...)
	}
	for _, rule := range rules {
		if !anyContains(r.Warnings(), rule) {
			return false
		}
	}
	return true
}

func apiGroup(apiVersion string) string {
	if g, _, ok := strings.Cut(apiVersion, "/"); ok {
		return g
	}
	return "" // the core group
}

// anyContains reports whether some line contains every part.
func anyContains(lines []string, parts ...string) bool {
	for _, l := range lines {
		all := true
		for _, p := range parts {
			if !strings.Contains(l, p) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// pathField turns a JSON pointer into the dotted field name the warnings
// use: /spec/template/spec/affinity -> spec.template.spec.affinity.
func pathField(p string) string {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return strings.Join(parts, ".")
}

// assertPatched checks that the stored object carries a patch operation's value.
func assertPatched(t *testing.T, obj map[string]any, op PatchOp) {
	t.Helper()
	want := decodeValue(t, op.Value)
	switch op.Op {
	case "add", "replace":
	default:
		t.Errorf("unexpected patch op %s %s", op.Op, op.Path)
		return
	}
	if strings.HasSuffix(op.Path, "/-") { // appended to a list
		parent, ok := lookup(obj, strings.TrimSuffix(op.Path, "/-"))
		list, isList := parent.([]any)
		require.True(t, ok && isList, "%s is a list in the stored object", op.Path)
		for _, el := range list {
			if contains(el, want) {
				return
			}
		}
		t.Errorf("no element of %s contains %v", op.Path, want)
		return
	}
	got, ok := lookup(obj, op.Path)
	if assert.True(t, ok, "stored object has %s (injected default)", op.Path) {
		assert.True(t, contains(got, want), "%s = %v, want it to contain %v", op.Path, got, want)
	}
}

func decodeValue(t *testing.T, raw json.RawMessage) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(raw, &v))
	return v
}

// lookup follows a JSON pointer (RFC 6901) through decoded JSON.
func lookup(obj any, pointer string) (any, bool) {
	if pointer == "" {
		return obj, true
	}
	cur := obj
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// contains reports whether got has everything want has: maps by key
// (extra keys in got, e.g. API defaults, are fine), lists element-wise,
// scalars equal.
func contains(got, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			if !contains(g[k], wv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !contains(g[i], w[i]) {
				return false
			}
		}
		return true
	default:
		return reflect.DeepEqual(got, want)
	}
}
