package manifests

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// repoRoot walks up from the test's directory to the module root.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("cannot find the repository root (go.mod) above the test directory")
		}
		dir = parent
	}
}

// kubectl returns bin/k8s/kubectl, failing (not skipping) when it is missing:
// these tests are what proves the shipped manifests render.
func kubectl(t *testing.T) string {
	t.Helper()
	p := filepath.Join(repoRoot(t), "bin", "k8s", "kubectl")
	if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		t.Fatalf("kubectl not found at %s: build it with `make tools-e2e` (hack/build-tools.sh e2e); the manifests tests render every kustomization with it", p)
	}
	return p
}

// render runs `kubectl kustomize dir` and splits the output into objects.
func render(t *testing.T, dir string) objects {
	t.Helper()
	cmd := exec.Command(kubectl(t), "kustomize", dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "kubectl kustomize %s: %s", dir, stderr.String())
	return parse(t, out)
}

// obj is one rendered object, kept as raw YAML for typed decoding.
type obj struct {
	u   *unstructured.Unstructured
	raw []byte
}

type objects []obj

func parse(t *testing.T, data []byte) objects {
	t.Helper()
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out objects
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		u := &unstructured.Unstructured{}
		require.NoError(t, yaml.Unmarshal(doc, &u.Object))
		out = append(out, obj{u: u, raw: doc})
	}
}

// all returns the objects of a kind.
func (os objects) all(kind string) []obj {
	var out []obj
	for _, o := range os {
		if o.u.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// one decodes the single object of a kind into T.
func one[T any](t *testing.T, os objects, kind string) *T {
	t.Helper()
	found := os.all(kind)
	require.Len(t, found, 1, "exactly one %s", kind)
	return decode[T](t, found[0])
}

func decode[T any](t *testing.T, o obj) *T {
	t.Helper()
	var v T
	require.NoError(t, yaml.UnmarshalStrict(o.raw, &v), "decoding %s %s", o.u.GetKind(), o.u.GetName())
	return &v
}

// copyTree copies a directory tree (the manifests) so a test can add files.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	require.NoError(t, err)
}
