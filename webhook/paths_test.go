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

	// Every registered path is served, and nothing else: the set of paths in
	// the manifest equals the route table.
	seen := map[string]bool{}
	var manifest, registered []string
	for _, h := range append(append([]hookEntry{}, mutating...), validating...) {
		if !seen[h.path] {
			seen[h.path] = true
			manifest = append(manifest, h.path)
		}
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
	check := func(entries []hookEntry, half Half, names func(resource string) []string) {
		perPath := map[string][]string{}
		for _, h := range entries {
			r, ok := byPath[h.path]
			if !assert.True(t, ok, h.path) {
				continue
			}
			assert.Equal(t, half, r.Half, "%s is in the wrong configuration", h.path)
			require.Len(t, h.rules, 1, h.name)
			rule := h.rules[0]
			gvk := r.Kind()
			resource := resourceName(gvk.Kind)
			assert.Equal(t, []string{gvk.Group}, rule.APIGroups, h.name)
			assert.Equal(t, []string{gvk.Version}, rule.APIVersions, h.name)
			assert.Equal(t, []string{resource}, rule.Resources, h.name)
			assert.Contains(t, names(resource), h.name)
			perPath[h.path] = append(perPath[h.path], h.name)
		}
		// Every path of this half has exactly its entries.
		for _, r := range Routes() {
			if r.Half != half {
				continue
			}
			gvk := r.Kind()
			want := names(resourceName(gvk.Kind))
			assert.ElementsMatch(t, want, perPath[r.Path], "entries serving %s", r.Path)
		}
	}
	// One mutating entry per kind (enforce and audit: audit withholds the
	// patch itself); one validating entry per kind and mode, so each mode
	// has its own failure policy.
	check(mutating, Mutating, func(resource string) []string { return []string{resource + ".stickyguard.io"} })
	check(validating, Validating, func(resource string) []string {
		return []string{resource + ".enforce.stickyguard.io", resource + ".audit.stickyguard.io"}
	})
}

// resourceName is the plural resource of a kind, as the CRDs and the core
// API name them.
func resourceName(kind string) string {
	k := strings.ToLower(kind)
	switch {
	case strings.HasSuffix(k, "s"):
		return k + "es"
	case strings.HasSuffix(k, "y"):
		return strings.TrimSuffix(k, "y") + "ies"
	}
	return k + "s"
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
	assert.Len(t, seen, 14, "two halves for Services, Ingresses, Deployments and StatefulSets; the validating half for HTTPRoutes, GRPCRoutes, XBackendTrafficPolicies, Envoy Gateway BackendTrafficPolicies, DestinationRules and GCPBackendPolicies")
}
