package corpus

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	ctrlwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/stickyguard/stickyguard/internal/sticky"
	"github.com/stickyguard/stickyguard/internal/testenv"
	"github.com/stickyguard/stickyguard/webhook"
)

// call is one admission request the recording handler received.
type call struct {
	Path      string
	Operation admissionv1.Operation
	Namespace string
	Name      string
	DryRun    bool
	Object    []byte
	OldObject []byte
}

// recorder answers every review "allowed" and remembers it.
type recorder struct {
	mu    sync.Mutex
	calls []call
}

func (r *recorder) handler(path string) admission.Handler {
	return admission.HandlerFunc(func(_ context.Context, req admission.Request) admission.Response {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.calls = append(r.calls, call{
			Path: path, Operation: req.Operation, Namespace: req.Namespace, Name: req.Name,
			DryRun: req.DryRun != nil && *req.DryRun, Object: req.Object.Raw, OldObject: req.OldObject.Raw,
		})
		return admission.Allowed("")
	})
}

// to returns the calls for one object, by path.
func (r *recorder) to(ns, name string) map[string][]call {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]call{}
	for _, c := range r.calls {
		if c.Namespace == ns && c.Name == name {
			out[c.Path] = append(out[c.Path], c)
		}
	}
	return out
}

// forget drops the calls recorded so far.
func (r *recorder) forget() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = nil
}

// controlPlane is the envtest API server with the shipped webhook
// configurations and the recording server behind their paths.
type controlPlane struct {
	env    *envtest.Environment
	client client.Client
	rec    *recorder
	stop   context.CancelFunc
	err    error
}

var (
	cpOnce sync.Once
	cp     controlPlane
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, p := range append([]*controlPlane{&cp}, startedPlanes()...) {
		p.shutdown()
	}
	os.Exit(code)
}

// shutdown stops the recording server and the API server, if started.
func (c *controlPlane) shutdown() {
	if c.env == nil {
		return
	}
	c.stop()
	if err := c.env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping envtest:", err)
	}
}

// apiserver starts the control plane once for the package.
func apiserver(t *testing.T) *controlPlane {
	t.Helper()
	cpOnce.Do(func() { cp.err = startControlPlane(&cp, nil) })
	require.NoError(t, cp.err)
	return &cp
}

// startControlPlane starts a kube-apiserver with the CRDs (files or
// directories) and the shipped webhook configurations, and the recording
// server behind every registered path.
func startControlPlane(c *controlPlane, crds []string) error {
	logf.SetLogger(logr.Discard())
	assets, err := testenv.AssetsDir()
	if err != nil {
		return err
	}
	c.env = &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDInstallOptions:     envtest.CRDInstallOptions{Paths: crds, ErrorIfPathMissing: true},
		WebhookInstallOptions: envtest.WebhookInstallOptions{
			Paths:            []string{filepath.Join(repoRoot(), "manifests", "base", "webhook-configurations.yaml")},
			LocalServingHost: "127.0.0.1",
		},
	}
	cfg, err := c.env.Start()
	if err != nil {
		c.env = nil
		return fmt.Errorf("starting envtest: %w", err)
	}
	if c.client, err = client.New(cfg, client.Options{Scheme: webhook.NewScheme()}); err != nil {
		return err
	}
	wio := c.env.WebhookInstallOptions
	srv := ctrlwebhook.NewServer(ctrlwebhook.Options{Host: wio.LocalServingHost, Port: wio.LocalServingPort, CertDir: wio.LocalServingCertDir})
	c.rec = &recorder{}
	for _, p := range webhook.Paths() {
		srv.Register(p, &admission.Webhook{Handler: c.rec.handler(p)})
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.stop = cancel
	go func() { _ = srv.Start(ctx) }()
	check := srv.StartedChecker()
	deadline := time.Now().Add(20 * time.Second)
	for check(&http.Request{}) != nil {
		if time.Now().After(deadline) {
			return fmt.Errorf("the recording webhook server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// createNamespace creates a namespace with the given mode label ("" for none).
func (c *controlPlane) createNamespace(t *testing.T, name, mode string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if mode != "" {
		ns.Labels = map[string]string{sticky.LabelMode: mode}
	}
	require.NoError(t, c.client.Create(testCtx(t), ns))
}

// path is the registered path of a half and catalog kind.
func path(half webhook.Half, kind string) string {
	for _, r := range webhook.Routes() {
		if r.Half == half && r.Kind().Kind == kind {
			return r.Path
		}
	}
	panic("no route for " + string(half) + " " + kind)
}

// decodeAs decodes raw JSON into a new object of the same kind as like.
func decodeAs(t *testing.T, like k8sruntime.Object, raw []byte) client.Object {
	t.Helper()
	var obj client.Object
	switch like.(type) {
	case *corev1.Service:
		obj = &corev1.Service{}
	case *networkingv1.Ingress:
		obj = &networkingv1.Ingress{}
	case *appsv1.Deployment:
		obj = &appsv1.Deployment{}
	case *appsv1.StatefulSet:
		obj = &appsv1.StatefulSet{}
	default:
		t.Fatalf("cannot decode a %T", like)
	}
	require.NoError(t, json.Unmarshal(raw, obj))
	return obj
}

// nsFor turns a corpus file name into a namespace name.
func nsFor(file string) string {
	return "rule-" + strings.ToLower(strings.ReplaceAll(strings.TrimSuffix(file, ".yaml"), ".", "-"))
}

// create creates o, or for an IngressClass (cluster-scoped, shared by the
// examples) reuses an existing one with the same controller.
func (c *controlPlane) create(t *testing.T, o client.Object) {
	t.Helper()
	err := c.client.Create(testCtx(t), o)
	if ic, ok := o.(*networkingv1.IngressClass); ok && apierrors.IsAlreadyExists(err) {
		var got networkingv1.IngressClass
		require.NoError(t, c.client.Get(testCtx(t), client.ObjectKeyFromObject(ic), &got))
		require.Equal(t, ic.Spec.Controller, got.Spec.Controller, "IngressClass %s is shared by the corpus with one controller", ic.Name)
		got.DeepCopyInto(ic)
		return
	}
	require.NoError(t, err, "creating %s", nameOf(o))
}
