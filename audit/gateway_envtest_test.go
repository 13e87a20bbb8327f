package audit_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/stickyguard/stickyguard/audit"
	"github.com/stickyguard/stickyguard/internal/testenv"
)

func object(t *testing.T, text string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	require.NoError(t, yaml.Unmarshal([]byte(text), &u.Object))
	return u
}

// TestAuditCustomResources: a kind whose CRD is not installed is skipped
// with a note; once the real Gateway API, Envoy Gateway and Istio CRDs (and
// a GKE stand-in) are installed, the audit lists their objects, evaluates
// them through the engine and reports them.
func TestAuditCustomResources(t *testing.T) {
	e := testEnv(t)
	ctx := context.Background()
	ns := namespace(t, "custom", nil)
	run := func() (audit.Stats, *audit.NamespaceResult) {
		var nr *audit.NamespaceResult
		st, err := audit.Run(ctx, e.Client, audit.Options{Scope: audit.Scope{Namespace: ns}}, func(r *audit.NamespaceResult) error {
			nr = r
			return nil
		})
		require.NoError(t, err)
		return st, nr
	}

	st, _ := run()
	require.Len(t, st.Notes, 1, "one note for the kinds that are not served")
	for _, gr := range []string{"httproutes.gateway.networking.k8s.io", "xbackendtrafficpolicies.gateway.networking.x-k8s.io",
		"backendtrafficpolicies.gateway.envoyproxy.io", "destinationrules.networking.istio.io"} {
		assert.Contains(t, st.Notes[0], gr)
	}
	assert.NotContains(t, st.Notes[0], "backendlbpolicies", "a legacy kind is not noted")
	assert.Empty(t, st.Warnings)

	gatewayAPI, err := testenv.GatewayAPICRDs("experimental")
	require.NoError(t, err)
	eg, err := testenv.EnvoyGatewayCRD()
	require.NoError(t, err)
	istio, err := testenv.IstioCRDs()
	require.NoError(t, err)
	_, err = testenv.InstallCRDs(e.Config, gatewayAPI, eg, istio,
		filepath.Join(e.Root, "webhook", "corpus", "testdata", "crds", "gcpbackendpolicies.networking.gke.io.yaml"))
	require.NoError(t, err)

	const ignore = "annotations: {stickyguard.io/ignore: testing}"
	gwNS := namespace(t, "gateways", nil)
	for _, text := range []string{
		// An Istio Gateway in another namespace: the route's implementation
		// resolves through the Gateways and classes listed cluster-wide.
		"apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: " + ns + "}\nspec: {controllerName: istio.io/gateway-controller}",
		"apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: edge, namespace: " + gwNS + "}\nspec: {gatewayClassName: " + ns + ", listeners: [{name: http, port: 80, protocol: HTTP}]}",
		"apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: web, namespace: " + ns + "}\nspec: {parentRefs: [{name: edge, namespace: " + gwNS + "}], rules: [{backendRefs: [{name: web, port: 80}], sessionPersistence: {sessionName: web}}]}",
		"apiVersion: gateway.networking.k8s.io/v1beta1\nkind: HTTPRoute\nmetadata: {name: legacy, namespace: " + ns + ", " + ignore + "}\nspec: {parentRefs: [{name: edge}]}",
		"apiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: {name: grpc, namespace: " + ns + ", " + ignore + "}\nspec: {parentRefs: [{name: edge}]}",
		"apiVersion: gateway.networking.x-k8s.io/v1alpha1\nkind: XBackendTrafficPolicy\nmetadata: {name: sticky, namespace: " + ns + ", " + ignore + "}\nspec: {targetRefs: [{group: '', kind: Service, name: web}], sessionPersistence: {sessionName: x}}",
		"apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: BackendTrafficPolicy\nmetadata: {name: hash, namespace: " + ns + ", " + ignore + "}\nspec: {targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: web}], loadBalancer: {type: ConsistentHash, consistentHash: {type: SourceIP}}}",
		"apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata: {name: web, namespace: " + ns + ", " + ignore + "}\nspec: {host: web, trafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true}}}}",
		"apiVersion: networking.gke.io/v1\nkind: GCPBackendPolicy\nmetadata: {name: web, namespace: " + ns + ", " + ignore + "}\nspec: {targetRef: {group: '', kind: Service, name: web}, default: {sessionAffinity: {type: CLIENT_IP}}}",
	} {
		create(t, object(t, text))
	}
	create(t, service(ns, "web"))

	// The CRDs were installed a moment ago: the client's discovery may lag.
	var nr *audit.NamespaceResult
	require.Eventually(t, func() bool {
		st, nr = run()
		return len(st.Notes) == 0
	}, 20*time.Second, 200*time.Millisecond, "every kind is served now: %v", st.Notes)
	assert.Empty(t, st.Warnings)
	var listed []string
	for _, c := range nr.Checked {
		listed = append(listed, c.Doc.APIVersion+" "+c.Doc.Kind+"/"+c.Doc.Name)
	}
	assert.Equal(t, []string{
		"v1 Service/web",
		"gateway.networking.k8s.io/v1 HTTPRoute/legacy", // stored as v1beta1, listed as v1
		"gateway.networking.k8s.io/v1 HTTPRoute/web",
		"gateway.networking.k8s.io/v1 GRPCRoute/grpc",
		"gateway.networking.x-k8s.io/v1alpha1 XBackendTrafficPolicy/sticky",
		"gateway.envoyproxy.io/v1alpha1 BackendTrafficPolicy/hash",
		"networking.istio.io/v1 DestinationRule/web",
		"networking.gke.io/v1 GCPBackendPolicy/web",
	}, listed, "after the core kinds, by kind then name; Gateways and classes are context")

	got := rulesByObject(nr.Checked)
	assert.Contains(t, got["HTTPRoute/web"], "GWI-001", "the route's Gateway is Istio's")
	for _, k := range []string{"HTTPRoute/legacy", "GRPCRoute/grpc", "XBackendTrafficPolicy/sticky", "BackendTrafficPolicy/hash", "DestinationRule/web", "GCPBackendPolicy/web"} {
		assert.Equal(t, []string{"exempt"}, got[k], "%s went through the engine", k)
	}

	// The PolicyReport names them by their API version and kind.
	pr := audit.PolicyReport(ns, nr.Checked, time.Now())
	var refs []string
	results, _, err := unstructured.NestedSlice(pr.Object, "results")
	require.NoError(t, err)
	for _, r := range results {
		res := r.(map[string]any)["resources"].([]any)[0].(map[string]any)
		if r.(map[string]any)["result"] == audit.ResultSkip {
			refs = append(refs, res["apiVersion"].(string)+" "+res["kind"].(string))
		}
	}
	assert.ElementsMatch(t, []string{
		"gateway.networking.k8s.io/v1 HTTPRoute", "gateway.networking.k8s.io/v1 GRPCRoute",
		"gateway.networking.x-k8s.io/v1alpha1 XBackendTrafficPolicy", "gateway.envoyproxy.io/v1alpha1 BackendTrafficPolicy",
		"networking.istio.io/v1 DestinationRule", "networking.gke.io/v1 GCPBackendPolicy",
	}, refs)
	assert.False(t, strings.Contains(strings.Join(refs, ","), "Gateway "), "Gateways are not reported")
}
