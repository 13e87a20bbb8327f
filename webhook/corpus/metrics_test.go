package corpus

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// webhookCalls is the API server's own count of calls to stickyguard's
// webhooks (apiserver_admission_webhook_request_total, every label set of a
// webhook whose name ends in stickyguard.io), read from its /metrics.
func webhookCalls(t *testing.T, cp *controlPlane) float64 {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cp.env.Config)
	require.NoError(t, err)
	raw, err := cs.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(testCtx(t))
	require.NoError(t, err, "scraping the API server's /metrics")
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(raw))
	require.NoError(t, err, "parsing the API server's /metrics")
	var total float64
	if fam, ok := families["apiserver_admission_webhook_request_total"]; ok {
		for _, m := range fam.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "name" && strings.HasSuffix(l.GetValue(), "stickyguard.io") {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}

// TestPlainServicesCauseNoWebhookCalls is the guard of the plain-object cost:
// the API server's own metrics, not the recording handler, must show zero
// calls to stickyguard's webhooks for plain Services (create and update) in
// an enforce namespace, and the same counter must move for one sticky
// Service, so a zero cannot come from a metric that is never written.
func TestPlainServicesCauseNoWebhookCalls(t *testing.T) {
	cp := apiserver(t)
	const ns = "metrics-plain"
	cp.createNamespace(t, ns, "enforce")

	before := webhookCalls(t, cp)
	for i := 0; i < 10; i++ {
		svc := plainService(fmt.Sprintf("plain-%d", i))
		svc.Namespace = ns
		require.NoError(t, cp.client.Create(testCtx(t), svc))
		svc.Annotations["prometheus.io/port"] = "9090"
		require.NoError(t, cp.client.Update(testCtx(t), svc))
	}
	assert.Zero(t, webhookCalls(t, cp)-before, "plain Services reached stickyguard's webhooks (API server metrics)")

	sticky := plainService("sticky")
	sticky.Namespace = ns
	sticky.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
	before = webhookCalls(t, cp)
	require.NoError(t, cp.client.Create(testCtx(t), sticky, client.DryRunAll))
	assert.Equal(t, float64(2), webhookCalls(t, cp)-before,
		"a ClientIP Service with the API default timeout reaches the mutating and the validating webhook once each")
}
