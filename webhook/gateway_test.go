package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/engine"
)

func ptrTo[T any](v T) *T { return &v }

func route(kind, ns, name string, parents []apis.ParentReference, backends ...string) *apis.Route {
	r := &apis.Route{TypeMeta: metav1.TypeMeta{APIVersion: apis.GroupGateway + "/v1", Kind: kind},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	r.Spec.ParentRefs = parents
	rule := apis.RouteRule{}
	for _, b := range backends {
		rule.BackendRefs = append(rule.BackendRefs, apis.BackendRef{Name: b, Port: ptrTo[int32](80)})
	}
	r.Spec.Rules = []apis.RouteRule{rule}
	return r
}

// customObjects is one object of every reviewed custom kind, in namespace ns.
func customObjects(ns string) []runtime.Object {
	xbtp := &apis.BackendPolicy{TypeMeta: metav1.TypeMeta{APIVersion: apis.GroupGatewayX + "/v1alpha1", Kind: apis.KindXBackendTrafficPolicy},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sticky"},
		Spec:       apis.BackendPolicySpec{TargetRefs: []apis.PolicyTargetReference{{Kind: "Service", Name: "web"}}}}
	btp := &apis.EnvoyBackendTrafficPolicy{TypeMeta: metav1.TypeMeta{APIVersion: apis.GroupEnvoyGateway + "/v1alpha1", Kind: apis.KindEnvoyBackendTrafficPolicy},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hash"}}
	dr := &apis.DestinationRule{TypeMeta: metav1.TypeMeta{APIVersion: apis.GroupIstio + "/v1", Kind: apis.KindDestinationRule},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}, Spec: apis.DestinationRuleSpec{Host: "web"}}
	gcp := &apis.GCPBackendPolicy{TypeMeta: metav1.TypeMeta{APIVersion: apis.GroupGKENetworking + "/v1", Kind: apis.KindGCPBackendPolicy},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}}
	return []runtime.Object{
		route(apis.KindHTTPRoute, ns, "web", []apis.ParentReference{{Name: "gw"}}, "web"),
		route(apis.KindGRPCRoute, ns, "grpc", []apis.ParentReference{{Name: "gw"}}, "web"),
		xbtp, btp, dr, gcp,
	}
}

// Every custom kind has a validating path and none has a mutating one;
// the reviews go through the engine like any kind.
func TestCustomKindReviews(t *testing.T) {
	f := newFixture()
	for _, obj := range customObjects(nsEnforce) {
		gvk := gvkOf(obj)
		t.Run(gvk.Kind, func(t *testing.T) {
			var halves []Half
			for _, r := range Routes() {
				if r.Kind() == gvk {
					halves = append(halves, r.Half)
				}
			}
			assert.Equal(t, []Half{Validating}, halves, "validating only")

			resp := f.review(t, Validating, admissionv1.Create, obj, nil)
			assert.True(t, resp.Allowed)
			assert.Nil(t, resp.Patch)

			ignored := obj.DeepCopyObject()
			ignored.(metav1.Object).SetAnnotations(map[string]string{"stickyguard.io/ignore": "migrating"})
			resp = f.review(t, Validating, admissionv1.Update, ignored, obj)
			assert.True(t, resp.Allowed)
			assert.Equal(t, []string{exemptWarning(gvk.Kind, "migrating")}, resp.Warnings, "the engine ran: exempt")

			off := obj.DeepCopyObject()
			off.(metav1.Object).SetNamespace("not-opted-in")
			resp = f.review(t, Validating, admissionv1.Create, off, nil)
			assert.True(t, resp.Allowed)
			assert.Len(t, resp.Warnings, 1, "namespace not opted in")
		})
	}
}

// A review sent to the path of another kind is a bad request.
func TestCustomKindWrongPath(t *testing.T) {
	f := newFixture()
	objs := customObjects(nsEnforce)
	body := reviewJSON(t, admissionv1.Create, objs[0], nil) // an HTTPRoute
	resp := f.post(t, pathFor(t, Validating, objs[1]), body)
	assert.False(t, resp.Allowed)
	assert.EqualValues(t, http.StatusBadRequest, resp.Result.Code)
}

