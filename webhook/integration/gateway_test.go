package integration

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/engine"
	"github.com/stickyguard/stickyguard/internal/sticky"
	"github.com/stickyguard/stickyguard/internal/testenv"
	"github.com/stickyguard/stickyguard/webhook"
)

// object reads one object written as YAML.
func object(t *testing.T, text string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	require.NoError(t, yaml.Unmarshal([]byte(text), &u.Object))
	return u
}

// asAPI reads a stored object into its apis type, as the engine sees it.
func asAPI(t *testing.T, u *unstructured.Unstructured) runtime.Object {
	t.Helper()
	js, err := u.MarshalJSON()
	require.NoError(t, err)
	obj, err := apis.Decode(u.GetAPIVersion(), u.GetKind(), js)
	require.NoError(t, err)
	require.NotNil(t, obj, u.GetKind())
	return obj
}

// exempted reports whether a warning says the engine exempted an object of
// kind: proof that the review reached the engine's path for that kind.
func exempted(warns []string, kind string) bool {
	return hasPrefix(warns, "stickyguard: this "+kind+" is exempt from stickyguard's rules by "+sticky.AnnIgnore)
}

func install(t *testing.T, paths ...string) []*apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	crds, err := testenv.InstallCRDs(suite.cfg, paths...)
	require.NoError(t, err)
	return crds
}

func watchedGauge(t *testing.T, kind string) float64 {
	t.Helper()
	return gaugeIn(t, suite.opts.Registry.(*prometheus.Registry), kind)
}

