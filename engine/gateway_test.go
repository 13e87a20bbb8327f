package engine

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/policy"
	"github.com/stickyguard/stickyguard/validators"
)

// gatewayInput is one manifest set: an Envoy Gateway class and Gateway in
// the same input as the routes, a Gateway shared from another namespace,
// a mesh route, Services, and policies targeting (or not) the route.
const gatewayInput = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: istio}
spec: {controllerName: istio.io/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: shop, labels: {tier: edge}}
spec:
  gatewayClassName: eg
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: Gateway
metadata: {name: shared, namespace: infra}
spec:
  gatewayClassName: istio
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec:
  selector: {app: cart}
  ports: [{port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: cart, namespace: shop, labels: {sticky: "yes"}}
spec:
  parentRefs:
  - name: web
  - name: shared
    namespace: infra
  - group: ""
    kind: Service
    name: cart
  - name: missing
  rules:
  - backendRefs: [{name: cart, port: 80}, {name: gone, port: 80}, {name: cart, port: 80}]
    sessionPersistence: {sessionName: cart, type: Cookie}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: cart, namespace: shop}
spec:
  parentRefs: [{name: web}]
  rules: [{backendRefs: [{name: cart, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: other-team, namespace: team}
spec:
  parentRefs: [{name: shared, namespace: infra}]
  rules: [{backendRefs: [{name: cart, namespace: shop, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: unrelated, namespace: shop}
spec:
  parentRefs: [{name: elsewhere}]
  rules: [{backendRefs: [{name: other, port: 80}]}]
---
apiVersion: gateway.networking.x-k8s.io/v1alpha1
kind: XBackendTrafficPolicy
metadata: {name: cart-sticky, namespace: shop}
spec:
  targetRefs: [{group: "", kind: Service, name: cart}]
  sessionPersistence: {sessionName: x}
---
apiVersion: gateway.networking.x-k8s.io/v1alpha1
kind: XBackendTrafficPolicy
metadata: {name: other, namespace: shop}
spec:
  targetRefs: [{group: "", kind: Service, name: other}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: by-name, namespace: shop}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: cart}]
  loadBalancer: {type: ConsistentHash, consistentHash: {type: SourceIP}}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: by-label, namespace: shop}
spec:
  targetSelectors: [{kind: HTTPRoute, matchLabels: {sticky: "yes"}}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: on-gateway, namespace: shop}
spec:
  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: web}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: grpc-only, namespace: shop}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: GRPCRoute, name: cart}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: cart, namespace: shop}
spec:
  host: cart.shop.svc.cluster.local
  trafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true}}}
---
apiVersion: networking.gke.io/v1
kind: GCPBackendPolicy
metadata: {name: cart, namespace: shop}
spec:
  targetRef: {group: "", kind: Service, name: cart}
  default: {sessionAffinity: {type: CLIENT_IP}}
