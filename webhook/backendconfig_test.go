package webhook

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	toolscache "k8s.io/client-go/tools/cache"
)

func unstructuredBackendConfig(ns, name string, spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cloud.google.com/v1", "kind": "BackendConfig",
		"metadata": map[string]any{
			"namespace": ns, "name": name,
			"labels":        map[string]any{"team": "web"},
			"annotations":   map[string]any{lastApplied: "{...}", "note": "x"},
			"managedFields": []any{map[string]any{"manager": "kubectl"}},
		},
		"spec":   spec,
		"status": map[string]any{"ok": true},
	}}
}

// The cache keeps a BackendConfig's name, namespace and sessionAffinity.
func TestStripForCacheBackendConfig(t *testing.T) {
	u := unstructuredBackendConfig("shop", "sticky", map[string]any{
		"sessionAffinity": map[string]any{"affinityType": "GENERATED_COOKIE", "affinityCookieTtlSec": int64(60)},
		"cdn":             map[string]any{"enabled": true},
		"timeoutSec":      int64(40),
	})
	out, err := StripForCache(u)
	require.NoError(t, err)
	got := out.(*unstructured.Unstructured)
	assert.Equal(t, map[string]any{
		"apiVersion": "cloud.google.com/v1", "kind": "BackendConfig",
		"metadata": map[string]any{"namespace": "shop", "name": "sticky"},
		"spec": map[string]any{"sessionAffinity": map[string]any{
			"affinityType": "GENERATED_COOKIE", "affinityCookieTtlSec": int64(60)}},
	}, got.Object)

	// Other unstructured kinds are only stripped of managed fields.
	other := unstructuredBackendConfig("shop", "x", map[string]any{"a": "b"})
	other.SetAPIVersion("example.com/v1")
	out, err = StripForCache(other)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"a": "b"}, out.(*unstructured.Unstructured).Object["spec"])
}

func TestBackendConfigsIn(t *testing.T) {
	store := toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{toolscache.NamespaceIndex: toolscache.MetaNamespaceIndexFunc})
	for _, u := range []*unstructured.Unstructured{
		unstructuredBackendConfig("shop", "sticky", map[string]any{"sessionAffinity": map[string]any{"affinityType": "CLIENT_IP"}}),
		unstructuredBackendConfig("shop", "plain", map[string]any{}),
		// Not the CRD's types (its schema may not be enforced): exists,
		// affinity unknown.
		unstructuredBackendConfig("shop", "odd", map[string]any{"sessionAffinity": map[string]any{"affinityCookieTtlSec": "ten"}}),
		unstructuredBackendConfig("blog", "elsewhere", map[string]any{}),
	} {
		require.NoError(t, store.Add(u))
	}
	got, err := backendConfigsIn(store, "shop")
	require.NoError(t, err)
	require.Len(t, got, 3)
	require.NotNil(t, got["sticky"].SessionAffinity)
	assert.Equal(t, "CLIENT_IP", got["sticky"].SessionAffinity.AffinityType)
	assert.Nil(t, got["plain"].SessionAffinity)
	assert.Nil(t, got["odd"].SessionAffinity)
	assert.Equal(t, "odd", got["odd"].Name)

	got, err = backendConfigsIn(store, "empty")
	require.NoError(t, err)
	assert.NotNil(t, got, "watched: an empty namespace has none (so references are missing), not 'not tracked'")
	assert.Empty(t, got)
}

func TestCacheLookupBackendConfigsNotWatched(t *testing.T) {
	l := &CacheLookup{}
	got, err := l.BackendConfigs("shop")
	require.NoError(t, err)
	assert.Nil(t, got, "not tracked")
}
