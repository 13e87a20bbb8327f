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

	"github.com/stickyguard/stickyguard/engine"
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
		"statefulset-sticky-broken.yaml":            {"SG-002"},
		"tke-clientip-broken.yaml":                  {"SVC-001"},
		"tke-nginx-cookie-broken.yaml":              {"NGX-001", "NGX-007"},
		"ack-persistence-broken.yaml":               {"ACK-001"},
		"cce-l4-source-ip-broken.yaml":              {"CCE-004", "CCE-005"},
		"cce-l7-cookie-broken.yaml":                 {"CCE-006", "CCE-007"},
		"nginx-regex-cookie-path-broken.yaml":       {"NGX-013"},
		"gke-backendconfig-neg-broken.yaml":         {"GKE-001", "GKE-004"},
		"offline-mistakes-broken.yaml":              {"SVC-D01", "SVC-D02", "SG-D01"},
		"offline-misplaced-keys-broken.yaml":        {"SVC-D02", "SG-D02"},
		"offline-field-case-broken.yaml":            {"SG-D02"},
		"aws-alb-group-stickiness-broken.yaml":      {"AWS-006"},
		"nginx-regex-group-cookie-path-broken.yaml": {"NGX-013"},
	}
	// Files whose warnings are exactly these rules (issue 10: what must and
	// must not be said about class names shared by two controllers).
	wantWarnExactly := map[string][]string{
		"statefulset-local-not-sticky-valid.yaml":   nil,
		"statefulset-sticky-valid.yaml":             {"DEP-001"}, // the default that was set
		"nginx-rewrite-literal-path-valid.yaml":     nil,         // literal path + rewrite-target works
		"nginx-use-regex-literal-path-valid.yaml":   {"NGX-013"},
		"nginx-affinity-on-service-valid.yaml":      {"NGX-026", "NGX-026"},
		"nginx-shared-class-f5-keys-valid.yaml":     nil, // the class name alone: maybe F5 NGINX
		"haproxy-shared-class-valid.yaml":           nil, // the class name alone: either HAProxy controller
		"nginx-cookie-partitioned-valid.yaml":       nil,
		"nginx-regex-group-cookie-path-broken.yaml": nil,
	}
	wantPatched := map[string][]string{ // file -> JSON patch paths
		"statefulset-sticky-valid.yaml": {"/spec/template/spec/affinity"},
		"ack-persistence-valid.yaml":    {"/spec/externalTrafficPolicy"},
		"aws-nlb-source-ip-valid.yaml":  {"/spec/externalTrafficPolicy", "/spec/template/spec/affinity"},
		"cce-l7-cookie-valid.yaml":      {"/spec/externalTrafficPolicy", "/spec/template/spec/affinity"},
	}
	// Valid files stickyguard must leave exactly as written (no default applies).
	wantUnpatched := map[string]bool{
		"statefulset-local-not-sticky-valid.yaml":     true, // Local but not sticky
		"tke-clientip-valid.yaml":                     true, // plain ClientIP: no Local, no spread
		"azure-lb-clientip-valid.yaml":                true,
		"aws-nlb-ip-valid.yaml":                       true, // pod-direct
		"ack-persistence-explicit-cluster-valid.yaml": true, // Cluster written explicitly
		"ack-nodeport-persistence-valid.yaml":         true, // no load balancer for a NodePort
		"ingress-nginx-controller-local-valid.yaml":   true, // Local but not sticky
		"offline-empty-affinity-config-valid.yaml":    true, // None with an empty config
		"offline-duplicate-key-valid.yaml":            true, // the last key (ClientIP, 600 s) wins
	}
	files, err := filepath.Glob(filepath.Join(examples, "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		base := filepath.Base(f)
		t.Run(base, func(t *testing.T) {
			code, out, stderr := runCmd(t, "", "check", "-o", "json", f)
			rep := decodeReport(t, out)
			var denied, warned []string
			var paths []string
			for _, r := range rep.Results {
				for _, v := range r.Violations {
					denied = append(denied, v.Rule)
				}
				for _, w := range r.Warnings {
					warned = append(warned, w.Rule)
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
			if wantUnpatched[base] {
				assert.Empty(t, paths, "%s: no default applies", base)
			}
			if want, ok := wantWarnExactly[base]; ok {
				assert.ElementsMatch(t, want, warned, "%s: warnings", base)
			}
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
	// The Alibaba Cloud guide as published: non-breaking spaces after the
	// colons make the whole document one string.
	nbsp := write("nbsp.yaml", "# guide\n---\n\n# copied\napiVersion:\u00a0v1\nkind:\u00a0Service\n")
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

	code, out, stderr = runCmd(t, "", "check", "-o", "json", scalar)
	assert.Equal(t, exitError, code, "a document that is not an object is unreadable input")
	assert.Empty(t, out)
	assert.Contains(t, stderr, "scalar.yaml#1, line 1: the document is a string, not an object")

	code, _, stderr = runCmd(t, "", "check", good, nbsp)
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, "nbsp.yaml#2, line 5")
	assert.Contains(t, stderr, "U+00A0")

	// testdata/pasted: the two shapes a page with non-breaking spaces takes.
	pasted := filepath.Join("..", "..", "testdata", "pasted")
	code, out, stderr = runCmd(t, "", "check", filepath.Join(pasted, "nbsp-after-colon-service.yaml"))
	assert.Equal(t, exitError, code, "a document that reads as one string is unreadable input")
	assert.Empty(t, out)
	assert.Contains(t, stderr, "nbsp-after-colon-service.yaml#1, line 7")
	assert.Contains(t, stderr, "U+00A0")
	code, out, _ = runCmd(t, "", "check", "-o", "json", filepath.Join(pasted, "nbsp-indented-service.yaml"))
	assert.Equal(t, exitDenied, code, "keys indented with non-breaking spaces are unknown fields")
	rep = decodeReport(t, out)
	require.Len(t, rep.Results, 1)
	assert.False(t, rep.Results[0].Allowed)
	for _, v := range rep.Results[0].Violations {
		assert.Equal(t, "SG-D02", v.Rule, v.Message)
	}
	assert.Contains(t, out, "U+00A0")

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

// TestCheckDecodesLikeTheAPIServer: check reads what the API server would
// store (issue 10, items 6, 7, 11): field names are case-sensitive, the last
// of duplicate keys wins, a misplaced key gets no default injected over it.
func TestCheckDecodesLikeTheAPIServer(t *testing.T) {
	// An organisation timeout other than the API default, so SVC-008 has
	// something to fill where no timeout is written.
	pol := filepath.Join(t.TempDir(), "policy.yaml")
	require.NoError(t, os.WriteFile(pol, []byte("apiVersion: stickyguard.io/v1alpha1\nkind: Policy\nservice:\n  clientIPTimeout:\n    default: 3600\n"), 0o644))
	findings := func(t *testing.T, file string, edit func(string) string) (rules, patches []string) {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(examples, file))
		require.NoError(t, err)
		_, out, stderr := runCmd(t, edit(string(data)), "check", "-o", "json", "--policy", pol, "-")
		rep := decodeReport(t, out)
		require.NotEmpty(t, rep.Results, stderr)
		for _, r := range rep.Results {
			for _, v := range r.Violations {
				rules = append(rules, v.Rule)
			}
			for _, w := range r.Warnings {
				rules = append(rules, w.Rule)
			}
			for _, p := range r.Patch {
				patches = append(patches, r.Name+p.Path)
			}
		}
		return rules, patches
	}
	same := func(s string) string { return s }

	t.Run("NODENAME is not nodeName", func(t *testing.T) {
		rules, _ := findings(t, "offline-field-case-broken.yaml", same)
		assert.Contains(t, rules, "SG-D02")
		assert.NotContains(t, rules, "DEP-003")
		rules, _ = findings(t, "offline-field-case-broken.yaml", func(s string) string { return strings.Replace(s, "NODENAME: node-1", "nodeName: node-1", 1) })
		assert.Contains(t, rules, "DEP-003", "control: the field spelled right pins the pods")
		assert.NotContains(t, rules, "SG-D02")
	})
	t.Run("empty sessionAffinityConfig with None", func(t *testing.T) {
		rules, _ := findings(t, "offline-empty-affinity-config-valid.yaml", same)
		assert.NotContains(t, rules, "SVC-D03")
		rules, _ = findings(t, "offline-empty-affinity-config-valid.yaml", func(s string) string {
			return strings.Replace(s, "sessionAffinityConfig: {}", "sessionAffinityConfig: {clientIP: {timeoutSeconds: 600}}", 1)
		})
		assert.Contains(t, rules, "SVC-D03", "control: a config that carries a timeout is discarded")
	})
	t.Run("duplicate key: the last wins", func(t *testing.T) {
		rules, patches := findings(t, "offline-duplicate-key-valid.yaml", same)
		assert.Equal(t, []string{"SG-D03"}, rules)
		assert.Empty(t, patches, "ClientIP with its 600 s timeout, as kubectl sends it")
	})
	t.Run("no default over a misplaced value", func(t *testing.T) {
		rules, patches := findings(t, "offline-misplaced-keys-broken.yaml", same)
		assert.Contains(t, rules, "SVC-D02")
		assert.NotContains(t, rules, "SVC-008")
		assert.NotContains(t, patches, "misplaced-clientip-dedented/spec/sessionAffinityConfig")
		_, patches = findings(t, "offline-misplaced-keys-broken.yaml", func(s string) string {
			return strings.Replace(s, "  sessionAffinityConfig:\n  clientIP:\n    timeoutSeconds: 600\n", "", 1)
		})
		assert.Contains(t, patches, "misplaced-clientip-dedented/spec/sessionAffinityConfig", "control: without a written timeout the default applies")
	})
}

// TestCheckSharedClassNames (issue 10, item 5): "haproxy" and "nginx" are the
// default class names of two controllers each. By name alone check does not
// say that annotations belong to the other controller; with an IngressClass
// object naming the controller (the control) it does.
func TestCheckSharedClassNames(t *testing.T) {
	tests := []struct {
		file, class, controller, rule string
	}{
		{"haproxy-shared-class-valid.yaml", "haproxy", "haproxy-ingress.github.io/controller", "HAP-003"},
		{"nginx-shared-class-f5-keys-valid.yaml", "nginx", "k8s.io/ingress-nginx", "NGX-025"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(examples, tt.file))
			require.NoError(t, err)
			warned := func(input string) []string {
				code, out, stderr := runCmd(t, input, "check", "-o", "json", "-")
				require.Equal(t, exitOK, code, stderr)
				var rules []string
				for _, r := range decodeReport(t, out).Results {
					for _, w := range r.Warnings {
						rules = append(rules, w.Rule)
					}
				}
				return rules
			}
			assert.NotContains(t, warned(string(data)), tt.rule, "class name only")
			class := fmt.Sprintf("apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: %s\nspec:\n  controller: %s\n---\n", tt.class, tt.controller)
			assert.Contains(t, warned(class+string(data)), tt.rule, "control: an IngressClass object names the controller")
		})
	}
}
