package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/internal/testenv"
)

// gatewayCRDs lists the CRD files of bundles (hack/gateway-crds.sh: the
// real CRDs from the Go module proxy, checksum-verified).
func gatewayCRDs(t *testing.T, bundles ...string) []string {
	t.Helper()
	cmd := exec.Command("bash", append([]string{filepath.Join(testenv.RepoRoot(), "hack", "gateway-crds.sh"), "paths"}, bundles...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "hack/gateway-crds.sh paths %v: %s", bundles, stderr.String())
	files := strings.Fields(string(out))
	require.NotEmpty(t, files)
	return files
}

// crdServer starts a real kube-apiserver with the CRD files installed.
func crdServer(t *testing.T, files []string) client.Client {
	t.Helper()
	assets, err := testenv.AssetsDir()
	require.NoError(t, err)
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDInstallOptions:     envtest.CRDInstallOptions{Paths: files, ErrorIfPathMissing: true},
	}
	cfg, err := env.Start()
	require.NoError(t, err, "starting envtest")
	t.Cleanup(func() { assert.NoError(t, env.Stop()) })
	c, err := client.New(cfg, client.Options{})
	require.NoError(t, err)
	return c
}

// goldenObjects reads the objects of golden files of one variant.
func goldenObjects(t *testing.T, variant string) map[string][]*unstructured.Unstructured {
	t.Helper()
	out := map[string][]*unstructured.Unstructured{}
	for file, v := range goldenOutputs(t) {
		if v.name != variant {
			continue
		}
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		for _, doc := range strings.Split(string(data), "\n---\n") {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			u := &unstructured.Unstructured{}
			require.NoError(t, yaml.Unmarshal([]byte(doc), &u.Object), file)
			out[file] = append(out[file], u)
		}
	}
	return out
}

// applyDryRun asks the API server what `kubectl apply` of the object would
// do, storing nothing; strict field validation makes a field the schema
// does not declare an error instead of silently dropping it. Traefik's
// Services are server-side applied (the metadata-only ones onto an existing
// Service, as their comment says; several golden files write one Service).
func applyDryRun(ctx context.Context, t *testing.T, c client.Client, u *unstructured.Unstructured) error {
	ns := u.GetNamespace()
	if ns == "" {
		ns = "default"
	}
	ensureNamespace(ctx, t, c, ns)
	obj := u.DeepCopy()
	obj.SetNamespace(ns)
	if obj.GetKind() == "Service" {
		if obj.Object["spec"] == nil {
			base := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: obj.GetName(), Namespace: ns},
				Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
			if err := c.Create(ctx, base); err != nil && !apierrors.IsAlreadyExists(err) {
				require.NoError(t, err)
			}
		}
		return c.Patch(ctx, obj, client.Apply, client.FieldOwner("stickyguard-migrate"), client.ForceOwnership, //nolint:staticcheck // server-side apply of an unstructured object
			client.DryRunAll, client.FieldValidation(metav1.FieldValidationStrict))
	}
	return c.Create(ctx, obj, client.DryRunAll, client.FieldValidation(metav1.FieldValidationStrict))
}

func ensureNamespace(ctx context.Context, t *testing.T, c client.Client, ns string) {
	if ns == "default" {
		return
	}
	err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		require.NoError(t, err)
	}
}