// The suite's server started without any Gateway API, Envoy Gateway, Istio
// or GKE CRD, and is ready. CRDs installed afterwards are picked up without
// a restart: the first review of a new kind is answered by the engine (not
// a 500), its related objects resolve live as `check` resolves them
// offline, and a removed CRD stops its cache without failing reviews.
func TestCustomResourcesInstalledLater(t *testing.T) {
	srv := suite.srv
	require.NoError(t, srv.Ready(), "ready without the CRDs")
	dc, err := discovery.NewDiscoveryClientForConfig(suite.cfg)
	require.NoError(t, err)
	_, err = dc.ServerResourcesForGroupVersion("gateway.networking.k8s.io/v1")
	require.True(t, apierrors.IsNotFound(err), "the Gateway API must not be installed before this test: %v", err)
	b, err := srv.Lookup().GatewayBundle()
	require.NoError(t, err)
	assert.False(t, b.Known())

	c, w := newClient(t)
	ns := uniq("gateway")
	require.NoError(t, c.Create(ctx(t), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{sticky.LabelMode: "enforce"}}}))
	require.NoError(t, c.Create(ctx(t), service(ns, "web", "web")))

	gatewayAPI, err := testenv.GatewayAPICRDs("experimental")
	require.NoError(t, err)
	install(t, gatewayAPI)

	for _, text := range []string{
		"apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: " + ns + "-eg}\nspec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}",
		"apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: edge, namespace: " + ns + "}\nspec: {gatewayClassName: " + ns + "-eg, listeners: [{name: http, port: 80, protocol: HTTP}]}",
	} {
		require.NoError(t, c.Create(ctx(t), object(t, text)))
	}
	routeYAML := `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: ` + ns + `}
spec:
  parentRefs: [{name: edge}]
  rules:
  - backendRefs: [{name: web, port: 80}]
    sessionPersistence: {sessionName: web, type: Cookie}
`
	// The first review of HTTPRoutes after the install: answered (the
	// cache of the reviewed kind starts at once), by the engine.
	ignored := object(t, routeYAML)
	ignored.SetName("ignored")
	ignored.SetAnnotations(map[string]string{sticky.AnnIgnore: "testing"})
	require.NoError(t, c.Create(ctx(t), ignored, client.DryRunAll))
	assert.True(t, exempted(w.take(), apis.KindHTTPRoute))

	route := object(t, routeYAML)
	require.NoError(t, c.Create(ctx(t), route))
	w.take()

	// The route's Gateway, class and backend resolve live; the bundle is
	// read from the CRDs' annotations.
	live := srv.Lookup()
	r := asAPI(t, route).(*apis.Route)
	var rel relatedView
	assert.Eventually(t, func() bool {
		rel = related(t, r, live)
		return rel.parentController == "gateway.envoyproxy.io/gatewayclass-controller" && strings.Join(rel.backends, ",") == "web"
	}, 10*time.Second, 50*time.Millisecond, "%+v", rel)
	assert.Equal(t, apis.GatewayBundle{Version: testenv.GatewayAPIVersion, Channel: "experimental", Shape: apis.ShapeV1,
		Source: "CRD httproutes.gateway.networking.k8s.io in the cluster"}, rel.bundle)

	// The rules see the implementation: a route on an Istio Gateway is
	// warned that Istio ignores sessionPersistence (GWI-001), once the
	// Gateway is in the cache.
	for _, text := range []string{
		"apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: " + ns + "-istio}\nspec: {controllerName: istio.io/gateway-controller}",
		"apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: mesh, namespace: " + ns + "}\nspec: {gatewayClassName: " + ns + "-istio, listeners: [{name: http, port: 80, protocol: HTTP}]}",
	} {
		require.NoError(t, c.Create(ctx(t), object(t, text)))
	}
	onIstio := object(t, strings.Replace(routeYAML, "parentRefs: [{name: edge}]", "parentRefs: [{name: mesh}]", 1))
	onIstio.SetName("on-istio")
	var last []string
	var lastErr error
	assert.Eventually(t, func() bool {
		lastErr = c.Create(ctx(t), onIstio.DeepCopy(), client.DryRunAll)
		last = w.take()
		return lastErr == nil && hasPrefix(last, "GWI-001 ")
	}, 20*time.Second, 50*time.Millisecond, "%v %v", last, lastErr)

	// GRPCRoutes and XBackendTrafficPolicies of the same install.
	grpc := object(t, strings.Replace(strings.Replace(routeYAML, "HTTPRoute", "GRPCRoute", 1), "name: web, namespace", "name: grpc, namespace", 1))
	grpc.SetAnnotations(map[string]string{sticky.AnnIgnore: "testing"})
	require.NoError(t, c.Create(ctx(t), grpc, client.DryRunAll))
	assert.True(t, exempted(w.take(), apis.KindGRPCRoute))
	xbtp := object(t, `apiVersion: gateway.networking.x-k8s.io/v1alpha1
kind: XBackendTrafficPolicy
metadata: {name: sticky, namespace: `+ns+`}
spec:
  targetRefs: [{group: "", kind: Service, name: web}]
  sessionPersistence: {sessionName: web}
`)
	require.NoError(t, c.Create(ctx(t), xbtp))
	w.take()
	assert.Eventually(t, func() bool { return strings.Join(related(t, r, live).backendPolicies, ",") == "sticky" },
		10*time.Second, 50*time.Millisecond)

	// Envoy Gateway after that: its policy is reviewed, and found as the
	// route's policy, without a restart.
	assert.EqualValues(t, 0, watchedGauge(t, apis.KindEnvoyBackendTrafficPolicy))
	eg, err := testenv.EnvoyGatewayCRD()
	require.NoError(t, err)
	egCRDs := install(t, eg)
	btp := object(t, `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: hash, namespace: `+ns+`, annotations: {`+sticky.AnnIgnore+`: testing}}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: web}]
  loadBalancer: {type: ConsistentHash, consistentHash: {type: SourceIP}}
`)
	require.NoError(t, c.Create(ctx(t), btp))
	assert.True(t, exempted(w.take(), apis.KindEnvoyBackendTrafficPolicy))
	assert.Eventually(t, func() bool { return strings.Join(related(t, r, live).envoyPolicies, ",") == "hash" },
		10*time.Second, 50*time.Millisecond)
	assert.EqualValues(t, 1, watchedGauge(t, apis.KindEnvoyBackendTrafficPolicy))
	assert.EqualValues(t, 1, watchedGauge(t, apis.KindHTTPRoute))

	// Istio: a v1beta1 DestinationRule reaches the v1 path converted.
	istio, err := testenv.IstioCRDs()
	require.NoError(t, err)
	install(t, istio)
	dr := object(t, `apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: web, namespace: `+ns+`, annotations: {`+sticky.AnnIgnore+`: testing}}
spec:
  host: web
  trafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true}}}
`)
	require.NoError(t, c.Create(ctx(t), dr, client.DryRunAll))
	assert.True(t, exempted(w.take(), apis.KindDestinationRule))

	// GKE (a stand-in CRD: no published module carries GKE's).
	install(t, filepath.Join(repoRoot(), "webhook", "corpus", "testdata", "crds", "gcpbackendpolicies.networking.gke.io.yaml"))
	gcp := object(t, `apiVersion: networking.gke.io/v1
kind: GCPBackendPolicy
metadata: {name: web, namespace: `+ns+`, annotations: {`+sticky.AnnIgnore+`: testing}}
spec:
  targetRef: {group: "", kind: Service, name: web}
  default: {sessionAffinity: {type: CLIENT_IP}}
`)
	require.NoError(t, c.Create(ctx(t), gcp, client.DryRunAll))
	assert.True(t, exempted(w.take(), apis.KindGCPBackendPolicy))

	// What serve relates is what `check` relates from the same objects.
	offline := offlineIndex(t, c, ns)
	for _, o := range []runtime.Object{r, asAPI(t, xbtp), asAPI(t, btp)} {
		want, err := engine.RelatedOf(o, engine.Options{Lookup: offline})
		require.NoError(t, err)
		got, err := engine.RelatedOf(o, engine.Options{Lookup: live})
		require.NoError(t, err)
		assert.JSONEq(t, jsonOf(t, want.Gateway), jsonOf(t, got.Gateway), "%T", o)
	}

	// A removed CRD stops its cache; routes are still reviewed.
	gone := &unstructured.Unstructured{}
	gone.SetAPIVersion("apiextensions.k8s.io/v1")
	gone.SetKind("CustomResourceDefinition")
	gone.SetName(egCRDs[0].Name)
	require.NoError(t, c.Delete(ctx(t), gone))
	assert.Eventually(t, func() bool { return watchedGauge(t, apis.KindEnvoyBackendTrafficPolicy) == 0 },
		30*time.Second, 100*time.Millisecond)
	require.NoError(t, c.Create(ctx(t), ignored.DeepCopy(), client.DryRunAll))
	assert.True(t, exempted(w.take(), apis.KindHTTPRoute))
	assert.Empty(t, related(t, r, live).envoyPolicies)
	require.NoError(t, srv.Ready())
}

