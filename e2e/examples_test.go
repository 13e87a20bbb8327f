package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoadShippedExamples checks, without a cluster, that every example
// document pairs with its golden result, so the e2e suite covers them all.
func TestLoadShippedExamples(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	dir := filepath.Join(root, "testdata", "examples")
	golden, err := GoldenPath(root, dir)
	require.NoError(t, err)
	exs, err := LoadExamples(dir, golden)
	require.NoError(t, err)
	require.NotEmpty(t, exs)
	var applicable, denied int
	for _, e := range exs {
		if e.Applicable() {
			applicable++
			if e.Denied() {
				denied++
			}
		}
		for _, r := range e.LiveViolations() {
			assert.False(t, OfflineOnly(r))
		}
	}
	assert.Positive(t, applicable, "some examples can be applied live")
	assert.Positive(t, denied, "some examples are denied live")
	assert.Less(t, denied, applicable, "some examples are admitted live")
}

func TestLoadExamples(t *testing.T) {
	const golden = `{"results":[
 {"source":"../../x/a.yaml#2","apiVersion":"v1","kind":"Service","name":"s","allowed":false,
  "violations":[{"rule":"SVC-001","message":"m"},{"rule":"SVC-D01","message":"m"}],"warnings":[{"rule":"SVC-D03","message":"m"},{"rule":"SVC-005","message":"m"}],"patch":[]},
 {"source":"a.yaml#3","apiVersion":"apps/v1","kind":"Deployment","name":"d","allowed":true,"violations":[],"warnings":[],"patch":[{"op":"add","path":"/spec/x","value":{"a":1}}]},
 {"source":"b.yaml#1","apiVersion":"cloud.google.com/v1","kind":"BackendConfig","name":"bc","allowed":true}
]}`
	const a = "# comment only: not a document\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n"
	const b = "apiVersion: cloud.google.com/v1\nkind: BackendConfig\nmetadata: {name: bc}\n"
	tests := []struct {
		name    string
		files   map[string]string
		golden  string
		wantErr string
	}{
		{name: "pairs documents and results", files: map[string]string{"a.yaml": a, "b.yaml": b}, golden: golden},
		{name: "document without result", files: map[string]string{"a.yaml": a, "b.yaml": b, "c.yaml": b}, golden: golden, wantErr: "c.yaml#1 has no golden result"},
		{name: "result without document", files: map[string]string{"a.yaml": a}, golden: golden, wantErr: "b.yaml#1 has no document"},
		{name: "kind mismatch", files: map[string]string{"a.yaml": a, "b.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: bc}\n"}, golden: golden, wantErr: "is Service/bc but the golden result is for BackendConfig/bc"},
		{name: "bad source", files: map[string]string{"a.yaml": a}, golden: `{"results":[{"source":"a.yaml"}]}`, wantErr: "no #<document>"},
		{name: "list item", files: map[string]string{"a.yaml": a}, golden: `{"results":[{"source":"a.yaml#1.2"}]}`, wantErr: "kind: List"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, c := range tc.files {
				require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644))
			}
			gp := filepath.Join(dir, "golden.json")
			require.NoError(t, os.WriteFile(gp, []byte(tc.golden), 0o644))
			exs, err := LoadExamples(dir, gp)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Len(t, exs, 3)
			s, d, bc := exs[0], exs[1], exs[2]
			assert.Equal(t, "a.yaml#2 Service/s", s.ID())
			assert.False(t, s.Applicable(), "offline-only violation: the API server rejects it first")
			assert.Equal(t, []string{"SVC-001"}, s.LiveViolations())
			assert.Equal(t, []string{"SVC-005"}, s.LiveWarnings())
			assert.Equal(t, 3, d.Index)
			assert.True(t, d.Applicable())
			assert.False(t, d.Denied())
			require.Len(t, d.Golden.Patch, 1)
			assert.JSONEq(t, `{"a":1}`, string(d.Golden.Patch[0].Value))
			assert.False(t, bc.Intercepted())
			assert.False(t, bc.Applicable())
		})
	}
}