// TestMigrateOutputAcceptedByAPIServer: a real API server with each target's
// real CRDs accepts every golden output (server-side dry-run, strict field
// validation). Gateway API v1.7 routes, Istio DestinationRules and Traefik
// Services go to a server with Gateway API v1.7.0 (experimental) and Istio
// v1.32.0 CRDs; v1.6-shaped routes and Envoy Gateway's output to one with
// Gateway API v1.6.3 (experimental; Envoy Gateway v1.9 installs the same
// v1.6 shape) and Envoy Gateway v1.9.1 CRDs. GKE's CRDs are not published as
// a Go module: TestMigrateGKEPolicyShape checks those against the Go types.
func TestMigrateOutputAcceptedByAPIServer(t *testing.T) {
	ctx := context.Background()
	servers := []struct {
		name     string
		bundles  []string
		variants []string
		rejects  string // a variant whose routes this server must reject (the shape differs)
	}{
		{"gateway-api-v1.7", []string{"gateway-api-v1.7.0-experimental", "istio-v1.32.0"}, []string{gwDefault.name, istio.name, traefik.name}, gwV16.name},
		{"gateway-api-v1.6", []string{"gateway-api-v1.6.3-experimental", "envoy-gateway-v1.9.1"}, []string{gwV16.name, envoy.name}, gwDefault.name},
	}
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			c := crdServer(t, gatewayCRDs(t, s.bundles...))
			n := 0
			for _, variant := range s.variants {
				for file, objs := range goldenObjects(t, variant) {
					for _, u := range objs {
						n++
						t.Run(strings.TrimPrefix(file, migrateGolden+"/")+"/"+u.GetKind()+"/"+u.GetName(), func(t *testing.T) {
							assert.NoError(t, applyDryRun(ctx, t, c, u))
						})
					}
				}
			}
			assert.Greater(t, n, 20, "the golden files hold the objects to check")
			// The check is real: the other shape's routes are refused (the
			// other shape's keys are unknown fields under strict validation).
			rejected := 0
			for _, objs := range goldenObjects(t, s.rejects) {
				for _, u := range objs {
					if !slices.Contains([]string{apis.KindHTTPRoute, apis.KindGRPCRoute}, u.GetKind()) {
						continue
					}
					err := applyDryRun(ctx, t, c, u)
					if assert.Error(t, err, "%s/%s in the other shape", u.GetKind(), u.GetName()) {
						rejected++
					}
				}
			}
			assert.Positive(t, rejected)
		})
	}
}

// TestMigrateGKEPolicyShape checks the GCPBackendPolicies against what GKE's
// Go types (gke-gateway-api apis/networking/v1) declare, as GKE's CRDs are
// not available here: a Service target in the policy's namespace, an enum
// type, and cookieTtlSec within 0..1209600 only with a cookie type.
func TestMigrateGKEPolicyShape(t *testing.T) {
	types := []string{"CLIENT_IP", "CLIENT_IP_PORT_PROTO", "CLIENT_IP_PROTO", "GENERATED_COOKIE", "HEADER_FIELD", "HTTP_COOKIE", "NONE"}
	n := 0
	for file, objs := range goldenObjects(t, gke.name) {
		for _, u := range objs {
			n++
			js, err := u.MarshalJSON()
			require.NoError(t, err)
			o, err := apis.Decode(u.GetAPIVersion(), u.GetKind(), js)
			require.NoError(t, err, file)
			p, ok := o.(*apis.GCPBackendPolicy)
			require.True(t, ok, "%s: %s/%s is a GCPBackendPolicy", file, u.GetAPIVersion(), u.GetKind())
			assert.Equal(t, "Service", p.Spec.TargetRef.Kind, file)
			assert.Empty(t, p.Spec.TargetRef.Group, file)
			assert.NotEmpty(t, p.Spec.TargetRef.Name, file)
			assert.Nil(t, p.Spec.TargetRef.Namespace, "same namespace as the policy")
			require.NotNil(t, p.Spec.Default, file)
			sa := p.Spec.Default.SessionAffinity
			require.NotNil(t, sa, file)
			require.NotNil(t, sa.Type, file)
			assert.Contains(t, types, *sa.Type, file)
			if sa.CookieTTLSec != nil {
				assert.Contains(t, []string{"GENERATED_COOKIE", "HTTP_COOKIE"}, *sa.Type, file)
				assert.GreaterOrEqual(t, *sa.CookieTTLSec, int64(0), file)
				assert.LessOrEqual(t, *sa.CookieTTLSec, int64(1209600), file)
			}
		}
	}
	assert.Greater(t, n, 5)
}
