package chart

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stickyguard/stickyguard/certs"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	dynfake "k8s.io/client-go/dynamic/fake"
)

// render renders the chart with values given as dotted keys and values.
func render(t *testing.T, kv ...any) *Result {
	t.Helper()
	res, err := Render(Options{ChartDir: chartDir, Values: values(t, kv...)})
	require.NoError(t, err)
	return res
}

// values builds a values map from dotted keys: values(t, "image.tag", "v1").
func values(t *testing.T, kv ...any) map[string]any {
	t.Helper()
	require.Zero(t, len(kv)%2, "values takes key, value pairs")
	out := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		path := strings.Split(kv[i].(string), ".")
		m := out
		for _, p := range path[:len(path)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		m[path[len(path)-1]] = kv[i+1]
	}
	return out
}

func kustomize(t *testing.T, rel string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := Kustomize(filepath.Join(repoRoot, rel))
	require.NoError(t, err)
	return objs
}

// The default values render exactly what `kubectl apply -k
// manifests/overlays/cert-manager` applies, but the Namespace: Helm keeps
// its release record in the namespace, so it exists before the chart is
// rendered (helm install --create-namespace) and namespace.create is off.
func TestDefaultsEqualCertManagerOverlay(t *testing.T) {
	want := kustomize(t, "manifests/overlays/cert-manager")
	require.Len(t, only(want, "Namespace"), 1)
	assertSameObjects(t, without(want, "Namespace"), render(t).Objects)
}

func TestNamespaceCreateEqualsOverlayNamespace(t *testing.T) {
	want := only(kustomize(t, "manifests/overlays/cert-manager"), "Namespace")
	got := render(t, "namespace.create", true)
	assertSameObjects(t, want, only(got.Objects, "Namespace"))
}

// selfSigned renders what manifests/overlays/self-managed applies, apart
// from the TLS Secret (a hook Job makes it in the cluster): with the
// overlay's Secret in the cluster (lookup), even every caBundle is equal.
func TestSelfSignedEqualsSelfManagedOverlay(t *testing.T) {
	tmp := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(tmp, "manifests"), os.DirFS(filepath.Join(repoRoot, "manifests"))))
	overlay := filepath.Join(tmp, "manifests", "overlays", "self-managed")
	opts := certs.DefaultOptions()
	opts.Hosts = nil
	_, err := certs.Generate(filepath.Join(overlay, "certs"), opts, certs.GenerateOptions{})
	require.NoError(t, err)
	want, err := Kustomize(overlay)
	require.NoError(t, err)
	secrets := only(want, "Secret")
	require.Len(t, secrets, 1)

	got, err := Render(Options{ChartDir: chartDir, Values: values(t, "certs.mode", "selfSigned"), Upgrade: true, Lookup: lookupOf(t, secrets[0])})
	require.NoError(t, err)
	assertSameObjects(t, without(want, "Namespace", "Secret"), got.Objects)

	// Without the Secret (first install) the caBundle is left to the
	// post-install hook and no entry carries one.
	first := render(t, "certs.mode", "selfSigned")
	for _, wh := range webhooks(t, first) {
		_, has, _ := unstructured.NestedString(wh, "clientConfig", "caBundle")
		require.False(t, has, "webhook %s has a caBundle before the Secret exists", wh["name"])
	}
}

// The continuous audit renders what manifests/policyreport applies.
func TestAuditEqualsPolicyReportManifests(t *testing.T) {
	want := kustomize(t, "manifests/policyreport")
	got := render(t, "audit.interval", "1h", "audit.policyReports.installCRD", true)
	kinds := []string{"CustomResourceDefinition", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"}
	var gotAudit []*unstructured.Unstructured
	for _, o := range only(got.Objects, kinds...) {
		if o.GetKind() == "CustomResourceDefinition" || strings.Contains(o.GetName(), "-audit-") {
			gotAudit = append(gotAudit, o)
		}
	}
	assertSameObjects(t, want, gotAudit)
}

func TestNetworkPolicyEqualsComponent(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, "manifests", "components", "networkpolicy", "networkpolicy.yaml"))
	require.NoError(t, err)
	want, err := ParseYAML(raw)
	require.NoError(t, err)
	assertSameObjects(t, want, only(render(t, "networkPolicy.enabled", true).Objects, "NetworkPolicy"))
}

// lookupOf answers the chart's lookup calls from the given objects, as a
// cluster holding them would.
func lookupOf(t *testing.T, objs ...*unstructured.Unstructured) fakeLookup {
	t.Helper()
	var rs []runtime.Object
	listKinds := map[schema.GroupVersionResource]string{}
	for _, o := range objs {
		o = o.DeepCopy()
		// As the API server returns it: []byte data is base64 on one line.
		if data, ok := o.Object["data"].(map[string]any); ok && o.GetKind() == "Secret" {
			for k, v := range data {
				data[k] = strings.ReplaceAll(v.(string), "\n", "")
			}
		}
		rs = append(rs, o)
		listKinds[gvrOf(o.GetAPIVersion(), o.GetKind())] = o.GetKind() + "List"
	}
	return fakeLookup{dynfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, rs...)}
}

type fakeLookup struct{ client dynamic.Interface }

func (f fakeLookup) GetClientFor(apiVersion, kind string) (dynamic.NamespaceableResourceInterface, bool, error) {
	return f.client.Resource(gvrOf(apiVersion, kind)), true, nil
}

func gvrOf(apiVersion, kind string) schema.GroupVersionResource {
	gv, _ := schema.ParseGroupVersion(apiVersion)
	return gv.WithResource(strings.ToLower(kind) + "s")
}

// webhooks returns every entry of both webhook configurations.
func webhooks(t *testing.T, r *Result) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, kind := range []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
		cfg := r.Find(kind, DefaultRelease)
		require.NotNil(t, cfg, kind)
		list, _, _ := unstructured.NestedSlice(cfg.Object, "webhooks")
		for _, w := range list {
			out = append(out, w.(map[string]any))
		}
	}
	require.NotEmpty(t, out)
	return out
}
