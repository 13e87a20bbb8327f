package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary serve as the floor webhook, as the tool's
// binary does (the harness runs os.Executable with SGLOAD_ROLE=floor).
func TestMain(m *testing.M) {
	if isFloor() {
		os.Exit(runFloor())
	}
	os.Exit(m.Run())
}

// smokeOptions runs every mode for a moment: the load tool must keep
// working, not measure anything here. Missing control-plane binaries fail
// the test (make test builds them first).
func smokeOptions(t *testing.T) *Options {
	t.Helper()
	root := repoRoot()
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join(root, "bin", "k8s")
	}
	for _, b := range []string{"kube-apiserver", "etcd"} {
		_, err := os.Stat(filepath.Join(assets, b))
		require.NoError(t, err, "%s is missing: run make tools", b)
	}
	bin := filepath.Join(t.TempDir(), "stickyguard")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/stickyguard/stickyguard/cmd/stickyguard").CombinedOutput()
	require.NoError(t, err, "building stickyguard: %s", out)
	return &Options{
		Stickyguard:       bin,
		Assets:            assets,
		Timeout:           90 * time.Second,
		Duration:          600 * time.Millisecond,
		Rounds:            1,
		MaxRequests:       20000,
		DirectConcurrency: []int{4},
		E2EConcurrency:    []int{2},
		E2EClasses:        []string{"sticky", "plain"},
		E2EConfigs:        e2eConfigs,
		ScaleServices:     60,
		ScaleDeployments:  30,
		ScaleIngresses:    12,
		ScaleConcurrency:  []int{2},
		CreateWorkers:     8,
	}
}

func TestSmokeEveryMode(t *testing.T) {
	o := smokeOptions(t)
	o.Modes = []string{"direct", "e2e", "scale"}
	ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
	defer cancel()
	start := time.Now()
	rep, err := Run(ctx, o)
	require.NoError(t, err)
	t.Logf("all modes in %s", time.Since(start).Round(time.Millisecond))

	require.NotNil(t, rep.Direct)
	require.Len(t, rep.Direct.Runs, 2, "floor and stickyguard")
	for _, r := range rep.Direct.Runs {
		assert.Positive(t, r.Summary.Requests, r.Target)
		assert.Zero(t, r.Summary.Errors, "%s: every answer well formed and as expected", r.Target)
	}
	assert.NotEmpty(t, rep.Direct.Targets)

	require.NotNil(t, rep.E2E)
	assert.Len(t, rep.E2E.Runs, len(e2eConfigs)*2, "every configuration, both classes")
	for _, r := range rep.E2E.Runs {
		assert.Positive(t, r.Summary.Requests, "%s %s", r.Config, r.Class)
		assert.Zero(t, r.Summary.Errors, "%s %s", r.Config, r.Class)
	}

	require.NotNil(t, rep.Scale)
	require.Len(t, rep.Scale.Phases, 3)
	for _, p := range rep.Scale.Phases {
		assert.Positive(t, p.RSSKiB, p.Name)
		for _, r := range p.Runs {
			assert.Positive(t, r.Summary.Requests, "%s %s", p.Name, r.Review)
			assert.Zero(t, r.Summary.Errors, "%s %s", p.Name, r.Review)
		}
	}

	// The report renders.
	var text, md nopWriter
	printText(&text, rep)
	printMarkdown(&md, rep)
	assert.Positive(t, int(text), "text report")
	assert.Positive(t, int(md), "markdown report")
}

func TestFlags(t *testing.T) {
	_, err := parseFlags([]string{"-mode", "nope"}, new(nopWriter))
	assert.ErrorContains(t, err, "unknown mode")
	_, err = parseFlags([]string{"-concurrency", "0"}, new(nopWriter))
	assert.Error(t, err)
	_, err = parseFlags([]string{"-duration", "1h"}, new(nopWriter))
	assert.Error(t, err)
	_, err = parseFlags([]string{"-e2e-configs", "none,stickyguard,floor,kyverno"}, new(nopWriter))
	assert.ErrorContains(t, err, `unknown e2e configuration "kyverno"`)
	_, err = parseFlags([]string{"-e2e-configs", "none,stickyguard,vap"}, new(nopWriter))
	assert.ErrorContains(t, err, "must include floor")
}

func TestCheckAnswer(t *testing.T) {
	ok := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u1","allowed":true}}`
	assert.NoError(t, checkAnswer([]byte(ok), "u1", answer{Allowed: true}))
	assert.ErrorContains(t, checkAnswer([]byte(ok), "u2", answer{Allowed: true}), "uid")
	assert.ErrorContains(t, checkAnswer([]byte(ok), "u1", answer{Allowed: true, Patch: true}), "patch")
	patched := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u1","allowed":true,` +
		`"patchType":"JSONPatch","patch":"W3sib3AiOiJhZGQiLCJwYXRoIjoiL3NwZWMveCIsInZhbHVlIjoxfV0="}}`
	assert.NoError(t, checkAnswer([]byte(patched), "u1", answer{Allowed: true, Patch: true}))
	denied := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u1","allowed":false,"status":{"code":422}}}`
	assert.NoError(t, checkAnswer([]byte(denied), "u1", answer{}))
	assert.ErrorContains(t, checkAnswer([]byte(`{"response":{"uid":"u1","allowed":false}}`), "u1", answer{}), "apiVersion")
	assert.Error(t, checkAnswer([]byte(`not json`), "u1", answer{}))
}

// nopWriter counts bytes.
type nopWriter int

func (w *nopWriter) Write(p []byte) (int, error) {
	*w += nopWriter(len(p))
	return len(p), nil
}
