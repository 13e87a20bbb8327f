package webhook

import (
	"context"
	"encoding/json"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stickyguard/stickyguard/engine"
	"github.com/stickyguard/stickyguard/validators"
)

// GKE BackendConfigs (cloud.google.com/v1) are a custom resource that only
// exists where ingress-gce's CRD is installed. serve watches them when the
// API server serves the kind and stickyguard may list and watch it; GKE-006
// (a Service names a BackendConfig that does not exist) and GKE-008
// (BackendConfig affinity without NEG) then fire live. Otherwise they are
// "not tracked": those two rules stay quiet instead of reporting every
// reference missing. The decision is made once at start (a CRD installed
// later is picked up on the next restart).

// BackendConfigGVK is the GKE BackendConfig kind serve watches.
var BackendConfigGVK = schema.GroupVersionKind{Group: "cloud.google.com", Version: "v1", Kind: "BackendConfig"}

var backendConfigResource = schema.GroupVersionResource{Group: "cloud.google.com", Version: "v1", Resource: "backendconfigs"}

// newBackendConfig is an empty BackendConfig for the informer cache.
func newBackendConfig() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(BackendConfigGVK)
	return u
}

// isBackendConfig reports whether u is a GKE BackendConfig of any version.
func isBackendConfig(u *unstructured.Unstructured) bool {
	return u.GroupVersionKind().GroupKind() == BackendConfigGVK.GroupKind()
}

// AccessReviewer creates SelfSubjectAccessReviews (a client.Client does).
type AccessReviewer interface {
	Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error
}

// WatchBackendConfigs decides whether serve watches BackendConfigs: the API
// server must serve the kind, and stickyguard must be allowed to list and
// watch it cluster-wide (an informer that cannot would never sync, and
// readiness waits for the cache). why says what was decided and why, for the
// log. Nothing here stops serve from starting: any failure to find out
// means "not watched".
func WatchBackendConfigs(ctx context.Context, mapper meta.RESTMapper, c AccessReviewer) (ok bool, why string) {
	const off = ": GKE-006 and GKE-008 are not checked"
	if _, err := mapper.RESTMapping(BackendConfigGVK.GroupKind(), BackendConfigGVK.Version); err != nil {
		if meta.IsNoMatchError(err) {
			return false, "the API server does not serve cloud.google.com/v1 BackendConfig" + off
		}
		return false, "cannot tell whether cloud.google.com/v1 BackendConfig is served (" + err.Error() + ")" + off
	}
	if ok, why := mayWatch(ctx, c, backendConfigResource); !ok {
		return false, why + off
	}
	return true, "watching cloud.google.com/v1 BackendConfigs for GKE-006 and GKE-008"
}

// slimBackendConfig keeps what the rules read of a cached BackendConfig:
// its name and namespace and spec.sessionAffinity.
func slimBackendConfig(u *unstructured.Unstructured) {
	spec := map[string]any{}
	if sa, ok, _ := unstructured.NestedFieldNoCopy(u.Object, "spec", "sessionAffinity"); ok {
		spec["sessionAffinity"] = sa
	}
	u.Object["spec"] = spec
	delete(u.Object, "status")
	u.SetLabels(nil)
	u.SetAnnotations(nil)
}

// backendConfigsIn reads a namespace's BackendConfigs from the informer
// store. A stored BackendConfig whose affinity cannot be read (the CRD may
// not enforce its schema) still exists: it is returned without affinity.
func backendConfigsIn(store toolscache.Indexer, ns string) (map[string]*validators.BackendConfig, error) {
	items, err := store.ByIndex(toolscache.NamespaceIndex, ns)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*validators.BackendConfig, len(items))
	for _, it := range items {
		u, ok := it.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		name := u.GetName()
		bc := &validators.BackendConfig{Namespace: ns, Name: name}
		if js, err := json.Marshal(map[string]any{"spec": u.Object["spec"]}); err == nil {
			if got, err := engine.BackendConfigFromJSON(ns, name, js); err == nil {
				bc = got
			}
		}
		out[name] = bc
	}
	return out, nil
}
