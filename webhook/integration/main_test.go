package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/stickyguard/stickyguard/internal/sticky"
	"github.com/stickyguard/stickyguard/internal/testenv"
	"github.com/stickyguard/stickyguard/webhook"
)

// Namespaces of the suite, by mode label.
const (
	nsEnforce = "shop"
	nsAudit   = "staging"
	nsPlain   = "plain"
)

// suite is the control plane and server shared by every test of the package.
var suite struct {
	env  *envtest.Environment
	cfg  *rest.Config
	opts webhook.ServerOptions
	srv  *webhook.Server
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// SG_DEBUG=1 shows the server's logs.
	if os.Getenv("SG_DEBUG") != "" {
		logf.SetLogger(zap.New(zap.UseDevMode(true)))
	} else {
		logf.SetLogger(logr.Discard())
	}
	assets, err := testenv.AssetsDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: webhook integration tests:", err)
		return 1
	}
	suite.env = &envtest.Environment{
		BinaryAssetsDirectory: assets,
		// GKE BackendConfigs are served, so the server watches them.
		CRDInstallOptions: envtest.CRDInstallOptions{
			Paths:              []string{filepath.Join(repoRoot(), "testdata", "crds", "backendconfig.yaml")},
			ErrorIfPathMissing: true,
		},
		WebhookInstallOptions: envtest.WebhookInstallOptions{
			Paths:            []string{filepath.Join(repoRoot(), "manifests", "base", "webhook-configurations.yaml")},
			LocalServingHost: "127.0.0.1",
		},
	}
	if suite.cfg, err = suite.env.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: starting envtest:", err)
		return 1
	}
	defer func() {
		if err := suite.env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping envtest:", err)
		}
	}()
	if err := createNamespaces(); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}

	wio := suite.env.WebhookInstallOptions
	suite.opts = webhook.ServerOptions{
		RESTConfig:             suite.cfg,
		Host:                   wio.LocalServingHost,
		Port:                   wio.LocalServingPort,
		CertDir:                wio.LocalServingCertDir,
		MetricsBindAddress:     "0",
		HealthProbeBindAddress: "0",
		Registry:               prometheus.NewRegistry(),
		Log:                    logf.Log,
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped, srv, err := startServerWith(ctx, suite.opts)
	suite.srv = srv
	if err != nil {
		cancel()
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	code := m.Run()
	cancel()
	if err := <-stopped; err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
	}
	return code
}

func createNamespaces() error {
	c, err := client.New(suite.cfg, client.Options{Scheme: webhook.NewScheme()})
	if err != nil {
		return err
	}
	ctx := context.Background()
	for name, mode := range map[string]string{nsEnforce: "enforce", nsAudit: "audit", nsPlain: ""} {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if mode != "" {
			ns.Labels = map[string]string{sticky.LabelMode: mode}
		}
		if err := c.Create(ctx, ns); err != nil {
			return fmt.Errorf("creating namespace %s: %w", name, err)
		}
	}
	return nil
}

// warnings collects the warnings the API server returns to one client.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

// take returns the warnings so far and forgets them.
func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.list
	w.list = nil
	return out
}

// newClient returns a client whose warnings are collected.
func newClient(t *testing.T) (client.Client, *warnings) {
	t.Helper()
	w := &warnings{}
	cfg := rest.CopyConfig(suite.cfg)
	cfg.WarningHandler = w
	c, err := client.New(cfg, client.Options{Scheme: webhook.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c, w
}
