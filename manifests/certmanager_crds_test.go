package manifests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/stickyguard/stickyguard/internal/testenv"
)

// certManagerModule is pinned (version and checksum) by hack/tools/certmanager.
const certManagerModule = "github.com/cert-manager/cert-manager"

// certManagerCRDs returns deploy/crds of the pinned cert-manager module, fetched
// through the Go module proxy (once; the module cache keeps it) and verified
// against the tools module's go.sum.
func certManagerCRDs(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	require.NoError(t, err, "the go command fetches the cert-manager module")
	cmd := exec.Command(gobin, "mod", "download", "-json", certManagerModule)
	cmd.Dir = filepath.Join(repoRoot(t), "hack", "tools", "certmanager")
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "go mod download %s: %s%s", certManagerModule, stderr.String(), out)
	var mod struct{ Version, Dir, Error string }
	require.NoError(t, json.Unmarshal(out, &mod))
	require.Empty(t, mod.Error)
	dir := filepath.Join(mod.Dir, "deploy", "crds")
	for _, f := range []string{"cert-manager.io_issuers.yaml", "cert-manager.io_certificates.yaml"} {
		require.FileExists(t, filepath.Join(dir, f), "cert-manager %s ships its CRDs in deploy/crds", mod.Version)
	}
	t.Logf("cert-manager CRDs from %s@%s", certManagerModule, mod.Version)
	return dir
}

// startAPIServer starts a real kube-apiserver and etcd (envtest) with the CRDs
// in crdDir installed, stopped when the test ends.
func startAPIServer(t *testing.T, crdDir string) client.Client {
	t.Helper()
	assets, err := testenv.AssetsDir()
	require.NoError(t, err)
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDInstallOptions:     envtest.CRDInstallOptions{Paths: []string{crdDir}, ErrorIfPathMissing: true},
	}
	cfg, err := env.Start()
	require.NoError(t, err, "starting envtest")
	t.Cleanup(func() { assert.NoError(t, env.Stop()) })
	c, err := client.New(cfg, client.Options{})
	require.NoError(t, err)
	return c
}

// isCertManager tells the objects whose kinds cert-manager's CRDs define.
func isCertManager(u *unstructured.Unstructured) bool {
	group := u.GroupVersionKind().Group
	return group == "cert-manager.io" || strings.HasSuffix(group, ".cert-manager.io")
}

// dryRunCreate is what `kubectl apply` of a new object asks the API server,
// without storing it: strict field validation turns a field the schema does
// not declare into an error (otherwise the server would drop it silently).
func dryRunCreate(ctx context.Context, c client.Client, u *unstructured.Unstructured) error {
	return c.Create(ctx, u.DeepCopy(), client.DryRunAll, client.FieldValidation(metav1.FieldValidationStrict))
}

// TestCertManagerOverlayAgainstCRDs validates the cert-manager overlay's
// Issuers and Certificates with cert-manager's own CRDs on a real API server.
// The cert-manager controllers and cainjector do not run here.
func TestCertManagerOverlayAgainstCRDs(t *testing.T) {
	objs := render(t, kustomizations(t)["cert-manager"])
	c := startAPIServer(t, certManagerCRDs(t))
	ctx := context.Background()

	nsObj := objs.all("Namespace")
	require.Len(t, nsObj, 1, "the overlay creates its namespace")
	require.NoError(t, c.Create(ctx, nsObj[0].u.DeepCopy()))

	kinds := map[string]int{}
	byName := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		if !isCertManager(o.u) {
			continue
		}
		kinds[o.u.GetKind()]++
		byName[o.u.GetKind()+"/"+o.u.GetName()] = o.u
		t.Run(o.u.GetKind()+"/"+o.u.GetName(), func(t *testing.T) {
			assert.NoError(t, dryRunCreate(ctx, c, o.u))
		})
	}
	assert.Equal(t, map[string]int{"Issuer": 2, "Certificate": 2}, kinds, "cert-manager objects in the overlay")
	t.Run("mistakes rejected", func(t *testing.T) { checkRejected(ctx, t, c, byName) })
}

// checkRejected proves the check above is real: an object of the overlay with
// one mistake is refused, with the mistake's field path in the answer.
func checkRejected(ctx context.Context, t *testing.T, c client.Client, objs map[string]*unstructured.Unstructured) {
	const serving, selfSigned, caIssuer = "Certificate/stickyguard-webhook", "Issuer/stickyguard-selfsigned", "Issuer/stickyguard-ca"
	cases := []struct {
		name    string
		obj     string   // Kind/name in the overlay
		path    []string // field to set, under the object
		value   any
		unknown bool   // a field the schema does not declare (strict validation)
		field   string // the cause's field path for a schema violation
	}{
		{name: "dnsName for dnsNames", obj: serving, path: []string{"spec", "dnsName"}, value: "x.example", unknown: true},
		{name: "issuerRef.nam", obj: serving, path: []string{"spec", "issuerRef", "nam"}, value: "stickyguard-ca", unknown: true},
		{name: "selfsigned for selfSigned", obj: selfSigned, path: []string{"spec", "selfsigned"}, value: map[string]any{}, unknown: true},
		{name: "rotationPolicy not in the enum", obj: serving, path: []string{"spec", "privateKey", "rotationPolicy"}, value: "Sometimes", field: "spec.privateKey.rotationPolicy"},
		{name: "duration as a number", obj: serving, path: []string{"spec", "duration"}, value: int64(8760), field: "spec.duration"},
		{name: "CA issuer without secretName", obj: caIssuer, path: []string{"spec", "ca"}, value: map[string]any{}, field: "spec.ca.secretName"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, objs, tc.obj)
			bad := objs[tc.obj].DeepCopy()
			require.NoError(t, unstructured.SetNestedField(bad.Object, tc.value, tc.path...))
			err := dryRunCreate(ctx, c, bad)
			require.Error(t, err)
			if tc.unknown {
				require.True(t, apierrors.IsBadRequest(err), "strict decoding is a 400: %v", err)
				assert.Contains(t, unknownFields(err), strings.Join(tc.path, "."))
				return
			}
			require.True(t, apierrors.IsInvalid(err), "schema violation is a 422: %v", err)
			assert.Contains(t, causeFields(err), tc.field)
		})
	}
}

// causeFields lists the field paths of an API error's causes.
func causeFields(err error) []string {
	var fields []string
	var st apierrors.APIStatus
	if errors.As(err, &st) && st.Status().Details != nil {
		for _, c := range st.Status().Details.Causes {
			fields = append(fields, c.Field)
		}
	}
	return fields
}

// unknownFields lists the paths a strict-decoding 400 names: that answer has
// no causes, only `unknown field "PATH"` in its message, once per field.
func unknownFields(err error) []string {
	var st apierrors.APIStatus
	if !errors.As(err, &st) {
		return nil
	}
	var paths []string
	for _, m := range unknownFieldRE.FindAllStringSubmatch(st.Status().Message, -1) {
		paths = append(paths, m[1])
	}
	return paths
}

var unknownFieldRE = regexp.MustCompile(`unknown field "([^"]+)"`)
