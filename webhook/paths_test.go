package webhook

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/yaml"
)

// manifestPath is manifests/base/webhook-configurations.yaml in this repo.
func manifestPath(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Join(filepath.Dir(file), "..", "manifests", "base", "webhook-configurations.yaml")
}

// hookEntry is what the test compares from either configuration kind.
type hookEntry struct {
	name  string
	path  string
	rules []admissionregistrationv1.RuleWithOperations
}

func readManifest(t *testing.T) (mutating, validating []hookEntry, raw map[string]int) {
	data, err := os.ReadFile(manifestPath(t))
	require.NoError(t, err)
	raw = map[string]int{}
	for _, doc := range bytes.Split(data, []byte("\n---")) {
		if len(bytes.TrimSpace(doc)) == 0 || !bytes.Contains(doc, []byte("kind:")) {
			continue
		}
		var meta struct{ Kind string }
		require.NoError(t, yaml.Unmarshal(doc, &meta))
		raw[meta.Kind]++
		switch meta.Kind {
		case "MutatingWebhookConfiguration":
			var c admissionregistrationv1.MutatingWebhookConfiguration
			require.NoError(t, yaml.UnmarshalStrict(doc, &c))
			for _, w := range c.Webhooks {
				require.NotNil(t, w.ClientConfig.Service, w.Name)
				require.NotNil(t, w.ClientConfig.Service.Path, w.Name)
				mutating = append(mutating, hookEntry{w.Name, *w.ClientConfig.Service.Path, w.Rules})
			}
		case "ValidatingWebhookConfiguration":
			var c admissionregistrationv1.ValidatingWebhookConfiguration
			require.NoError(t, yaml.UnmarshalStrict(doc, &c))
			for _, w := range c.Webhooks {
				require.NotNil(t, w.ClientConfig.Service, w.Name)
				require.NotNil(t, w.ClientConfig.Service.Path, w.Name)
				validating = append(validating, hookEntry{w.Name, *w.ClientConfig.Service.Path, w.Rules})
			}
		}
	}
	return mutating, validating, raw
}

func TestManifestPathsMatchRoutes(t *testing.T) {
	mutating, validating, kinds := readManifest(t)
	assert.Equal(t, map[string]int{"MutatingWebhookConfiguration": 1, "ValidatingWebhookConfiguration": 1}, kinds)

	var manifest, registered []string
	for _, h := range append(append([]hookEntry{}, mutating...), validating...) {
		manifest = append(manifest, h.path)
	}
	registered = Paths()
	sort.Strings(manifest)
	sort.Strings(registered)
	assert.Equal(t, registered, manifest, "paths in manifests/ and webhook/paths.go differ")

	// Each path is served in the right configuration and admits the kind
	// its route decodes.
	byPath := map[string]Route{}
	for _, r := range Routes() {
		byPath[r.Path] = r
	}
	check := func(entries []hookEntry, half Half) {
		for _, h := range entries {
			r, ok := byPath[h.path]
			if !assert.True(t, ok, h.path) {
				continue
			}
			assert.Equal(t, half, r.Half, "%s is in the wrong configuration", h.path)
			require.Len(t, h.rules, 1, h.name)
			rule := h.rules[0]
			gvk := r.Kind()
			assert.Equal(t, []string{gvk.Group}, rule.APIGroups, h.name)
			assert.Equal(t, []string{gvk.Version}, rule.APIVersions, h.name)
			assert.Equal(t, []string{strings.ToLower(gvk.Kind) + pluralSuffix(gvk.Kind)}, rule.Resources, h.name)
			assert.Equal(t, strings.ToLower(gvk.Kind)+pluralSuffix(gvk.Kind)+".stickyguard.io", h.name)
		}
	}
	check(mutating, Mutating)
	check(validating, Validating)
}

func pluralSuffix(kind string) string {
	if strings.HasSuffix(kind, "s") {
		return "es"
	}
	return "s"
}

func TestRoutesAreUniqueAndKubebuilderStyle(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Routes() {
		assert.False(t, seen[r.Path], "duplicate %s", r.Path)
		seen[r.Path] = true
		gvk := r.Kind()
		want := "/" + string(r.Half) + "-" + strings.ReplaceAll(gvk.Group, ".", "-") + "-" + gvk.Version + "-" + strings.ToLower(gvk.Kind)
		assert.Equal(t, want, r.Path)
	}
	assert.Len(t, seen, 6)
}