// preparingLookup is a Lookup whose custom resource caches are not ready.
type preparingLookup struct {
	*engine.Index
	err    error
	called []schema.GroupKind
}

func (p *preparingLookup) Prepare(_ context.Context, gk schema.GroupKind) error {
	p.called = append(p.called, gk)
	return p.err
}

// When the custom resource caches cannot be made ready the review fails
// with 500, never an answer from a cache still filling; other kinds are
// not concerned.
func TestCustomKindCachesNotReady(t *testing.T) {
	lk := &preparingLookup{Index: engine.NewIndex(), err: fmt.Errorf("%w: httproutes.gateway.networking.k8s.io (custom resources)", ErrCacheNotSynced)}
	handlers := HTTPHandlers(Deps{Lookup: lk, Modes: defaultModes()}, 0)
	f := &fixture{handlers: handlers}
	for _, obj := range customObjects(nsEnforce) {
		resp := f.review(t, Validating, admissionv1.Create, obj, nil)
		assert.False(t, resp.Allowed)
		assert.EqualValues(t, http.StatusInternalServerError, resp.Result.Code)
		assert.Contains(t, resp.Result.Message, ErrCacheNotSynced.Error())
	}
	assert.Len(t, lk.called, 6)
	assert.Equal(t, schema.GroupKind{Group: apis.GroupGateway, Kind: apis.KindHTTPRoute}, lk.called[0])

	resp := f.review(t, Validating, admissionv1.Create, service(nsEnforce, "web"), nil)
	assert.True(t, resp.Allowed, "a Service review does not wait for the custom resources")
	assert.Len(t, lk.called, 6)

	// Not opted in: nothing to prepare.
	off := customObjects("elsewhere")[0]
	resp = f.review(t, Validating, admissionv1.Create, off, nil)
	assert.True(t, resp.Allowed)
	assert.Len(t, lk.called, 6)
}

// staticStores is gatewayStores over plain stores, as the informers fill
// them.
type staticStores struct {
	stores    map[string]toolscache.Indexer
	bundle    apis.GatewayBundle
	notSynced map[string]bool
}

func (s *staticStores) store(k cachedKind) (toolscache.Indexer, error) {
	if s.notSynced[k.name()] {
		return nil, ErrCacheNotSynced
	}
	return s.stores[k.name()], nil
}

func (s *staticStores) gatewayBundle() apis.GatewayBundle { return s.bundle }

// toUnstructured is what the dynamic client lists.
func toUnstructured(t testing.TB, obj runtime.Object) *unstructured.Unstructured {
	t.Helper()
	js, err := json.Marshal(obj)
	require.NoError(t, err)
	u := &unstructured.Unstructured{}
	require.NoError(t, u.UnmarshalJSON(js))
	return u
}

// newStaticStores holds objs as the informers would (through
// toCachedObject), for the kinds in watched.
func newStaticStores(t testing.TB, watched []cachedKind, objs ...runtime.Object) *staticStores {
	t.Helper()
	s := &staticStores{stores: map[string]toolscache.Indexer{}}
	for _, k := range watched {
		s.stores[k.name()] = toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, indexersFor(k))
	}
	for _, o := range objs {
		gvk := o.GetObjectKind().GroupVersionKind()
		for _, k := range watched {
			if k.gvr.Group == gvk.Group && k.kind == gvk.Kind {
				cached, err := toCachedObject(toUnstructured(t, o))
				require.NoError(t, err)
				require.NoError(t, s.stores[k.name()].Add(cached))
			}
		}
	}
	return s
}

