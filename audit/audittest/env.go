// Package audittest starts the control plane the audit tests run against:
// a real kube-apiserver and etcd (envtest) with the PolicyReport CRD from
// manifests/policyreport and a GKE BackendConfig CRD stand-in
// (testdata/crds) installed and no webhook registered, so objects
// are stored exactly as written. Only tests import it.
package audittest

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/stickyguard/stickyguard/internal/testenv"
)

// Env is a running control plane.
type Env struct {
	Root   string // repository root
	Config *rest.Config
	Client client.Client // cluster-admin, not rate limited
	env    *envtest.Environment
}

// Root returns the repository root.
func Root() string {
	return testenv.RepoRoot()
}

// Start starts kube-apiserver and etcd from KUBEBUILDER_ASSETS (default
// <repo>/bin/k8s) and installs the PolicyReport and BackendConfig CRDs. It fails, never skips,
// when the binaries are missing.
func Start() (*Env, error) {
	root := Root()
	assets, err := testenv.AssetsDir()
	if err != nil {
		return nil, err
	}
	te := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDInstallOptions: envtest.CRDInstallOptions{
			Paths: []string{
				filepath.Join(root, "manifests", "policyreport", "crd.yaml"),
				filepath.Join(root, "testdata", "crds", "backendconfig.yaml"),
			},
			ErrorIfPathMissing: true,
		},
	}
	cfg, err := te.Start()
	if err != nil {
		return nil, fmt.Errorf("starting the control plane: %w", err)
	}
	cfg.QPS, cfg.Burst = -1, 0 // no client-side rate limit: tests create thousands of objects
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		_ = te.Stop()
		return nil, err
	}
	return &Env{Root: root, Config: cfg, Client: c, env: te}, nil
}

// Stop stops the control plane.
func (e *Env) Stop() error { return e.env.Stop() }

// Kubeconfig returns a kubeconfig for a new user (client certificate),
// authorized only by the RBAC objects that name it or its groups.
func (e *Env) Kubeconfig(name string, groups ...string) ([]byte, error) {
	u, err := e.env.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return nil, err
	}
	return u.KubeConfig()
}

// UserConfig returns a rest.Config for a new user.
func (e *Env) UserConfig(name string, groups ...string) (*rest.Config, error) {
	u, err := e.env.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return nil, err
	}
	cfg := u.Config()
	cfg.QPS, cfg.Burst = -1, 0
	return cfg, nil
}

var nsSeq atomic.Int64

// Namespace creates a namespace with a unique name from prefix and labels.
func (e *Env) Namespace(ctx context.Context, prefix string, labels map[string]string) (string, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   fmt.Sprintf("%s-%d", prefix, nsSeq.Add(1)),
		Labels: labels,
	}}
	if err := e.Client.Create(ctx, ns); err != nil {
		return "", err
	}
	return ns.Name, nil
}

// CreateAll creates objs with at most workers requests in flight.
func (e *Env) CreateAll(ctx context.Context, workers int, objs []client.Object) error {
	ch := make(chan client.Object)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range workers {
		wg.Go(func() {
			for o := range ch {
				if err := e.Client.Create(ctx, o); err != nil {
					once.Do(func() { first = fmt.Errorf("creating %s/%s: %w", o.GetNamespace(), o.GetName(), err); cancel() })
				}
			}
		})
	}
	for _, o := range objs {
		select {
		case ch <- o:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(ch)
	wg.Wait()
	return first
}

// Eventually polls cond every 100ms until it returns true or timeout passes.
func Eventually(ctx context.Context, timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return err
			}
			return fmt.Errorf("condition not met within %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
