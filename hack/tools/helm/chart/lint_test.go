package chart

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
)

// `helm lint` (and `helm lint --strict`) through Helm's own lint package:
// Chart.yaml, values against the schema, every template rendered in strict
// mode and checked as Kubernetes YAML. Nothing above INFO may be reported,
// with the defaults or with every optional part turned on.
func TestHelmLint(t *testing.T) {
	cases := map[string][]any{
		"defaults": nil,
		"everything on": {"certs.mode", "selfSigned", "namespace.create", true, "serviceMonitor.enabled", true, "prometheusRule.enabled", true,
			"networkPolicy.enabled", true, "audit.interval", "1h", "audit.policyReports.installCRD", true},
	}
	for name, set := range cases {
		t.Run(name, func(t *testing.T) {
			res := lint.RunAll(chartDir, values(t, set...), DefaultNamespace)
			for _, m := range res.Messages {
				t.Logf("lint: %s", m.Error())
				assert.LessOrEqual(t, m.Severity, support.InfoSev, "lint: %s", m.Error())
			}
		})
	}
}

// README.md is generated from README.md.gotmpl and the "# --" comments of
// values.yaml; run `make chart-docs` after changing either.
func TestChartREADMEIsCurrent(t *testing.T) {
	want, err := GenerateREADME(chartDir)
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(chartDir, "README.md"))
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "charts/stickyguard/README.md is out of date: run `make chart-docs`")
}

func TestDocumentValues(t *testing.T) {
	docs, err := DocumentValues([]byte(`# file comment

# -- Replicas.
replicaCount: 2
image:
  # -- The tag; empty means
  # the appVersion.
  tag: ""
undocumented: {a: 1}
list:
  # -- A list | with a pipe.
  items: [a, b]
`))
	require.NoError(t, err)
	require.Equal(t, []ValueDoc{
		{Key: "replicaCount", Type: "int", Default: "2", Description: "Replicas."},
		{Key: "image.tag", Type: "string", Default: `""`, Description: "The tag; empty means the appVersion."},
		{Key: "list.items", Type: "list", Default: `["a","b"]`, Description: "A list | with a pipe."},
	}, docs)
	assert.Equal(t, "| `list.items` | list | `[\"a\",\"b\"]` | A list \\| with a pipe. |\n", valuesTable(docs[2:])[len("| Key | Type | Default | Description |\n|-----|------|---------|-------------|\n"):])
}
