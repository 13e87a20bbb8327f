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
	"github.com/stickyguard/stickyguard/migrate"
	"github.com/stickyguard/stickyguard/policy"
)

const (
	testdata      = "../../testdata"
	migrateGolden = testdata + "/migrate/golden"
	ontoRoutes    = testdata + "/migrate/onto/ingress2gateway-routes.yaml"
)

// migrateVariant is one way to run migrate: the target, its flags, and the
// Gateway API bundle its output is meant for.
type migrateVariant struct {
	name    string
	args    []string
	gateway string // bundle the output is checked against ("" = none)
}

var (
	gwDefault = migrateVariant{"gateway-api", []string{"--to", "gateway-api"}, "v1.7.0"}
	gwV16     = migrateVariant{"gateway-api-v1.6", []string{"--to", "gateway-api", "--gateway-api", "v1.6.3"}, "v1.6.3"}
	envoy     = migrateVariant{"envoy-gateway", []string{"--to", "envoy-gateway"}, "v1.6.1"}
	istio     = migrateVariant{"istio", []string{"--to", "istio"}, ""}
	gke       = migrateVariant{"gke", []string{"--to", "gke"}, ""}
	traefik   = migrateVariant{"traefik", []string{"--to", "traefik"}, ""}
	allTarget = []migrateVariant{gwDefault, gwV16, envoy, istio, gke, traefik}
)

// migrateCase is a set of realistic inputs run through every variant.
type migrateCase struct {
	name     string
	inputs   []string // under testdata/
	onto     bool
	variants []migrateVariant
}

var migrateCases = []migrateCase{
	{name: "affinity-example", inputs: []string{"realworld/nginx-cookie-affinity-example.yaml"}},
	{name: "samesite", inputs: []string{"realworld/nginx-cookie-samesite-example.yaml"}},
	{name: "persistent-change-on-failure", inputs: []string{"realworld/nginx-affinity-persistent-change-on-failure.yaml"}},
	{name: "canary", inputs: []string{"realworld/nginx-canary-with-affinity.yaml"}},
	{name: "regex-paths", inputs: []string{"examples/nginx-regex-group-cookie-path-broken.yaml", "realworld/nginx-regex-rewrite-cookie-path.yaml", "realworld/nginx-hyscale-use-regex-literal.yaml"}},
	{name: "named-ports", inputs: []string{"realworld/nginx-andela-travela-production.yaml"}},
	{name: "tke-persistent", inputs: []string{"examples/tke-nginx-cookie-valid.yaml"}},
	{name: "upstream-hash-by", inputs: []string{"realworld/nginx-upstream-hash-by.yaml", "migrate/in/hash-by-header.yaml"}},
	{name: "shop", inputs: []string{"migrate/in/shop.yaml"}},
	{name: "grpc", inputs: []string{"migrate/in/grpc.yaml"}},
	{name: "edge-values", inputs: []string{"migrate/in/edge-values.yaml"}},
	{name: "onto", onto: true, variants: []migrateVariant{gwDefault, gwV16, envoy}, inputs: []string{
		"migrate/in/shop.yaml", "migrate/in/edge-values.yaml",
		"realworld/nginx-canary-with-affinity.yaml", "realworld/nginx-cookie-affinity-example.yaml"}},
}

func (c migrateCase) args(v migrateVariant) []string {
	args := append([]string{"migrate"}, v.args...)
	if c.onto {
		args = append(args, "--onto", ontoRoutes)
	}
	for _, in := range c.inputs {
		args = append(args, testdata+"/"+in)
	}
	return args
}

func (c migrateCase) all() []migrateVariant {
	if c.variants != nil {
		return c.variants
	}
	return allTarget
}

// TestMigrateGolden pins the objects and the report of every case on every
// target. Regenerate with UPDATE_GOLDEN=1 go test ./cmd/stickyguard -run TestMigrateGolden.
func TestMigrateGolden(t *testing.T) {
	for _, c := range migrateCases {
		for _, v := range c.all() {
			t.Run(c.name+"/"+v.name, func(t *testing.T) {
				code, out, errs := runCmd(t, "", c.args(v)...)
				require.Contains(t, []int{exitOK, exitLost}, code, errs)
				report := errs + fmt.Sprintf("exit status %d\n", code)
				base := filepath.Join(migrateGolden, c.name, v.name)
				if os.Getenv("UPDATE_GOLDEN") != "" {
					require.NoError(t, os.MkdirAll(filepath.Dir(base), 0o755))
					require.NoError(t, os.WriteFile(base+".yaml", []byte(out), 0o644))
					require.NoError(t, os.WriteFile(base+".txt", []byte(report), 0o644))
				}
				for file, got := range map[string]string{base + ".yaml": out, base + ".txt": report} {
					want, err := os.ReadFile(file)
					require.NoError(t, err, "missing golden: UPDATE_GOLDEN=1 go test ./cmd/stickyguard -run TestMigrateGolden")
					assert.Equal(t, string(want), got, "%s is stale: UPDATE_GOLDEN=1 go test ./cmd/stickyguard -run TestMigrateGolden", file)
				}
			})
		}
	}
}

// goldenOutputs lists every golden object file with the Gateway API bundle
// it was written for.
func goldenOutputs(t *testing.T) map[string]migrateVariant {
	t.Helper()
	out := map[string]migrateVariant{}
	for _, c := range migrateCases {
		for _, v := range c.all() {
			out[filepath.Join(migrateGolden, c.name, v.name+".yaml")] = v
		}
	}
	return out
}

