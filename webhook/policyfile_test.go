package webhook

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const validPolicy = `apiVersion: stickyguard.io/v1alpha1
kind: Policy
service:
  clientIPTimeout: {default: 3600, min: 60, max: 86400}
`

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, []byte(data), 0o600))
	require.NoError(t, os.Rename(tmp, path)) // atomic, like a ConfigMap update
}

func TestPolicyFileReloads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	p := NewPolicyFile(path, 20*time.Millisecond, logr.Discard())
	assert.Nil(t, p.Current(), "no file yet")
	assert.Error(t, p.ReadyCheck(nil))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Start(ctx) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()

	require.ErrorIs(t, p.LastError(), os.ErrNotExist)
	writeFile(t, path, "kind: Nonsense\n")
	// The watcher has read the invalid version once its error replaces
	// "file not found"; only then does "not loaded" prove anything.
	require.Eventually(t, func() bool { err := p.LastError(); return err != nil && !errors.Is(err, os.ErrNotExist) },
		5*time.Second, 10*time.Millisecond)
	assert.Nil(t, p.Current(), "an invalid first version is not loaded")
	assert.ErrorContains(t, p.ReadyCheck(nil), "no valid policy")

	writeFile(t, path, validPolicy)
	require.Eventually(t, func() bool { return p.Current() != nil }, 5*time.Second, 10*time.Millisecond)
	assert.EqualValues(t, 3600, p.Current().Service.ClientIPTimeout.Default)
	assert.NoError(t, p.ReadyCheck(nil))
	first := p.Current()

	require.NoError(t, p.LastError())
	writeFile(t, path, validPolicy+"rules: {NOPE-001: warn}\n")
	require.Eventually(t, func() bool { return p.LastError() != nil }, 5*time.Second, 10*time.Millisecond,
		"the watcher reads the invalid version")
	assert.ErrorContains(t, p.LastError(), "NOPE-001")
	assert.Same(t, first, p.Current(), "an invalid new version keeps the old policy")
	assert.NoError(t, p.ReadyCheck(nil), "and readiness")

	writeFile(t, path, validPolicy+"rules: {SVC-005: disabled}\n")
	require.Eventually(t, func() bool { return p.Current() != first }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, "disabled", string(p.Current().Override("SVC-005")))

	assert.False(t, p.Reload(), "unchanged file: nothing to do")
}
