package policy

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func known(id string) bool { return id == "SVC-001" || id == "NGX-013" }

func TestDefault(t *testing.T) {
	p := Default()
	require.NoError(t, p.Validate(known))
	assert.Equal(t, int32(10800), p.Service.ClientIPTimeout.Default)
	assert.True(t, p.SetLocal())
	assert.Equal(t, AntiAffinityPreferred, p.AntiAffinity.Mode)
	assert.Equal(t, "k8s.io/ingress-nginx", p.ControllerForClass("nginx"))
	assert.Equal(t, "k8s.io/ingress-gce", p.ControllerForClass("gce-internal"))
}

func TestParse(t *testing.T) {
	p, err := Parse([]byte(`apiVersion: stickyguard.io/v1alpha1
kind: Policy
service:
  clientIPTimeout:
    default: 3600
  setExternalTrafficPolicyLocal: false
antiAffinity:
  mode: required
ingress:
  classControllers:
    nginx-internal: k8s.io/ingress-nginx
cluster:
  cce: turbo
rules:
  SVC-001: warn
  NGX-013: disabled
`), known)
	require.NoError(t, err)
	assert.Equal(t, int32(3600), p.Service.ClientIPTimeout.Default)
	assert.Equal(t, int32(60), p.Service.ClientIPTimeout.Min, "unset keys keep defaults")
	assert.False(t, p.SetLocal())
	assert.Equal(t, AntiAffinityRequired, p.AntiAffinity.Mode)
	assert.Equal(t, int32(100), p.AntiAffinity.Weight)
	assert.Equal(t, "k8s.io/ingress-nginx", p.ControllerForClass("nginx-internal"))
	assert.Equal(t, "ingress.k8s.aws/alb", p.ControllerForClass("alb"), "built-ins merged")
	assert.Equal(t, CCETurbo, p.Cluster.CCE)
	assert.Equal(t, OverrideWarn, p.Override("SVC-001"))
	assert.Equal(t, OverrideDisabled, p.Override("NGX-013"))
}

func TestParseErrors(t *testing.T) {
	head := "apiVersion: stickyguard.io/v1alpha1\nkind: Policy\n"
	tests := []struct {
		name string
		doc  string
		want []string // substrings of the error
	}{
		{"empty", "", []string{"empty"}},
		{"not yaml", "a: [b", []string{"line"}},
		{"unknown key", head + "servce:\n  x: 1\n", []string{"line 3", "servce", "unknown key"}},
		{"unknown nested key", head + "service:\n  clientIPTimeout:\n    defualt: 5\n", []string{"line 5", "defualt"}},
		{"wrong type", head + "antiAffinity:\n  weight: heavy\n", []string{"line 4"}},
		{"bad value", head + "antiAffinity:\n  mode: sometimes\n", []string{"line 4", "antiAffinity.mode"}},
		{"range", head + "service:\n  clientIPTimeout:\n    default: 0\n", []string{"line 5", "service.clientIPTimeout.default"}},
		{"min above max", head + "service:\n  clientIPTimeout:\n    min: 5000\n    max: 100\n", []string{"line 5", "must not exceed max"}},
		{"weight", head + "antiAffinity:\n  weight: 101\n", []string{"antiAffinity.weight"}},
		{"unknown rule", head + "rules:\n  NOPE-001: warn\n", []string{"line 4", "rules.NOPE-001", "unknown rule"}},
		{"bad override", head + "rules:\n  SVC-001: sometimes\n", []string{"rules.SVC-001"}},
		{"wrong kind", "apiVersion: stickyguard.io/v1alpha1\nkind: Config\n", []string{"kind", "line 2"}},
		{"two documents", head + "---\n" + head, []string{"single YAML document"}},
		{"cce", head + "cluster:\n  cce: huge\n", []string{"cluster.cce"}},
		{"huge", head + strings.Repeat("#", maxPolicyBytes), []string{"limit"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), known)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestParseReportsEveryError(t *testing.T) {
	_, err := Parse([]byte("apiVersion: stickyguard.io/v1alpha1\nkind: Policy\nantiAffinity:\n  mode: x\n  weight: 0\n"), known)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "antiAffinity.mode")
	assert.Contains(t, err.Error(), "antiAffinity.weight")
}

func FuzzParse(f *testing.F) {
	f.Add("apiVersion: stickyguard.io/v1alpha1\nkind: Policy\nrules: {SVC-001: warn}\n")
	f.Add("service: {clientIPTimeout: {default: -1}}")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse([]byte(s), known)
		if err == nil {
			require.NoError(t, p.Validate(known))
		}
	})
}
