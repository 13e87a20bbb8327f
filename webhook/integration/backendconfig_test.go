package integration

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/stickyguard/stickyguard/webhook"
)

func backendConfigRef(name string) func(*corev1.Service) {
	return func(s *corev1.Service) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations["cloud.google.com/backend-config"] = `{"default":"` + name + `"}`
	}
}

// The suite's API server serves BackendConfigs (testdata/crds), so the
// server watches them: GKE-006 and GKE-008 fire on admission.
func TestGKEBackendConfigsLive(t *testing.T) {
	c, w := newClient(t)
	missing := uniq("missing")
	require.NoError(t, c.Create(ctx(t), service(nsEnforce, uniq("gke"), "web", backendConfigRef(missing)), client.DryRunAll))
	got := w.take()
	assert.True(t, hasPrefix(got, "GKE-006 "), "a reference to a missing BackendConfig: %v", got)

	name := uniq("sticky")
	bc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cloud.google.com/v1", "kind": "BackendConfig",
		"metadata": map[string]any{"namespace": nsEnforce, "name": name},
		"spec":     map[string]any{"sessionAffinity": map[string]any{"affinityType": "CLIENT_IP"}},
	}}
	require.NoError(t, c.Create(ctx(t), bc))
	// No require inside the condition: it runs on another goroutine.
	var last []string
	var lastErr error
	assert.Eventually(t, func() bool {
		lastErr = c.Create(ctx(t), service(nsEnforce, uniq("gke"), "web", backendConfigRef(name), nodePort), client.DryRunAll)
		last = w.take()
		return lastErr == nil && hasPrefix(last, "GKE-008 ") && !hasPrefix(last, "GKE-006 ")
	}, 10*time.Second, 50*time.Millisecond, "once cached, the BackendConfig exists and its affinity is read")
	require.NoError(t, lastErr)
	assert.True(t, hasPrefix(last, "GKE-008 "), "%v", last)

	// A ClusterIP backend can only be reached through NEG (the default on
	// VPC-native clusters): no instance-group warning for it.
	require.NoError(t, c.Create(ctx(t), service(nsEnforce, uniq("gke"), "web", backendConfigRef(name)), client.DryRunAll))
	got = w.take()
	assert.False(t, hasPrefix(got, "GKE-008 "), "ClusterIP backend: %v", got)
	assert.False(t, hasPrefix(got, "GKE-006 "), "the BackendConfig exists: %v", got)
}

func nodePort(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeNodePort }

func TestWatchBackendConfigsDecision(t *testing.T) {
	c, err := client.New(suite.cfg, client.Options{})
	require.NoError(t, err)
	hc, err := rest.HTTPClientFor(suite.cfg)
	require.NoError(t, err)
	mapper, err := apiutil.NewDynamicRESTMapper(suite.cfg, hc)
	require.NoError(t, err)
	bg := context.Background()

	ok, why := webhook.WatchBackendConfigs(bg, mapper, c)
	assert.True(t, ok, why)

	ok, why = webhook.WatchBackendConfigs(bg, meta.NewDefaultRESTMapper(nil), c)
	assert.False(t, ok)
	assert.Equal(t, "the API server does not serve cloud.google.com/v1 BackendConfig: GKE-006 and GKE-008 are not checked", why)

	// A user without RBAC on backendconfigs: not watched (the informer
	// would never sync and readiness would wait for it forever).
	cfg := rest.CopyConfig(suite.cfg)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "no-backendconfigs", Groups: []string{"system:authenticated"}}
	nobody, err := client.New(cfg, client.Options{})
	require.NoError(t, err)
	ok, why = webhook.WatchBackendConfigs(bg, mapper, nobody)
	assert.False(t, ok)
	assert.True(t, strings.HasPrefix(why, "not allowed to list backendconfigs.cloud.google.com"), why)

	// Failing to ask is "not watched" too, never a failed start.
	broken := rest.CopyConfig(suite.cfg)
	broken.Host = "https://127.0.0.1:1"
	broken.WrapTransport = func(http.RoundTripper) http.RoundTripper { return failingRT{} }
	bc, err := client.New(broken, client.Options{Mapper: mapper})
	require.NoError(t, err)
	ok, why = webhook.WatchBackendConfigs(bg, mapper, bc)
	assert.False(t, ok)
	assert.Contains(t, why, "cannot check access to backendconfigs.cloud.google.com")
}

type failingRT struct{}

func (failingRT) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, &net503{}
}

type net503 struct{}

func (*net503) Error() string { return "connection refused (test)" }