`

func readInput(t *testing.T, text string) []Document {
	t.Helper()
	docs, err := ReadDocuments("in.yaml", strings.NewReader(text))
	require.NoError(t, err)
	return docs
}

func findDoc(t *testing.T, docs []Document, kind, ns, name string) *Document {
	t.Helper()
	for i := range docs {
		if d := &docs[i]; d.Kind == kind && d.Namespace == ns && d.Name == name {
			return d
		}
	}
	require.Failf(t, "document not found", "%s %s/%s", kind, ns, name)
	return nil
}

func routeNames(rs []*apis.Route) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Kind+"/"+r.Namespace+"/"+r.Name)
	}
	return out
}

func names[T interface{ GetName() string }](objs []T) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetName())
	}
	return out
}

func TestReadGatewayKinds(t *testing.T) {
	docs := readInput(t, gatewayInput)
	checked := map[string]bool{}
	for _, d := range docs {
		require.Empty(t, d.RawErrors, d.Source)
		require.NotNil(t, d.Object, "%s %s is kept as an object", d.Kind, d.Name)
		checked[d.Kind] = checked[d.Kind] || d.Checked()
	}
	assert.Equal(t, map[string]bool{
		"GatewayClass": false, "Gateway": false, "Service": true, "HTTPRoute": true, "GRPCRoute": true,
		"XBackendTrafficPolicy": true, "BackendTrafficPolicy": true, "DestinationRule": true, "GCPBackendPolicy": true,
	}, checked)
	assert.Equal(t, "no rules for Gateway (used to resolve the implementation of routes)", findDoc(t, docs, "Gateway", "infra", "shared").Skipped)
	r := findDoc(t, docs, "GRPCRoute", "shop", "cart").Object.(*apis.Route)
	assert.True(t, r.IsGRPC())

	// A document that does not fit the type is a decode finding, not a
	// failed read.
	bad := readInput(t, "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: x}\nspec: {rules: 3}\n")
	require.Len(t, bad, 1)
	assert.Nil(t, bad[0].Object)
	assert.NotEmpty(t, bad[0].RawErrors)
}

// A route whose Gateway and GatewayClass are in the same input resolves
// its implementation; siblings, backends and policies are found across the
// input.
func TestRouteRelated(t *testing.T) {
	docs := readInput(t, gatewayInput)
	o := &Options{Lookup: indexDocuments(docs), Policy: policy.Default()}
	route := findDoc(t, docs, "HTTPRoute", "shop", "cart").Object.(*apis.Route)

	rel, err := routeRelated(route, o)
	require.NoError(t, err)
	g := rel.Gateway
	require.Len(t, g.Parents, 4, "one per parentRef, in order")
	assert.Equal(t, "gateway.envoyproxy.io/gatewayclass-controller", g.Parents[0].ControllerName())
	assert.Equal(t, "web", g.Parents[0].Gateway.Name)
	assert.Equal(t, "istio.io/gateway-controller", g.Parents[1].ControllerName(), "a Gateway of another namespace (v1beta1 in the input)")
	assert.Nil(t, g.Parents[2].Gateway, "a Service parent (mesh)")
	assert.Equal(t, "cart", g.Parents[2].Ref.Name)
	assert.Nil(t, g.Parents[3].Gateway, "a Gateway that is not in the input")
	assert.Empty(t, g.Parents[3].ControllerName())

	assert.Equal(t, []string{"GRPCRoute/shop/cart", "HTTPRoute/team/other-team"}, routeNames(g.SiblingRoutes),
		"routes on the same Gateways, any namespace, never the route itself")
	assert.Equal(t, []string{"cart"}, names(rel.BackendServices), "existing backend Services, once each")
	assert.Equal(t, []string{"cart-sticky"}, names(g.BackendPolicies))
	assert.Equal(t, []string{"by-label", "by-name", "on-gateway"}, names(g.EnvoyPolicies),
		"by name, by label and through its Gateway; not the GRPCRoute's")
	assert.False(t, g.Bundle.Known(), "no CRDs, policy or flag")

	// The GRPCRoute of the same name is another object.
	grpc := findDoc(t, docs, "GRPCRoute", "shop", "cart").Object.(*apis.Route)
	rel, err = routeRelated(grpc, o)
	require.NoError(t, err)
	assert.Equal(t, []string{"HTTPRoute/shop/cart"}, routeNames(rel.Gateway.SiblingRoutes))
	assert.Equal(t, []string{"grpc-only", "on-gateway"}, names(rel.Gateway.EnvoyPolicies))
}

func TestPolicyRelated(t *testing.T) {
	docs := readInput(t, gatewayInput)
	o := &Options{Lookup: indexDocuments(docs), Policy: policy.Default()}
	obj := func(kind, name string) any { return findDoc(t, docs, kind, "shop", name).Object }

	// Services' policies: the routes of the policy's namespace sending to
	// the Service (not team/other-team), with their parents resolved.
	for _, rel := range []func() (validators.Related, error){
		func() (validators.Related, error) {
			p := obj("XBackendTrafficPolicy", "cart-sticky").(*apis.BackendPolicy)
			return policyRelated(o, p.Namespace, servicesIn(p.Namespace, BackendPolicyServices(p)))
		},
		func() (validators.Related, error) {
			d := obj("DestinationRule", "cart").(*apis.DestinationRule)
			n, ok := DestinationRuleService(d)
			require.True(t, ok)
			return policyRelated(o, d.Namespace, servicesIn(n.Namespace, []string{n.Name}))
		},
		func() (validators.Related, error) {
			p := obj("GCPBackendPolicy", "cart").(*apis.GCPBackendPolicy)
			n, ok := GCPPolicyService(p)
			require.True(t, ok)
			return policyRelated(o, p.Namespace, servicesIn(n.Namespace, []string{n.Name}))
		},
	} {
		r, err := rel()
		require.NoError(t, err)
		g := r.Gateway
		assert.Equal(t, []string{"cart"}, names(g.Services))
		assert.Equal(t, []string{"GRPCRoute/shop/cart", "HTTPRoute/shop/cart"}, routeNames(g.Routes))
		require.Len(t, g.RouteParents, 2, "one list per route")
		assert.Equal(t, "gateway.envoyproxy.io/gatewayclass-controller", g.RouteParents[0][0].ControllerName())
		assert.Len(t, g.RouteParents[1], 4)
	}

	// A backend policy also sees the others of its namespace, never itself.
	rel, err := RelatedOf(obj("XBackendTrafficPolicy", "cart-sticky").(*apis.BackendPolicy), *o)
	require.NoError(t, err)
	assert.Equal(t, []string{"other"}, names(rel.Gateway.BackendPolicies))

	for name, want := range map[string][]string{
		"by-name":    {"HTTPRoute/shop/cart"},
		"by-label":   {"HTTPRoute/shop/cart"},
		"grpc-only":  {"GRPCRoute/shop/cart"},
		"on-gateway": nil, // targets a Gateway, not a route
	} {
		rel, err := envoyPolicyRelated(obj("BackendTrafficPolicy", name).(*apis.EnvoyBackendTrafficPolicy), o)
		require.NoError(t, err)
		assert.Equal(t, want, routeNames(rel.Gateway.Routes), name)
		assert.Len(t, rel.Gateway.RouteParents, len(want), name)
		if want != nil {
			assert.Equal(t, []string{"cart"}, names(rel.Gateway.Services), "%s: the routes' backends that exist", name)
		}
	}
}

func TestDestinationRuleService(t *testing.T) {
	for host, want := range map[string]string{
		"reviews":                        "shop/reviews",
		"reviews.prod.svc.cluster.local": "prod/reviews",
		"reviews.prod.svc":               "prod/reviews",
		"reviews.prod.svc.corp.example":  "prod/reviews",
		"reviews.prod":                   "", // not a registry host: istiod does not expand it
		"*.prod.svc.cluster.local":       "",
		"api.example.com":                "",
		"":                               "",
	} {
		d := &apis.DestinationRule{Spec: apis.DestinationRuleSpec{Host: host}}
		d.Namespace = "shop"
		n, ok := DestinationRuleService(d)
		got := ""
		if ok {
			got = n.String()
		}
		assert.Equal(t, want, got, host)
	}
}

// Every apis kind that has rules goes through Evaluate; stickyguard.io/ignore
// exempts it as any kind; context kinds are not evaluated.
func TestEvaluateGatewayKinds(t *testing.T) {
	docs := readInput(t, gatewayInput)
	opts := Options{Lookup: indexDocuments(docs)}
	for _, kind := range []string{"HTTPRoute", "GRPCRoute", "XBackendTrafficPolicy", "BackendTrafficPolicy", "DestinationRule", "GCPBackendPolicy"} {
		var d *Document
		for i := range docs {
			if docs[i].Kind == kind {
				d = &docs[i]
				break
			}
		}
		require.NotNil(t, d, kind)
		res, err := Evaluate(d.Object, nil, opts)
		require.NoError(t, err, kind)
		assert.Same(t, d.Object, res.Object, "%s: nothing is filled; the object itself", kind)
		assert.Empty(t, res.Mutations, kind)

		ignored := d.Object.DeepCopyObject().(gatewayObject)
		ignored.SetAnnotations(map[string]string{"stickyguard.io/ignore": "migrating"})
		res, err = Validate(ignored, nil, opts)
		require.NoError(t, err, kind)
		assert.Equal(t, "migrating", res.Exempt, kind)
	}
	_, err := Evaluate(findDoc(t, docs, "Gateway", "shop", "web").Object, nil, opts)
	assert.ErrorIs(t, err, ErrUnsupportedKind)
}

// An HTTPRoute CRD trimmed to what the bundle detection reads.
func routeCRD(version, channel string, sp map[string]any) *apis.CRD {
	rule := map[string]any{"backendRefs": map[string]any{"type": "array"}}
	if sp != nil {
		rule["sessionPersistence"] = map[string]any{"type": "object", "properties": sp}
	}
	c := &apis.CRD{Spec: apis.CRDSpec{Group: apis.GroupGateway, Names: apis.CRDNames{Kind: "HTTPRoute", Plural: "httproutes"},
		Versions: []apis.CRDVersion{
			{Name: "v1beta1", Served: true, Schema: map[string]any{}},
			{Name: "v1", Served: true, Storage: true, Schema: map[string]any{"openAPIV3Schema": map[string]any{
				"properties": map[string]any{"spec": map[string]any{"properties": map[string]any{
					"rules": map[string]any{"items": map[string]any{"properties": rule}}}}}}}},
		}}}
	c.Name = CRDHTTPRoutes
	c.Annotations = map[string]string{apis.AnnBundleVersion: version, apis.AnnChannel: channel}
	return c
}

var (
	v1Shape   = map[string]any{"sessionName": map[string]any{}, "cookieConfig": map[string]any{}}
	v15Shape  = map[string]any{"sessionName": map[string]any{}, "idleTimeout": map[string]any{}}
	v17Shape  = map[string]any{"cookie": map[string]any{}, "header": map[string]any{}}
	noSchemaC = func() *apis.CRD {
		c := routeCRD("v1.5.1", "experimental", nil)
		c.Spec.Versions = nil
		return c
	}
)

func TestBundleFromCRD(t *testing.T) {
	for name, tc := range map[string]struct {
		crd  *apis.CRD
		want apis.GatewayBundle
	}{
		"v1.6 experimental": {routeCRD("v1.6.3", "experimental", v1Shape),
			apis.GatewayBundle{Version: "v1.6.3", Channel: "experimental", Shape: apis.ShapeV1}},
		"v1.5 has idleTimeout": {routeCRD("v1.5.1", "experimental", v15Shape),
			apis.GatewayBundle{Version: "v1.5.1", Channel: "experimental", Shape: apis.ShapeV1, IdleTimeout: true}},
		"standard: no sessionPersistence": {routeCRD("v1.6.3", "standard", nil),
			apis.GatewayBundle{Version: "v1.6.3", Channel: "standard", Shape: apis.ShapeNone}},
		"a main build: the schema tells": {routeCRD("v0.0.0-dev", "experimental", v17Shape),
			apis.GatewayBundle{Version: "v0.0.0-dev", Channel: "experimental", Shape: apis.ShapeV2}},
		"the schema wins over the version": {routeCRD("v1.6.3", "experimental", v17Shape),
			apis.GatewayBundle{Version: "v1.6.3", Channel: "experimental", Shape: apis.ShapeV2}},
		"no schema: the version tells": {noSchemaC(),
			apis.GatewayBundle{Version: "v1.5.1", Channel: "experimental", Shape: apis.ShapeV1, IdleTimeout: true}},
	} {
		t.Run(name, func(t *testing.T) {
			got, ok := BundleFromCRD(tc.crd, "in x.yaml#1")
			require.True(t, ok)
			tc.want.Source = "CRD httproutes.gateway.networking.k8s.io in x.yaml#1"
			assert.Equal(t, tc.want, got)
		})
	}
	other := &apis.CRD{Spec: apis.CRDSpec{Group: "example.com"}}
	_, ok := BundleFromCRD(other, "")
	assert.False(t, ok)
}

func TestParseGatewayAPI(t *testing.T) {
	b, err := ParseGatewayAPI("v1.6.3/experimental")
	require.NoError(t, err)
	assert.Equal(t, apis.GatewayBundle{Version: "v1.6.3", Channel: "experimental", Shape: apis.ShapeV1, Source: "--gateway-api v1.6.3/experimental"}, b)
	b, err = ParseGatewayAPI("v1.7.0")
	require.NoError(t, err)
	assert.Equal(t, "", b.Channel)
	for _, bad := range []string{"", "1.6.3", "v1.6", "latest", "v0.0.0-dev", "v1.6.3/beta", "v1.6.3/experimental/x", "/experimental"} {
		_, err := ParseGatewayAPI(bad)
		assert.Error(t, err, bad)
	}
}

// The bundle comes from the flag, else the CRDs in the input, else the
// policy; unknown without any of them.
func TestBundlePrecedence(t *testing.T) {
	crdYAML := `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: httproutes.gateway.networking.k8s.io
  annotations: {gateway.networking.k8s.io/bundle-version: v1.6.3, gateway.networking.k8s.io/channel: experimental}
