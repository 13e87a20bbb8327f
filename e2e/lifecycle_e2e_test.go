//go:build e2e

package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stickyguard/stickyguard/certs"
	"github.com/stickyguard/stickyguard/policy"
)

// testPolicyReload: the policy file changes while serve runs (the ClientIP
// timeout default becomes 3600) and new Services get the new default
// without a restart; then the original policy comes back.
func testPolicyReload(t *testing.T) {
	ns := namespace(t, "policy", enforce)
	base, err := os.ReadFile(env.Policy)
	require.NoError(t, err)
	p, err := policy.Parse(base, nil)
	require.NoError(t, err)
	orig := p.Service.ClientIPTimeout.Default
	require.NotEqual(t, int32(3600), orig, "the starting policy must not already use 3600")
	p.Service.ClientIPTimeout.Default = 3600
	changed, err := yaml.Marshal(p)
	require.NoError(t, err)
	_, err = policy.Parse(changed, nil)
	require.NoError(t, err, "the changed policy is valid")
	file := filepath.Join(t.TempDir(), "policy.yaml")
	require.NoError(t, os.WriteFile(file, changed, 0o644))

	ctl(t, "policy", file)
	restored := false
	defer func() {
		if !restored {
			ctl(t, "policy", env.Policy)
		}
	}()
	timeoutOf := func(s *corev1.Service) int32 {
		if s.Spec.SessionAffinityConfig == nil || s.Spec.SessionAffinityConfig.ClientIP == nil || s.Spec.SessionAffinityConfig.ClientIP.TimeoutSeconds == nil {
			return 0
		}
		return *s.Spec.SessionAffinityConfig.ClientIP.TimeoutSeconds
	}
	eventually(t, 150*time.Second, "the new policy to be used", func() error {
		got, err := dryRunService(context.Background(), ns, stickyLB("probe", nil))
		if err != nil {
			return err
		}
		if v := timeoutOf(got); v != 3600 {
			return fmt.Errorf("timeoutSeconds %d", v)
		}
		return nil
	})
	mustKubectl(t, toJSON(t, stickyLB("clientip", nil)), "-n", ns, "apply", "--server-side", "-f", "-")
	svc, err := env.Client.CoreV1().Services(ns).Get(context.Background(), "clientip", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(3600), timeoutOf(svc), "stored with the new policy's default")

	ctl(t, "policy", env.Policy)
	restored = true
	eventually(t, 150*time.Second, "the original policy to be used again", func() error {
		got, err := dryRunService(context.Background(), ns, stickyLB("probe", nil))
		if err != nil {
			return err
		}
		if v := timeoutOf(got); v != orig {
			return fmt.Errorf("timeoutSeconds %d, want %d", v, orig)
		}
		return nil
	})
}

// testCertRotation: while a loop of reviews runs, the serving certificate
// is replaced (same CA). No request may fail, and every one must have been
// answered by the mutating webhook (its failurePolicy Ignore would hide a
// failure, so the loop checks the default it sets).
func testCertRotation(t *testing.T) {
	ns := namespace(t, "rotate", enforce)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var ok, failed atomic.Int64
	var mu sync.Mutex
	var failures []string
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				rctx, rcancel := context.WithTimeout(ctx, 15*time.Second)
				got, err := dryRunService(rctx, ns, stickyLB(fmt.Sprintf("r%d-%d", w, i), nil))
				rcancel()
				if ctx.Err() != nil {
					return
				}
				switch {
				case err != nil:
					failed.Add(1)
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
				case got.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal:
					failed.Add(1)
					mu.Lock()
					failures = append(failures, "the mutating webhook was skipped (no externalTrafficPolicy Local)")
					mu.Unlock()
				default:
					ok.Add(1)
				}
			}
		}(w)
	}

	time.Sleep(time.Second)
	before := servedSerial(t)
	ctl(t, "certs-rotate")
	rotatedAt := time.Now()
	if env.WebhookAddr != "" && env.CertDir != "" {
		leaf, err := certs.LoadLeaf(env.CertDir)
		require.NoError(t, err)
		want := leaf.Cert.SerialNumber.String()
		require.NotEqual(t, before, want, "certs-rotate wrote a new certificate")
		eventually(t, 60*time.Second, "the webhook to serve the new certificate", func() error {
			if got := servedSerial(t); got != want {
				return fmt.Errorf("serving serial %s, want %s", got, want)
			}
			return nil
		})
		t.Logf("new certificate served %s after the swap", time.Since(rotatedAt).Round(time.Millisecond))
		time.Sleep(2 * time.Second) // and keep going on the new one
	} else {
		// A cluster harness swaps the Secret; the kubelet takes up to a
		// minute or so to update the volume.
		time.Sleep(90 * time.Second)
	}
	cancel()
	wg.Wait()
	t.Logf("%d reviews during the rotation, %d failed", ok.Load(), failed.Load())
	assert.Zero(t, failed.Load(), "no failed requests during the swap: %v", firstN(failures, 5))
	assert.GreaterOrEqual(t, ok.Load(), int64(20), "enough requests to mean something")
}

