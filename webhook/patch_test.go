package webhook

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	gomodulesjsonpatch "gomodules.xyz/jsonpatch/v2"
)

// normalized renders operations comparably: values decoded, sorted by path.
func normalized(t testing.TB, ops []gomodulesjsonpatch.Operation) []string {
	t.Helper()
	out := make([]string, 0, len(ops))
	for _, op := range ops {
		var v any
		if raw, ok := op.Value.(json.RawMessage); ok {
			require.NoError(t, json.Unmarshal(raw, &v))
		} else {
			v = op.Value
		}
		b, err := json.Marshal(map[string]any{"op": op.Operation, "path": op.Path, "value": v})
		require.NoError(t, err)
		out = append(out, string(b))
	}
	sort.Strings(out)
	return out
}

func TestRawPatchMatchesCreatePatch(t *testing.T) {
	tests := []struct{ name, a, b string }{
		{"equal", `{"a":1}`, `{"a":1}`},
		{"add nested object", `{"spec":{"template":{"spec":{"containers":[{"name":"x"}]}}}}`,
			`{"spec":{"template":{"spec":{"affinity":{"podAntiAffinity":{"x":[1,2]}},"containers":[{"name":"x"}]}}}}`},
		{"replace scalar", `{"spec":{"externalTrafficPolicy":"Cluster","type":"LoadBalancer"}}`, `{"spec":{"externalTrafficPolicy":"Local","type":"LoadBalancer"}}`},
		{"remove", `{"spec":{"future":{"x":true},"a":1}}`, `{"spec":{"a":1}}`},
		{"array element changes", `{"a":[{"x":1},{"y":2}]}`, `{"a":[{"x":1},{"y":3},{"z":4}]}`},
		{"escaped keys", `{"metadata":{"annotations":{"a/b":"1","c~d":"2"}}}`, `{"metadata":{"annotations":{"a/b":"9","c~d":"2","e/f~":"3"}}}`},
		{"null to object", `{"a":null}`, `{"a":{"b":1}}`},
		{"object to scalar", `{"a":{"b":1}}`, `{"a":"b"}`},
		{"same number, other spelling", `{"a":1.0,"b":1}`, `{"a":1,"b":1}`},
		{"whitespace differs", "{ \"a\" : { \"b\" : 1 } }", `{"a":{"b":1}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rawPatch([]byte(tt.a), []byte(tt.b), "", nil)
			require.NoError(t, err)
			want, err := gomodulesjsonpatch.CreatePatch([]byte(tt.a), []byte(tt.b))
			require.NoError(t, err)
			assert.Equal(t, normalized(t, want), normalized(t, got))
			assertPatchApplies(t, tt.a, tt.b, got)
		})
	}
}

func assertPatchApplies(t testing.TB, a, b string, ops []gomodulesjsonpatch.Operation) {
	t.Helper()
	raw, err := json.Marshal(ops)
	require.NoError(t, err)
	p, err := jsonpatch.DecodePatch(raw)
	require.NoError(t, err)
	out, err := p.Apply([]byte(a))
	require.NoError(t, err, "%s", raw)
	assert.JSONEq(t, b, string(out), "%s", raw)
}

// FuzzRawPatch: for any two JSON documents, the patch turns the first into
// the second, with the same operations as jsonpatch.CreatePatch.
func FuzzRawPatch(f *testing.F) {
	f.Add(`{"a":{"b":[1,2]}}`, `{"a":{"b":[1],"c":null}}`)
	f.Add(`{"x/y":{"~":1}}`, `{"x/y":{"~":2}}`)
	f.Add(`{}`, `{"a":1}`)
	f.Fuzz(func(t *testing.T, a, b string) {
		if strings.Contains(a+b, `""`) {
			return // empty keys: evanphx/json-patch cannot apply "//" (Kubernetes objects have none)
		}
		var av, bv map[string]any
		if json.Unmarshal([]byte(a), &av) != nil || json.Unmarshal([]byte(b), &bv) != nil {
			return
		}
		got, err := rawPatch([]byte(a), []byte(b), "", nil)
		if err != nil {
			t.Fatalf("rawPatch: %v", err)
		}
		want, err := gomodulesjsonpatch.CreatePatch([]byte(a), []byte(b))
		if err != nil {
			return
		}
		assert.Equal(t, normalized(t, want), normalized(t, got))
		assertPatchApplies(t, a, b, got)
	})
}