// randomGatewayCluster draws Gateways, classes, routes and policies over
// two namespaces, and the reference index over them.
func randomGatewayCluster(r *rand.Rand) (*engine.Index, []runtime.Object) {
	idx := engine.NewIndex()
	var objs []runtime.Object
	add := func(o runtime.Object) {
		objs = append(objs, o)
		idx.Put(o)
	}
	nss := []string{"a", "b"}
	for i := range 3 {
		add(&apis.GatewayClass{TypeMeta: metav1.TypeMeta{APIVersion: apis.GroupGateway + "/v1", Kind: apis.KindGatewayClass},
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("class-%d", i)}, Spec: apis.GatewayClassSpec{ControllerName: fmt.Sprintf("example.com/c%d", i)}})
	}
	for _, ns := range nss {
		for i := range 4 {
			add(&apis.Gateway{TypeMeta: metav1.TypeMeta{APIVersion: apis.GroupGateway + "/v1", Kind: apis.KindGateway},
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("gw-%d", i), Labels: map[string]string{"tier": []string{"edge", "internal"}[i%2]}},
				Spec:       apis.GatewaySpec{GatewayClassName: fmt.Sprintf("class-%d", r.IntN(4))}})
		}
		for i := range 30 {
			var parents []apis.ParentReference
			for range r.IntN(3) + 1 {
				p := apis.ParentReference{Name: fmt.Sprintf("gw-%d", r.IntN(5))}
				switch r.IntN(4) {
				case 0:
					p.Namespace = ptrTo(nss[r.IntN(2)])
				case 1:
					p.Group, p.Kind, p.Name = ptrTo(""), ptrTo("Service"), fmt.Sprintf("svc-%d", r.IntN(6))
				}
				parents = append(parents, p)
			}
			var backends []string
			for range r.IntN(3) {
				backends = append(backends, fmt.Sprintf("svc-%d", r.IntN(6)))
			}
			kind := []string{apis.KindHTTPRoute, apis.KindGRPCRoute}[r.IntN(2)]
			rt := route(kind, ns, fmt.Sprintf("route-%02d", i), parents, backends...)
			if r.IntN(3) == 0 {
				rt.Spec.Rules[0].BackendRefs = append(rt.Spec.Rules[0].BackendRefs, apis.BackendRef{Name: fmt.Sprintf("svc-%d", r.IntN(6)), Namespace: ptrTo(nss[r.IntN(2)])})
			}
			rt.Labels = map[string]string{"sticky": []string{"yes", "no"}[r.IntN(2)]}
			add(rt)
		}
		for i := range 8 {
			kind, version := apis.KindXBackendTrafficPolicy, apis.GroupGatewayX+"/v1alpha1"
			if i%4 == 3 {
				kind, version = apis.KindBackendLBPolicy, apis.GroupGateway+"/v1alpha2"
			}
			add(&apis.BackendPolicy{TypeMeta: metav1.TypeMeta{APIVersion: version, Kind: kind},
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("pol-%d", i)},
				Spec:       apis.BackendPolicySpec{TargetRefs: []apis.PolicyTargetReference{{Kind: "Service", Name: fmt.Sprintf("svc-%d", r.IntN(6))}}}})
			p := &apis.EnvoyBackendTrafficPolicy{TypeMeta: metav1.TypeMeta{APIVersion: apis.GroupEnvoyGateway + "/v1alpha1", Kind: apis.KindEnvoyBackendTrafficPolicy},
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("btp-%d", i)}}
			switch i % 3 {
			case 0:
				p.Spec.TargetRefs = []apis.PolicyTargetReference{{Group: apis.GroupGateway, Kind: apis.KindHTTPRoute, Name: fmt.Sprintf("route-%02d", r.IntN(30))}}
			case 1:
				p.Spec.TargetRef = &apis.PolicyTargetReference{Group: apis.GroupGateway, Kind: apis.KindGateway, Name: fmt.Sprintf("gw-%d", r.IntN(4))}
			default:
				p.Spec.TargetSelectors = []map[string]any{{"kind": apis.KindHTTPRoute, "matchLabels": map[string]any{"sticky": "yes"}}}
			}
			add(p)
		}
	}
	return idx, objs
}

func routeIDs(rs []*apis.Route) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Kind+"/"+r.Namespace+"/"+r.Name)
	}
	return out
}