// relatedView is the part of a route's related view the test reads.
type relatedView struct {
	parentController string
	backends         []string
	backendPolicies  []string
	envoyPolicies    []string
	bundle           apis.GatewayBundle
}

func related(t *testing.T, r *apis.Route, lk engine.Lookup) relatedView {
	t.Helper()
	rel, err := engine.RelatedOf(r, engine.Options{Lookup: lk})
	require.NoError(t, err)
	v := relatedView{bundle: rel.Gateway.Bundle}
	if len(rel.Gateway.Parents) > 0 {
		v.parentController = rel.Gateway.Parents[0].ControllerName()
	}
	for _, s := range rel.BackendServices {
		v.backends = append(v.backends, s.Name)
	}
	for _, p := range rel.Gateway.BackendPolicies {
		v.backendPolicies = append(v.backendPolicies, p.Name)
	}
	for _, p := range rel.Gateway.EnvoyPolicies {
		v.envoyPolicies = append(v.envoyPolicies, p.Name)
	}
	return v
}

// offlineIndex is the engine.Index `check` would build from the objects of
// ns, the cluster's GatewayClasses and its HTTPRoute CRD, read back from
// the API server.
func offlineIndex(t *testing.T, c client.Client, ns string) *engine.Index {
	t.Helper()
	idx := engine.NewIndex()
	var svcs corev1.ServiceList
	require.NoError(t, c.List(ctx(t), &svcs, client.InNamespace(ns)))
	put := func(o runtime.Object) {
		// As serve caches them: stripped of what no rule reads.
		_, err := webhook.StripForCache(o)
		require.NoError(t, err)
		idx.Put(o)
	}
	for i := range svcs.Items {
		put(&svcs.Items[i])
	}
	for _, gvk := range []string{
		"gateway.networking.k8s.io/v1/GatewayClass", "gateway.networking.k8s.io/v1/Gateway", "gateway.networking.k8s.io/v1/HTTPRoute",
		"gateway.networking.x-k8s.io/v1alpha1/XBackendTrafficPolicy", "gateway.envoyproxy.io/v1alpha1/BackendTrafficPolicy",
	} {
		i := strings.LastIndex(gvk, "/")
		l := &unstructured.UnstructuredList{}
		l.SetAPIVersion(gvk[:i])
		l.SetKind(gvk[i+1:] + "List")
		opts := []client.ListOption{client.InNamespace(ns)}
		if strings.HasSuffix(gvk, "GatewayClass") {
			opts = nil
		}
		require.NoError(t, c.List(ctx(t), l, opts...))
		for j := range l.Items {
			put(asAPI(t, &l.Items[j]))
		}
	}
	crd := &unstructured.Unstructured{}
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	require.NoError(t, c.Get(ctx(t), client.ObjectKey{Name: "httproutes.gateway.networking.k8s.io"}, crd))
	b, ok := engine.BundleFromCRD(asAPI(t, crd).(*apis.CRD), "in the cluster")
	require.True(t, ok)
	idx.SetGatewayBundle(b)
	return idx
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	js, err := json.Marshal(v)
	require.NoError(t, err)
	return string(js)
}