// servedSerial returns the serial of the certificate the webhook serves,
// verified against the CA in E2E_CERT_DIR ("" without E2E_WEBHOOK_ADDR).
func servedSerial(t *testing.T) string {
	t.Helper()
	if env.WebhookAddr == "" || env.CertDir == "" {
		return ""
	}
	ca, err := certs.CABundle(env.CertDir)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(ca))
	host := strings.Split(env.WebhookAddr, ":")[0]
	conn, err := tls.Dial("tcp", env.WebhookAddr, &tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS12})
	require.NoError(t, err, "TLS to the webhook with the CA the webhook configurations trust")
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// testWebhookDown: with the webhook stopped, writes of reviewed kinds fail
// in enforce namespaces (validating entry with failurePolicy Fail; the
// mutating webhook's Ignore alone would let them through unchecked), while
// audit namespaces (their validating entry fails open: audit never blocks),
// kube-system and namespaces that have not opted in are unaffected.
func testWebhookDown(t *testing.T) {
	nsEnforce := namespace(t, "down-enforce", enforce)
	nsAudit := namespace(t, "down-audit", audit)
	nsOff := namespace(t, "down-off", off)

	ctl(t, "stop")
	started := false
	defer func() {
		if !started {
			ctl(t, "start")
		}
	}()

	svc := func(name string) []byte {
		return toJSON(t, stickyLB(name, nil))
	}
	r := kubectl(t, svc("while-down"), "-n", nsEnforce, "create", "-f", "-")
	require.Error(t, r.Err, "a Service create in enforce namespace %s must fail while the webhook is down\n%s", nsEnforce, r)
	assert.Contains(t, r.Stderr, "failed calling webhook", r.Stderr)
	assert.Contains(t, r.Stderr, "services.enforce.stickyguard.io", "the error names the enforce entry")
	assert.Error(t, kubectl(t, nil, "-n", nsEnforce, "get", "service", "while-down").Err, "nothing stored in %s", nsEnforce)

	r = kubectl(t, svc("while-down"), "-n", nsAudit, "create", "-f", "-")
	require.NoError(t, r.Err, "audit never blocks, not even while the webhook is down (failurePolicy Ignore)\n%s", r)
	assert.NotContains(t, r.Stderr, "[audit]", "nothing reviewed it")
	require.NoError(t, kubectl(t, nil, "-n", nsAudit, "get", "service", "while-down").Err, "stored in %s", nsAudit)

	r = kubectl(t, svc("while-down"), "-n", nsOff, "create", "-f", "-")
	require.NoError(t, r.Err, "an unlabelled namespace is unaffected\n%s", r)
	kubeSystemName := env.Prefix + "-while-down"
	r = kubectl(t, svc(kubeSystemName), "-n", "kube-system", "create", "-f", "-")
	require.NoError(t, r.Err, "kube-system is unaffected\n%s", r)
	t.Cleanup(func() { kubectl(t, nil, "-n", "kube-system", "delete", "service", kubeSystemName, "--wait=false") })

	// The matchConditions keep objects with nothing for stickyguard to judge
	// away from the webhook: a plain ClusterIP Service is created even in an
	// enforce namespace while the webhook is down.
	plain := toJSON(t, &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: "plain-while-down"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "plain"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80}},
		},
	})
	r = kubectl(t, plain, "-n", nsEnforce, "create", "-f", "-")
	require.NoError(t, r.Err, "a plain Service is not sent to the webhook (matchConditions)\n%s", r)

	ctl(t, "start")
	started = true
	waitWebhookServing(t)
	r = kubectl(t, svc("after-restart"), "-n", nsEnforce, "create", "-f", "-")
	require.NoError(t, r.Err, "writes work again once the webhook is back\n%s", r)
}

// testMetrics reads the webhook's metrics endpoint (E2E_METRICS_URL, set by
// the local harness) after the examples ran: reviews were counted by result.
func testMetrics(t *testing.T) {
	url := os.Getenv("E2E_METRICS_URL")
	if url == "" {
		t.Skip("E2E_METRICS_URL not set (the kind harness does not port-forward metrics)")
	}
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	text := string(body)
	for _, want := range []string{
		`stickyguard_admission_reviews_total{`,
		`result="denied"`,
		`result="patched"`,
		`result="would_deny"`,
		`stickyguard_rule_findings_total{`,
		`stickyguard_review_duration_seconds_bucket{`,
	} {
		assert.Contains(t, text, want)
	}
}