// The cache-backed Lookup answers as engine.Index on the same objects, so
// serve and check relate the same objects; and the engine's related view
// built on either is the same.
func TestGatewayLookupMatchesIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	idx, objs := randomGatewayCluster(r)
	live := storeLookup(t)
	live.gateway = newStaticStores(t, cachedKinds(), objs...)
	matches := 0
	for _, ns := range []string{"a", "b", "none"} {
		want, _ := idx.Routes(ns)
		got, err := live.Routes(ns)
		require.NoError(t, err)
		assert.Equal(t, routeIDs(want), routeIDs(got), "Routes(%s)", ns)
		wantP, _ := idx.BackendPolicies(ns)
		gotP, err := live.BackendPolicies(ns)
		require.NoError(t, err)
		assert.Equal(t, len(wantP), len(gotP))
		for i := range wantP {
			assert.Equal(t, wantP[i].Kind+"/"+wantP[i].Name, gotP[i].Kind+"/"+gotP[i].Name)
		}
		wantE, _ := idx.EnvoyPolicies(ns)
		gotE, err := live.EnvoyPolicies(ns)
		require.NoError(t, err)
		require.Equal(t, len(wantE), len(gotE))
		for i := range wantE {
			assert.Equal(t, wantE[i].Name, gotE[i].Name)
		}
		for i := range 7 {
			svc := fmt.Sprintf("svc-%d", i)
			want, _ := idx.RoutesForBackend(ns, svc)
			got, err := live.RoutesForBackend(ns, svc)
			require.NoError(t, err)
			assert.Equal(t, routeIDs(want), routeIDs(got), "RoutesForBackend(%s, %s)", ns, svc)
			matches += len(want)
			k := engine.ParentKey{Kind: "Service", Namespace: ns, Name: svc}
			want, _ = idx.RoutesForParent(k)
			got, err = live.RoutesForParent(k)
			require.NoError(t, err)
			assert.Equal(t, routeIDs(want), routeIDs(got), "RoutesForParent(%v)", k)

			gw := fmt.Sprintf("gw-%d", i)
			k = engine.ParentKey{Group: apis.GroupGateway, Kind: apis.KindGateway, Namespace: ns, Name: gw}
			want, _ = idx.RoutesForParent(k)
			got, err = live.RoutesForParent(k)
			require.NoError(t, err)
			assert.Equal(t, routeIDs(want), routeIDs(got), "RoutesForParent(%v)", k)
			matches += len(want)
			wantG, _ := idx.Gateway(ns, gw)
			gotG, err := live.Gateway(ns, gw)
			require.NoError(t, err)
			assert.Equal(t, wantG == nil, gotG == nil, gw)
		}
	}
	assert.Greater(t, matches, 50, "the random data should produce matches")
	c, err := live.GatewayClass("class-1")
	require.NoError(t, err)
	assert.Equal(t, "example.com/c1", c.Spec.ControllerName)

	// What the rules are given is the same too.
	related := 0
	for _, o := range objs {
		want, err := engine.RelatedOf(o, engine.Options{Lookup: idx})
		if errors.Is(err, engine.ErrUnsupportedKind) {
			continue // Gateways and classes are context
		}
		require.NoError(t, err)
		got, err := engine.RelatedOf(o, engine.Options{Lookup: live})
		require.NoError(t, err)
		assert.JSONEq(t, mustJSONString(t, want.Gateway), mustJSONString(t, got.Gateway), "%T %s", o, o.(metav1.Object).GetName())
		related += len(want.Gateway.SiblingRoutes) + len(want.Gateway.Routes) + len(want.Gateway.EnvoyPolicies) + len(want.Gateway.BackendPolicies)
	}
	assert.Greater(t, related, 100, "the random data should relate objects")
}

func mustJSONString(t testing.TB, v any) string {
	t.Helper()
	js, err := json.Marshal(v)
	require.NoError(t, err)
	return string(js)
}