// TestMigrateOutputPassesCheck: every object migrate writes passes
// `stickyguard check` (with the Gateway API bundle the output is for)
// without a violation.
func TestMigrateOutputPassesCheck(t *testing.T) {
	for file, v := range goldenOutputs(t) {
		t.Run(strings.TrimPrefix(file, migrateGolden+"/"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			docs, err := engine.ReadDocuments(file, bytes.NewReader(data))
			require.NoError(t, err)
			pol := policy.Default()
			if v.gateway != "" {
				pol.Cluster.GatewayAPI = policy.GatewayAPIFacts{Version: v.gateway, Channel: "experimental"}
			}
			checked, skipped, err := engine.CheckDocuments(docs, engine.Options{Policy: pol, Offline: true})
			require.NoError(t, err)
			rep := engine.NewReport(checked, skipped)
			for _, r := range rep.Results {
				assert.Empty(t, r.Violations, "%s %s/%s", r.Kind, r.Namespace, r.Name)
			}
			for _, s := range rep.Skipped {
				// Every kind migrate writes has rules; only the --onto
				// file's Gateway passes through unjudged.
				assert.Equal(t, "Gateway", s.Kind, "%s %s/%s skipped: %s", s.Kind, s.Namespace, s.Name, s.Reason)
			}
			assert.Equal(t, len(docs), len(rep.Results)+len(rep.Skipped))
		})
	}
}

// TestMigrateExitStatus: 0 when nothing is lost, 1 when something is, 2 for
// input errors and bad flags.
func TestMigrateExitStatus(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"nothing lost", []string{"migrate", "--to", "traefik", testdata + "/realworld/nginx-cookie-affinity-example.yaml"}, exitOK},
		{"samesite lost on gateway-api", []string{"migrate", "--to", "gateway-api", testdata + "/examples/tke-nginx-cookie-valid.yaml"}, exitLost},
		{"unmatched --onto path", []string{"migrate", "--to", "gateway-api", "--onto", ontoRoutes, testdata + "/migrate/in/edge-values.yaml"}, exitLost},
		{"no target", []string{"migrate", testdata + "/migrate/in/shop.yaml"}, exitError},
		{"unknown target", []string{"migrate", "--to", "nginx", testdata + "/migrate/in/shop.yaml"}, exitError},
		{"no input", []string{"migrate", "--to", "istio"}, exitError},
		{"bad -o", []string{"migrate", "--to", "istio", "-o", "toml", testdata + "/migrate/in/shop.yaml"}, exitError},
		{"--onto with istio", []string{"migrate", "--to", "istio", "--onto", ontoRoutes, testdata + "/migrate/in/shop.yaml"}, exitError},
		{"bad --gateway-api", []string{"migrate", "--to", "gateway-api", "--gateway-api", "v1.0.0", testdata + "/migrate/in/shop.yaml"}, exitError},
		{"missing file", []string{"migrate", "--to", "istio", testdata + "/migrate/in/nope.yaml"}, exitError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCmd(t, "", tc.args...)
			assert.Equal(t, tc.want, code, errs)
		})
	}
}

// TestMigrateUnreadableInput: a broken document is an input error naming
// file and line, as in check.
func TestMigrateUnreadableInput(t *testing.T) {
	in := "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: x\n---\n- just\n- a list\n"
	code, out, errs := runCmd(t, in, "migrate", "--to", "istio", "-")
	assert.Equal(t, exitError, code)
	assert.Empty(t, out)
	assert.Contains(t, errs, "-#2, line 6")
}

// TestMigrateJSON: -o json is one v1 List; --report json is the report's
// JSON form on stderr.
func TestMigrateJSON(t *testing.T) {
	code, out, errs := runCmd(t, "", "migrate", "--to", "istio", "-o", "json", "--report", "json", testdata+"/migrate/in/shop.yaml")
	require.Equal(t, exitOK, code, errs) // nothing lost: change-on-failure false is how a hash behaves
	var list struct {
		Kind  string           `json:"kind"`
		Items []map[string]any `json:"items"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &list))
	assert.Equal(t, "List", list.Kind)
	require.Len(t, list.Items, 2, "one DestinationRule per Service")
	var rep migrate.Report
	require.NoError(t, json.Unmarshal([]byte(errs), &rep))
	assert.Equal(t, "istio", rep.Target)
	require.Len(t, rep.Objects, 1)
	assert.Equal(t, []string{"DestinationRule/shop/storefront", "DestinationRule/shop/cart"}, rep.Objects[0].Outputs)
	assert.False(t, rep.Lost())
	verdicts := map[migrate.Aspect]migrate.Verdict{}
	for _, it := range rep.Objects[0].Items {
		verdicts[it.Aspect] = it.Verdict
	}
	assert.Equal(t, migrate.Exact, verdicts[migrate.AspChangeOnFailure])
	assert.Equal(t, migrate.Approximate, verdicts[migrate.AspSecure])
	assert.Equal(t, migrate.Exact, verdicts[migrate.AspMaxAge])
	assert.Equal(t, migrate.Approximate, verdicts[migrate.AspSameSite])
}

// TestMigrateDoc: docs/migrate.md is what `migrate --doc` prints.
func TestMigrateDoc(t *testing.T) {
	want, err := migrate.Markdown()
	require.NoError(t, err)
	code, out, errs := runCmd(t, "", "migrate", "--doc")
	require.Equal(t, exitOK, code, errs)
	assert.Equal(t, want, out)
	got, err := os.ReadFile("../../docs/migrate.md")
	require.NoError(t, err, "docs/migrate.md missing: run make docs")
	assert.Equal(t, want, string(got), "docs/migrate.md is stale: run make docs (go run ./cmd/stickyguard migrate --doc > docs/migrate.md)")
}
