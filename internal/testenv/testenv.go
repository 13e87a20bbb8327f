// Package testenv finds what tests that start a real control plane need:
// the repository root and the kube-apiserver and etcd binaries. Only tests
// (and audit/audittest) import it.
package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// RepoRoot returns the repository root.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// AssetsDir is KUBEBUILDER_ASSETS, or bin/k8s of the repository. Missing
// binaries are an error, never a skip: a proof against a real API server
// must not pass by not running.
func AssetsDir() (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		dir = filepath.Join(RepoRoot(), "bin", "k8s")
	}
	for _, b := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return "", fmt.Errorf("%s not found in %s: run make tools (hack/build-tools.sh builds the control plane)", b, dir)
		}
	}
	return dir, nil
}