// Kinds that are not watched are empty, not errors; a watched kind whose
// informer has not synced is an error (500), never an empty answer.
func TestGatewayLookupNotTracked(t *testing.T) {
	rt := route(apis.KindHTTPRoute, "a", "r", []apis.ParentReference{{Name: "gw"}}, "svc")
	s := newStaticStores(t, []cachedKind{kindHTTPRoutes}, rt)
	live := storeLookup(t)
	live.gateway = s
	got, err := live.Routes("a")
	require.NoError(t, err)
	assert.Equal(t, []string{"HTTPRoute/a/r"}, routeIDs(got), "GRPCRoutes not tracked: only HTTPRoutes")
	gw, err := live.Gateway("a", "gw")
	assert.NoError(t, err)
	assert.Nil(t, gw)
	pols, err := live.EnvoyPolicies("a")
	assert.NoError(t, err)
	assert.Empty(t, pols)

	s.notSynced = map[string]bool{kindGRPCRoutes.name(): true}
	_, err = live.RoutesForParent(engine.ParentKey{Group: apis.GroupGateway, Kind: apis.KindGateway, Namespace: "a", Name: "gw"})
	assert.ErrorIs(t, err, ErrCacheNotSynced)
	_, err = engine.Evaluate(rt, nil, engine.Options{Lookup: live})
	assert.ErrorIs(t, err, ErrCacheNotSynced)

	b, err := (&CacheLookup{}).GatewayBundle()
	assert.NoError(t, err)
	assert.False(t, b.Known(), "no custom resource cache: unknown")
	live.gateway = &staticStores{bundle: apis.BundleFor("v1.6.3", "experimental", "test")}
	b, err = live.GatewayBundle()
	assert.NoError(t, err)
	assert.Equal(t, apis.ShapeV1, b.Shape)
}

func TestToCachedObject(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": map[string]any{"name": "r", "namespace": "a", "labels": map[string]any{"sticky": "yes"},
			"annotations":   map[string]any{lastApplied: "{...}", "stickyguard.io/ignore": "x"},
			"managedFields": []any{map[string]any{"manager": "kubectl"}}},
		"spec": map[string]any{
			"parentRefs": []any{map[string]any{"name": "gw"}},
			"rules": []any{map[string]any{
				"filters":            []any{map[string]any{"type": "RequestHeaderModifier"}},
				"backendRefs":        []any{map[string]any{"name": "svc", "port": int64(80)}},
				"sessionPersistence": map[string]any{"sessionName": "s"},
			}},
		},
		"status": map[string]any{"parents": []any{map[string]any{"controllerName": "x"}}},
	}}
	out, err := toCachedObject(u)
	require.NoError(t, err)
	r, ok := out.(*apis.Route)
	require.True(t, ok)
	assert.Equal(t, "HTTPRoute", r.Kind)
	assert.Nil(t, r.ManagedFields)
	assert.Equal(t, map[string]string{"stickyguard.io/ignore": "x"}, r.Annotations)
	assert.Equal(t, map[string]string{"sticky": "yes"}, r.Labels, "labels stay: targetSelectors read them")
	assert.Equal(t, "s", *r.Spec.Rules[0].SessionPersistence.SessionName)
	js, err := json.Marshal(r)
	require.NoError(t, err)
	assert.NotContains(t, string(js), "RequestHeaderModifier", "what no rule reads is not kept")

	// An object that does not fit the type still exists.
	bad := u.DeepCopy()
	bad.Object["spec"] = map[string]any{"rules": int64(3)}
	out, err = toCachedObject(bad)
	require.NoError(t, err)
	r = out.(*apis.Route)
	assert.Equal(t, "r", r.Name)
	assert.Equal(t, "HTTPRoute", r.Kind)
	assert.Empty(t, r.Spec.Rules)

	crd := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "httproutes.gateway.networking.k8s.io", ResourceVersion: "7",
		Labels: map[string]string{"x": "y"}, Annotations: map[string]string{apis.AnnBundleVersion: "v1.6.3", apis.AnnChannel: "experimental", "other": "z"}}}
	slim, err := slimCRD(crd)
	require.NoError(t, err)
	assert.Equal(t, &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: crd.Name, ResourceVersion: "7",
		Annotations: map[string]string{apis.AnnBundleVersion: "v1.6.3", apis.AnnChannel: "experimental"}}}, slim)
	other := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "widgets.example.com", Annotations: map[string]string{apis.AnnBundleVersion: "v1"}}}
	slim, err = slimCRD(other)
	require.NoError(t, err)
	assert.Nil(t, slim.(*metav1.PartialObjectMetadata).Annotations)

}
