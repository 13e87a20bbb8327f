package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stickyguard/stickyguard/webhook/engine"
)

const examples = "../../testdata/examples"

// runCmd runs the CLI in-process and returns exit code, stdout and stderr.
func runCmd(t testing.TB, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func decodeReport(t testing.TB, s string) engine.Report {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	var rep engine.Report
	require.NoError(t, dec.Decode(&rep))
	assert.False(t, dec.More(), "exactly one JSON document")
	return rep
}

// TestCheckGolden pins `check -o json testdata/examples`. Regenerate with
// UPDATE_GOLDEN=1 go test ./cmd/stickyguard -run TestCheckGolden.
func TestCheckGolden(t *testing.T) {
	code, out, errs := runCmd(t, "", "check", "-o", "json", examples)
	assert.Equal(t, exitDenied, code, errs)
	golden := "../../testdata/golden/check-examples.json"
	if os.Getenv("UPDATE_GOLDEN") != "" {
		require.NoError(t, os.WriteFile(golden, []byte(out), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.JSONEq(t, string(want), out, "testdata/golden/check-examples.json is stale: UPDATE_GOLDEN=1 go test ./cmd/stickyguard -run TestCheckGolden")
}

// TestCheckExamples states what each scenario must show, independent of the
// golden file: valid variants are admitted, broken ones denied for the
// documented rule.
func TestCheckExamples(t *testing.T) {
	wantDeny := map[string][]string{
		"tke-clientip-broken.yaml":            {"SVC-001"},
		"tke-nginx-cookie-broken.yaml":        {"NGX-001", "NGX-007"},
		"ack-persistence-broken.yaml":         {"ACK-001"},
		"cce-l4-source-ip-broken.yaml":        {"CCE-004", "CCE-005"},
		"cce-l7-cookie-broken.yaml":           {"CCE-006", "CCE-007"},
		"nginx-regex-cookie-path-broken.yaml": {"NGX-013"},
		"gke-backendconfig-neg-broken.yaml":   {"GKE-001", "GKE-004"},
		"offline-mistakes-broken.yaml":        {"SVC-D01", "SVC-D02"},
	}
	wantPatched := map[string][]string{ // file -> JSON patch paths
		"tke-clientip-valid.yaml":    {"/spec/externalTrafficPolicy", "/spec/template/spec/affinity"},
		"ack-persistence-valid.yaml": {"/spec/externalTrafficPolicy"},
		"cce-l7-cookie-valid.yaml":   {"/spec/externalTrafficPolicy", "/spec/template/spec/affinity"},
	}
	files, err := filepath.Glob(filepath.Join(examples, "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		base := filepath.Base(f)
		t.Run(base, func(t *testing.T) {
			code, out, stderr := runCmd(t, "", "check", "-o", "json", f)
			rep := decodeReport(t, out)
			var denied []string
			var paths []string
			for _, r := range rep.Results {
				for _, v := range r.Violations {
					denied = append(denied, v.Rule)
				}
				for _, p := range r.Patch {
					paths = append(paths, p.Path)
				}
			}
			if strings.HasSuffix(base, "-valid.yaml") {
				assert.Equal(t, exitOK, code, "%s: %s", out, stderr)
				assert.Empty(t, denied)
			} else {
				assert.Equal(t, exitDenied, code, stderr)
				assert.Subset(t, denied, wantDeny[base])
				assert.NotEmpty(t, wantDeny[base], "add the expected rules for %s", base)
			}
			assert.Subset(t, paths, wantPatched[base])
		})
	}
}

func TestCheckExitCodesAndInputs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	good := write("good.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {selector: {app: a}, ports: [{port: 80}]}\n")
	bad := write("bad.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: b}\nspec: {selector: {sessionAffinity: ClientIP}}\n")
	garbage := write("garbage.yaml", "apiVersion: v1\nkind: Service\n---\nkey: [unclosed\n  - : :\n")
	empty := write("empty.yaml", "")
	binary := write("binary.json", "\x00\x01\x02")
	list := write("list.yaml", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: c}\n  spec: {selector: {timeoutSeconds: '1'}}\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: d}\n")
	scalar := write("scalar.yaml", "just a string\n---\n- a\n- list\n")
	jsonFile := write("obj.json", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"j"},"spec":{"selector":{"app":"j"}}}`)

	code, _, _ := runCmd(t, "", "check", good)
	assert.Equal(t, exitOK, code)
	code, out, _ := runCmd(t, "", "check", bad)
	assert.Equal(t, exitDenied, code)
	assert.Contains(t, out, "bad.yaml#1 Service/-/b SVC-001 spec.selector[sessionAffinity]:")
	assert.Contains(t, out, "1 objects checked: 1 denied")

	code, _, stderr := runCmd(t, "", "check", garbage)
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, "garbage.yaml#2")

	code, out, _ = runCmd(t, "", "check", "-o", "json", empty)
	assert.Equal(t, exitOK, code)
	assert.Empty(t, decodeReport(t, out).Results)

	code, _, stderr = runCmd(t, "", "check", binary)
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, "binary.json")

	code, out, _ = runCmd(t, "", "check", "-o", "json", list)
	assert.Equal(t, exitDenied, code)
	rep := decodeReport(t, out)
	require.Len(t, rep.Results, 1)
	assert.Equal(t, rep.Results[0].Source, list+"#1.1")
	require.Len(t, rep.Skipped, 1)
	assert.Equal(t, "ConfigMap", rep.Skipped[0].Kind)

	code, out, _ = runCmd(t, "", "check", "-o", "json", scalar)
	assert.Equal(t, exitOK, code)
	assert.Len(t, decodeReport(t, out).Skipped, 2)

	code, _, _ = runCmd(t, "", "check", jsonFile)
	assert.Equal(t, exitOK, code)

	code, out, _ = runCmd(t, "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {selector: {sessionAffinity: ClientIP}}\n", "check", "-")
	assert.Equal(t, exitDenied, code)
	assert.Contains(t, out, "-#1 Service/-/s SVC-001")

	code, _, stderr = runCmd(t, "", "check", filepath.Join(dir, "missing.yaml"))
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, "missing.yaml")

	code, _, _ = runCmd(t, "", "check", "-o", "yaml", good)
	assert.Equal(t, exitError, code)
	code, _, _ = runCmd(t, "", "check")
	assert.Equal(t, exitError, code)
}

func TestCheckPolicy(t *testing.T) {
	dir := t.TempDir()
	pol := filepath.Join(dir, "policy.yaml")
	require.NoError(t, os.WriteFile(pol, []byte("apiVersion: stickyguard.io/v1alpha1\nkind: Policy\nservice:\n  clientIPTimeout:\n    default: 3600\nrules:\n  SVC-001: warn\n"), 0o644))
	svc := "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  selector: {app: s, sessionAffinity: ClientIP}\n  sessionAffinity: ClientIP\n"
	code, out, stderr := runCmd(t, svc, "check", "-o", "json", "--policy", pol, "-")
	require.Equal(t, exitOK, code, stderr)
	rep := decodeReport(t, out)
	require.Len(t, rep.Results, 1)
	assert.Empty(t, rep.Results[0].Violations, "SVC-001 turned into a warning")
	assert.Contains(t, fmt.Sprint(rep.Results[0].Warnings), "SVC-001")
	require.NotEmpty(t, rep.Results[0].Patch)
	assert.Equal(t, "/spec/sessionAffinityConfig", rep.Results[0].Patch[0].Path)
	assert.Contains(t, fmt.Sprint(rep.Results[0].Patch[0].Value), "3600")

	require.NoError(t, os.WriteFile(pol, []byte("apiVersion: stickyguard.io/v1alpha1\nkind: Policy\nservce: {}\n"), 0o644))
	code, _, stderr = runCmd(t, svc, "check", "--policy", pol, "-")
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, "line 3")
	assert.Contains(t, stderr, "servce")
}

// TestCheckLargeInput reads a ~10 MB file of Services without trouble.
func TestCheckLargeInput(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 10<<20; i++ {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s%d\n  annotations:\n    note: %q\nspec:\n  selector: {app: s%d}\n  ports: [{port: 80}]\n", i, strings.Repeat("x", 200), i)
	}
	p := filepath.Join(t.TempDir(), "big.yaml")
	require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o644))
	code, out, stderr := runCmd(t, "", "check", p)
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "objects checked: 0 denied")
}

func TestRulesDocIsCurrent(t *testing.T) {
	want, err := os.ReadFile("../../docs/rules.md")
	require.NoError(t, err, "docs/rules.md missing: run make docs")
	assert.Equal(t, rulesMarkdown(), string(want), "docs/rules.md is stale: run make docs")
}

func TestUsage(t *testing.T) {
	code, _, stderr := runCmd(t, "")
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, "usage: stickyguard")
	code, _, _ = runCmd(t, "", "nope")
	assert.Equal(t, exitError, code)
	code, out, _ := runCmd(t, "", "version")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "stickyguard")
}
