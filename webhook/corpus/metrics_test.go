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
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
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

// TestPlainGatewayPoliciesCauseNoWebhookCalls is the same guard for the
// Envoy Gateway, Istio, GKE and Gateway API policies, on a real API server
// with their real CRDs: policies with nothing sticky (created and updated
// in an enforce namespace) cause zero calls by the API server's own count;
// one sticky policy of each kind causes one validating call each. Routes
// have no filter (GWX-002/005/006/007 and EGW-007 fire on routes that carry
// nothing sticky): a plain route is one call.
func TestPlainGatewayPoliciesCauseNoWebhookCalls(t *testing.T) {
	cp := gatewayPlane(t, defaultGatewayVersion)
	const ns = "metrics-plain-policies"
	cp.createNamespace(t, ns, "enforce")
	doc := func(s string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		require.NoError(t, yaml.Unmarshal([]byte(s), &u.Object))
		u.SetNamespace(ns)
		return u
	}
	plain := []string{
		"apiVersion: gateway.networking.x-k8s.io/v1alpha1\nkind: XBackendTrafficPolicy\nmetadata: {name: retries}\nspec:\n  targetRefs: [{group: \"\", kind: Service, name: web}]\n  retryConstraint: {budget: {percent: 20}}\n",
		"apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: BackendTrafficPolicy\nmetadata: {name: rr}\nspec:\n  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: web}]\n  loadBalancer: {type: RoundRobin}\n",
		"apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: tls}\nspec:\n  host: web\n  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}, loadBalancer: {simple: LEAST_REQUEST}}\n",
		"apiVersion: networking.gke.io/v1\nkind: GCPBackendPolicy\nmetadata: {name: timeouts}\nspec:\n  targetRef: {group: \"\", kind: Service, name: web}\n  default: {timeoutSec: 40}\n",
	}
	before := webhookCalls(t, cp)
	for _, s := range plain {
		u := doc(s)
		require.NoError(t, cp.client.Create(testCtx(t), u))
		u.SetLabels(map[string]string{"team": "shop"})
		require.NoError(t, cp.client.Update(testCtx(t), u))
	}
	assert.Zero(t, webhookCalls(t, cp)-before, "plain policies reached stickyguard's webhooks (API server metrics)")

	sticky := []string{
		"apiVersion: gateway.networking.x-k8s.io/v1alpha1\nkind: XBackendTrafficPolicy\nmetadata: {name: sticky}\nspec:\n  targetRefs: [{group: \"\", kind: Service, name: web}]\n  sessionPersistence: {sessionName: sg}\n",
		"apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: BackendTrafficPolicy\nmetadata: {name: hash}\nspec:\n  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: web}]\n  loadBalancer: {type: ConsistentHash, consistentHash: {type: SourceIP}}\n",
		"apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: hash}\nspec:\n  host: web\n  trafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true}}}\n",
		"apiVersion: networking.gke.io/v1\nkind: GCPBackendPolicy\nmetadata: {name: affinity}\nspec:\n  targetRef: {group: \"\", kind: Service, name: web}\n  default: {sessionAffinity: {type: CLIENT_IP}}\n",
	}
	before = webhookCalls(t, cp)
	for _, s := range sticky {
		require.NoError(t, cp.client.Create(testCtx(t), doc(s), client.DryRunAll))
	}
	assert.Equal(t, float64(len(sticky)), webhookCalls(t, cp)-before, "each sticky policy reaches the validating webhook once")

	before = webhookCalls(t, cp)
	route := doc("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: plain}\nspec:\n  parentRefs: [{name: gw}]\n  rules: [{backendRefs: [{name: web, port: 80}]}]\n")
	require.NoError(t, cp.client.Create(testCtx(t), route, client.DryRunAll))
	assert.Equal(t, float64(1), webhookCalls(t, cp)-before, "every route is validated, sticky or not")
}
