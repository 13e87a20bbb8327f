package chart

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// helmLabels are the bookkeeping labels a Helm chart adds to every object;
// manifests/ has only app.kubernetes.io/name (and component). They are the
// only labels the comparison ignores.
var helmLabels = []string{"helm.sh/chart", "app.kubernetes.io/instance", "app.kubernetes.io/version", "app.kubernetes.io/managed-by"}

var (
	repoRoot string
	chartDir string
)

func TestMain(m *testing.M) {
	var err error
	if repoRoot, err = RepoRoot("."); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	chartDir = filepath.Join(repoRoot, "charts", "stickyguard")
	os.Exit(m.Run())
}

// key identifies an object across the two renderings.
func key(u *unstructured.Unstructured) string {
	return fmt.Sprintf("%s %s %s/%s", u.GetAPIVersion(), u.GetKind(), u.GetNamespace(), u.GetName())
}

// normalize returns the object as plain data with Helm's bookkeeping
// labels and helm.sh/ annotations removed and the policy ConfigMap's file
// parsed, so that comments and key order in the file do not count.
func normalize(t *testing.T, u *unstructured.Unstructured) map[string]any {
	t.Helper()
	c := u.DeepCopy()
	labels := c.GetLabels()
	for _, l := range helmLabels {
		delete(labels, l)
	}
	if len(labels) == 0 {
		labels = nil
	}
	c.SetLabels(labels)
	annotations := c.GetAnnotations()
	for k := range annotations {
		if strings.HasPrefix(k, "helm.sh/") {
			delete(annotations, k)
		}
	}
	if len(annotations) == 0 {
		annotations = nil
	}
	c.SetAnnotations(annotations)
	// caBundle is []byte: the API server stores the decoded bytes, so the
	// line breaks kustomize writes into base64 do not count.
	if hooks, ok := c.Object["webhooks"].([]any); ok {
		for _, h := range hooks {
			if cc, ok := h.(map[string]any)["clientConfig"].(map[string]any); ok {
				if b, ok := cc["caBundle"].(string); ok {
					cc["caBundle"] = strings.ReplaceAll(b, "\n", "")
				}
			}
		}
	}
	if c.GetKind() == "ConfigMap" {
		if s, ok, _ := unstructured.NestedString(c.Object, "data", "policy.yaml"); ok {
			var parsed map[string]any
			require.NoError(t, yaml.Unmarshal([]byte(s), &parsed), "policy.yaml of %s", key(u))
			require.NoError(t, unstructured.SetNestedField(c.Object, parsed, "data", "policy.yaml"))
		}
	}
	return c.Object
}

// diff lists every field path where got differs from want.
func diff(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, got %s", path, short(got))}
		}
		var out []string
		for _, k := range unionKeys(w, g) {
			wv, wok := w[k]
			gv, gok := g[k]
			switch {
			case !gok:
				out = append(out, fmt.Sprintf("%s.%s: missing (want %s)", path, k, short(wv)))
			case !wok:
				out = append(out, fmt.Sprintf("%s.%s: unexpected %s", path, k, short(gv)))
			default:
				out = append(out, diff(path+"."+k, wv, gv)...)
			}
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: want %s, got %s", path, short(want), short(got))}
		}
		var out []string
		for i := range w {
			out = append(out, diff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return out
	default:
		if !reflect.DeepEqual(want, got) {
			return []string{fmt.Sprintf("%s: want %s, got %s", path, short(want), short(got))}
		}
		return nil
	}
}

func unionKeys(a, b map[string]any) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]any{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

func short(v any) string {
	s := fmt.Sprintf("%#v", v)
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}

// assertSameObjects requires the same set of objects and, for each, the
// same fields and values.
func assertSameObjects(t *testing.T, want, got []*unstructured.Unstructured) {
	t.Helper()
	wantByKey, gotByKey := index(want), index(got)
	require.ElementsMatch(t, keys(wantByKey), keys(gotByKey), "the chart renders a different set of objects")
	for k, w := range wantByKey {
		d := diff(k, normalize(t, w), normalize(t, gotByKey[k]))
		require.Empty(t, d, "%s differs field by field", k)
	}
}

func index(objs []*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	out := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		out[key(o)] = o
	}
	return out
}

func keys(m map[string]*unstructured.Unstructured) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// without drops the objects of the given kinds.
func without(objs []*unstructured.Unstructured, kinds ...string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		drop := false
		for _, k := range kinds {
			drop = drop || o.GetKind() == k
		}
		if !drop {
			out = append(out, o)
		}
	}
	return out
}

// only keeps the objects of the given kinds.
func only(objs []*unstructured.Unstructured, kinds ...string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		for _, k := range kinds {
			if o.GetKind() == k {
				out = append(out, o)
			}
		}
	}
	return out
}

func TestDiffReportsEachField(t *testing.T) {
	want := map[string]any{"a": map[string]any{"b": 1.0, "c": []any{"x"}}, "d": "same"}
	got := map[string]any{"a": map[string]any{"b": 2.0, "c": []any{"x", "y"}, "e": true}, "d": "same"}
	require.ElementsMatch(t, []string{
		"o.a.b: want 1, got 2",
		`o.a.c: want []interface {}{"x"}, got []interface {}{"x", "y"}`,
		"o.a.e: unexpected true",
	}, diff("o", want, got))
	require.Empty(t, diff("o", want, want))
}