spec:
  group: gateway.networking.k8s.io
  names: {kind: HTTPRoute, plural: httproutes}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        properties:
          spec:
            properties:
              rules:
                items:
                  properties:
                    sessionPersistence:
                      properties: {sessionName: {type: string}, cookieConfig: {type: object}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gateways.gateway.networking.k8s.io
  annotations: {gateway.networking.k8s.io/bundle-version: v1.5.0, gateway.networking.k8s.io/channel: standard}
spec: {group: gateway.networking.k8s.io, names: {kind: Gateway, plural: gateways}}
`
	route := "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: shop}\nspec: {}\n"
	pol := policy.Default()
	pol.Cluster.GatewayAPI = policy.GatewayAPIFacts{Version: "v1.7.0", Channel: "experimental"}
	flag, err := ParseGatewayAPI("v1.5.1/standard")
	require.NoError(t, err)

	for name, tc := range map[string]struct {
		input  string
		policy *policy.Policy
		flag   apis.GatewayBundle
		want   string // Version/Channel/Shape from Source
	}{
		"nothing":          {route, nil, apis.GatewayBundle{}, "//"},
		"policy":           {route, pol, apis.GatewayBundle{}, "v1.7.0/experimental/cookie from policy cluster.gatewayAPI"},
		"CRDs over policy": {crdYAML + route, pol, apis.GatewayBundle{}, "v1.6.3/experimental/sessionName from CRD httproutes.gateway.networking.k8s.io in in.yaml#1"},
		"flag over CRDs":   {crdYAML + route, pol, flag, "v1.5.1/standard/none from --gateway-api v1.5.1/standard"},
		"flag over policy": {route, pol, flag, "v1.5.1/standard/none from --gateway-api v1.5.1/standard"},
		"the HTTPRoute CRD over others, whatever the order": {
			strings.Join(strings.SplitN(crdYAML, "---\n", 2)[1:], "") + "---\n" + strings.SplitN(crdYAML, "---\n", 2)[0] + route,
			nil, apis.GatewayBundle{}, "v1.6.3/experimental/sessionName from CRD httproutes.gateway.networking.k8s.io in in.yaml#2"},
	} {
		t.Run(name, func(t *testing.T) {
			docs := readInput(t, tc.input)
			o := &Options{Lookup: indexDocuments(docs), Policy: tc.policy, Bundle: tc.flag}
			o.normalize()
			b, err := o.gatewayBundle()
			require.NoError(t, err)
			got := b.Version + "/" + b.Channel + "/" + string(b.Shape)
			if b.Source != "" {
				got += " from " + b.Source
			}
			assert.Equal(t, tc.want, got)
			// What the rules see is the same.
			rel, err := routeRelated(findDoc(t, docs, "HTTPRoute", "shop", "r").Object.(*apis.Route), o)
			require.NoError(t, err)
			assert.Equal(t, b, rel.Gateway.Bundle)
		})
	}
}

// CheckDocuments runs the new kinds with the rest: they are checked, the
// context kinds skipped with their reason.
func TestCheckDocumentsGatewayKinds(t *testing.T) {
	checked, skipped, err := CheckDocuments(readInput(t, gatewayInput), Options{Offline: true})
	require.NoError(t, err)
	var got, skippedKinds []string
	for _, c := range checked {
		got = append(got, c.Doc.Kind+"/"+c.Doc.Name)
	}
	for _, d := range skipped {
		skippedKinds = append(skippedKinds, d.Kind+"/"+d.Name)
	}
	assert.Equal(t, []string{"Service/cart", "HTTPRoute/cart", "GRPCRoute/cart", "HTTPRoute/other-team", "HTTPRoute/unrelated",
		"XBackendTrafficPolicy/cart-sticky", "XBackendTrafficPolicy/other", "BackendTrafficPolicy/by-name", "BackendTrafficPolicy/by-label",
		"BackendTrafficPolicy/on-gateway", "BackendTrafficPolicy/grpc-only", "DestinationRule/cart", "GCPBackendPolicy/cart"}, got)
	assert.Equal(t, []string{"GatewayClass/eg", "GatewayClass/istio", "Gateway/web", "Gateway/shared"}, skippedKinds)
}

// A route's implementation resolves through the Gateway and GatewayClass in
// the same input: Istio ignores sessionPersistence (GWI-001). Without the
// GatewayClass the controller is unknown and nothing is said.
func TestCheckResolvesImplementation(t *testing.T) {
	rulesOf := func(docs []Document) []string {
		checked, _, err := CheckDocuments(docs, Options{Offline: true})
		require.NoError(t, err)
		for _, c := range checked {
			if c.Doc.Kind == "HTTPRoute" && c.Doc.Name == "cart" && c.Doc.Namespace == "shop" {
				var out []string
				for _, w := range c.Result.Warnings {
					out = append(out, w.Rule)
				}
				return out
			}
		}
		require.Fail(t, "HTTPRoute shop/cart not checked")
		return nil
	}
	docs := readInput(t, gatewayInput)
	assert.Contains(t, rulesOf(docs), "GWI-001", "the shared Gateway is Istio's")

	var noIstioClass []Document
	for _, d := range readInput(t, gatewayInput) {
		if !(d.Kind == "GatewayClass" && d.Name == "istio") {
			noIstioClass = append(noIstioClass, d)
		}
	}
	assert.NotContains(t, rulesOf(noIstioClass), "GWI-001")
}