// gaugeIn reads stickyguard_custom_resource_watched of a kind from reg.
func gaugeIn(t *testing.T, reg *prometheus.Registry, kind string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "stickyguard_custom_resource_watched" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == kind {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return -1
}

// A served kind is cached only where RBAC allows list and watch; where it
// does not, reviews go on (nothing to wait for) with the kind not tracked.
func TestGatewayCacheFollowsRBAC(t *testing.T) {
	gatewayAPI, err := testenv.GatewayAPICRDs("experimental")
	require.NoError(t, err)
	install(t, gatewayAPI)
	httpRoutes := schema.GroupKind{Group: apis.GroupGateway, Kind: apis.KindHTTPRoute}

	nobody := rest.CopyConfig(suite.cfg)
	nobody.Impersonate = rest.ImpersonationConfig{UserName: "no-gateway-rbac", Groups: []string{"system:authenticated"}}
	for _, tc := range []struct {
		name    string
		cfg     *rest.Config
		watched float64
	}{
		{"allowed", suite.cfg, 1},
		{"not allowed", nobody, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			gc, err := webhook.NewGatewayCache(webhook.GatewayCacheOptions{Config: tc.cfg, Registry: reg})
			require.NoError(t, err)
			runCtx, stop := context.WithCancel(context.Background())
			defer stop()
			done := make(chan error, 1)
			go func() { done <- gc.Start(runCtx) }()
			require.NoError(t, gc.Prepare(ctx(t), httpRoutes), "a review is answered either way")
			assert.EqualValues(t, tc.watched, gaugeIn(t, reg, apis.KindHTTPRoute))
			assert.EqualValues(t, 0, gaugeIn(t, reg, apis.KindEnvoyBackendTrafficPolicy), "not served")
			stop()
			require.NoError(t, <-done)
		})
	}
}
