package integration

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/stickyguard/stickyguard/webhook"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// tlsClient trusts envtest's serving CA.
func tlsClient(t *testing.T, mut func(*tls.Config)) *http.Client {
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(suite.env.WebhookInstallOptions.LocalServingCAData))
	cfg := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	if mut != nil {
		mut(cfg)
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}}
}

func postReview(c *http.Client, url string, obj runtime.Object) (*admissionv1.AdmissionResponse, *http.Response, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, nil, err
	}
	m := obj.(metav1.Object)
	body, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID: "u1", Operation: admissionv1.Create, Namespace: m.GetNamespace(), Name: m.GetName(),
			Kind:   metav1.GroupVersionKind{Version: "v1", Kind: "Service"},
			Object: runtime.RawExtension{Raw: raw},
		},
	})
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	var out admissionv1.AdmissionReview
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, resp, err
	}
	return out.Response, resp, nil
}

// A second server on its own port, talked to directly: TLS settings,
// --force-audit, and the shutdown sequence (readiness false first, reviews
// still answered during the shutdown delay, then the port closes).
func TestServerTLSForceAuditAndShutdown(t *testing.T) {
	opts := suite.opts
	opts.Port = freePort(t)
	opts.ForceAudit = true
	opts.ShutdownDelay = 1500 * time.Millisecond
	opts.Registry = nil // controller-runtime's registry, which the metrics endpoint serves
	probes := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	metrics := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	opts.HealthProbeBindAddress, opts.MetricsBindAddress = probes, metrics
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopped, srv, err := startServerWith(ctx, opts)
	require.NoError(t, err)
	url := fmt.Sprintf("https://127.0.0.1:%d/validate--v1-service", opts.Port)

	broken := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: nsEnforce, Name: "direct"},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "web", "sessionAffinity": "ClientIP"}},
	}
	resp, httpResp, err := postReview(tlsClient(t, nil), url, broken)
	require.NoError(t, err)
	assert.True(t, resp.Allowed, "--force-audit turns enforce into audit")
	assert.True(t, hasPrefix(resp.Warnings, "[audit] would deny SVC-001"), "%q", resp.Warnings)
	assert.Equal(t, "HTTP/1.1", httpResp.Proto, "HTTP/2 is off by default")

	_, _, err = postReview(tlsClient(t, func(c *tls.Config) { c.MaxVersion = tls.VersionTLS11 }), url, broken)
	assert.Error(t, err, "TLS 1.1 is refused")

	assert.Equal(t, http.StatusOK, httpStatus(t, "http://"+probes+"/healthz"))
	assert.Equal(t, http.StatusOK, httpStatus(t, "http://"+probes+"/readyz"))
	body := httpBody(t, "http://"+metrics+"/metrics")
	for _, m := range []string{
		`stickyguard_admission_reviews_total{kind="Service",mode="audit",operation="CREATE",result="would_deny"}`,
		`stickyguard_rule_findings_total{mode="audit",rule="SVC-001",severity="deny"}`,
		`stickyguard_review_duration_seconds_bucket{kind="Service",webhook="validate"`,
		`controller_runtime_webhook_requests_total{code="200",webhook="/validate--v1-service"}`,
	} {
		assert.Contains(t, body, m)
	}

	cancel()
	require.Eventually(t, func() bool { return srv.Ready() != nil }, time.Second, 10*time.Millisecond)
	assert.ErrorContains(t, srv.Ready(), "shutting down")
	assert.Equal(t, http.StatusInternalServerError, httpStatus(t, "http://"+probes+"/readyz"), "readiness goes false first")
	resp, _, err = postReview(tlsClient(t, nil), url, broken)
	require.NoError(t, err, "reviews are still answered during the shutdown delay")
	assert.True(t, resp.Allowed)

	select {
	case err := <-stopped:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("server did not stop")
	}
	_, _, err = postReview(tlsClient(t, nil), url, broken)
	assert.Error(t, err, "the port is closed after shutdown")
}

func startServerWith(ctx context.Context, opts webhook.ServerOptions) (<-chan error, *webhook.Server, error) {
	srv, err := webhook.NewServer(opts)
	if err != nil {
		return nil, nil, err
	}
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Start(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for srv.Ready() != nil {
		if time.Now().After(deadline) {
			return nil, nil, fmt.Errorf("not ready: %w", srv.Ready())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return stopped, srv, nil
}

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func httpBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}
