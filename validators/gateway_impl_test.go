package validators

import (
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/policy"
)

// Controller names as GatewayClasses carry them.
const (
	ctrlEG      = "gateway.envoyproxy.io/gatewayclass-controller"
	ctrlNGF     = "gateway.nginx.org/nginx-gateway-controller"
	ctrlIstio   = "istio.io/gateway-controller"
	ctrlMesh    = "istio.io/mesh-controller"
	ctrlTraefik = "traefik.io/gateway-controller"
	ctrlContour = "projectcontour.io/gateway-controller"
	ctrlCilium  = "io.cilium/gateway-controller"
	ctrlKgw     = "kgateway.dev/kgateway"
	ctrlGKE     = "networking.gke.io/gateway"
	ctrlKong    = "konghq.com/kic-gateway-controller"
)

// gwtParent is a parent Gateway named like its controller's class.
func gwtParent(gateway, controller string) RouteParent {
	class := &apis.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: gateway},
		Spec: apis.GatewayClassSpec{ControllerName: controller}}
	return RouteParent{Ref: apis.ParentReference{Name: gateway}, Gateway: gwtGateway(gateway), Class: class}
}

// implCtx is a live context whose route parents are Gateways of the given
// controllers.
func implCtx(b apis.GatewayBundle, controllers ...string) *Context {
	var ps []RouteParent
	for _, c := range controllers {
		ps = append(ps, gwtParent("gw-"+c, c))
	}
	return gwtCtx(b, false, withParents(ps...))
}

// routeFor is a route whose parentRefs match implCtx's parents.
func routeFor(rules []apis.RouteRule, controllers ...string) *apis.Route {
	var refs []apis.ParentReference
	for _, c := range controllers {
		refs = append(refs, apis.ParentReference{Name: "gw-" + c})
	}
	return gwtRoute(rules, gwtParents(refs...))
}

func ngfCtx(b apis.GatewayBundle, plus, experimental *bool) *Context {
	c := implCtx(b, ctrlNGF)
	c.Policy = policy.Default()
	c.Policy.Cluster.NginxGatewayFabric = policy.NGFFacts{Plus: plus, Experimental: experimental}
	return c
}

func gwtBool(v bool) *bool { return &v }

func TestGatewayImplRoute(t *testing.T) {
	named := gwtRules(v1Cookie("s", spAbs("1h"), spCfg(gwtStr(apis.LifetimePermanent))))
	header := gwtRules(gwtSP(spName("s"), spTyp(apis.PersistenceHeader)))
	two := gwtRules(v1Cookie("a"), v1Cookie("b"))
	yes, no := gwtBool(true), gwtBool(false)
	cases := []gwtRouteCase{
		{name: "Envoy Gateway HTTPRoute", route: routeFor(named, ctrlEG), ctx: implCtx(gwtV163, ctrlEG)},
		{name: "Envoy Gateway Header", route: routeFor(header, ctrlEG), ctx: implCtx(gwtV163, ctrlEG)},
		{name: "Envoy Gateway GRPCRoute", route: gwtRoute(named, gwtGRPC()), ctx: implCtx(gwtV163, ctrlEG),
			wantWarn: []finding{warn("GWI-002", sp0)}},
		{name: "Istio ignores it", route: routeFor(named, ctrlIstio), ctx: implCtx(gwtV163, ctrlIstio),
			wantWarn: []finding{warn("GWI-001", sp0)}},
		{name: "Istio waypoint ignores it", route: routeFor(named, ctrlMesh), ctx: implCtx(gwtV170, ctrlMesh),
			wantWarn: []finding{warn("GWI-001", sp0)}},
		{name: "Istio once for several rules", route: routeFor(two, ctrlIstio), ctx: implCtx(gwtV163, ctrlIstio),
			wantWarn: []finding{warn("GWI-001", sp0)}},
		{name: "Traefik ignores it", route: routeFor(named, ctrlTraefik), ctx: implCtx(gwtV163, ctrlTraefik),
			wantWarn: []finding{warn("GWI-001", sp0)}},
		{name: "Contour has not implemented it", route: routeFor(named, ctrlContour), ctx: implCtx(gwtV163, ctrlContour),
			wantWarn: []finding{warn("GWI-001", sp0)}},
		{name: "Envoy Gateway and Istio parents", route: routeFor(named, ctrlEG, ctrlIstio), ctx: implCtx(gwtV163, ctrlEG, ctrlIstio),
			wantWarn: []finding{warn("GWI-001", sp0)}},
		{name: "two Istio parents: once", route: routeFor(named, ctrlIstio, ctrlIstio), ctx: implCtx(gwtV163, ctrlIstio, ctrlIstio),
			wantWarn: []finding{warn("GWI-001", sp0)}},
		{name: "unknown controller", route: routeFor(named, "example.com/gateway"), ctx: implCtx(gwtV163, "example.com/gateway")},
		{name: "parent without class", route: gwtRoute(named), ctx: gwtCtx(gwtV163, false, withParents(RouteParent{Ref: apis.ParentReference{Name: "eg"}}))},
		{name: "no persistence", route: routeFor(gwtRules(nil), ctrlIstio), ctx: implCtx(gwtV163, ctrlIstio)},
		{name: "standard channel: nothing to say", route: routeFor(named, ctrlIstio), ctx: implCtx(gwtStd163, ctrlIstio)},
		{name: "Cilium Header", route: routeFor(header, ctrlCilium), ctx: implCtx(gwtV163, ctrlCilium),
			wantWarn: []finding{warn("GWI-004", at("type"))}},
		{name: "Cilium Cookie", route: routeFor(named, ctrlCilium), ctx: implCtx(gwtV163, ctrlCilium)},
		{name: "kgateway Header", route: routeFor(header, ctrlKgw), ctx: implCtx(gwtV163, ctrlKgw)},
		{name: "kgateway GRPCRoute: unknown", route: gwtRoute(named, gwtGRPC(), gwtParents(apis.ParentReference{Name: "gw-" + ctrlKgw})),
			ctx: implCtx(gwtV163, ctrlKgw)},
		{name: "GKE own policy", route: routeFor(named, ctrlGKE), ctx: implCtx(gwtV163, ctrlGKE),
			wantWarn: []finding{warn("GWI-006", sp0)}},
		{name: "Kong own policy", route: routeFor(named, ctrlKong), ctx: implCtx(gwtV163, ctrlKong),
			wantWarn: []finding{warn("GWI-006", sp0)}},
		// NGINX Gateway Fabric: what the policy knows of the deployment decides.
		{name: "NGF OSS", route: routeFor(named, ctrlNGF), ctx: ngfCtx(gwtV163, no, yes), wantWarn: []finding{warn("GWI-003", sp0)}},
		{name: "NGF OSS, several rules: once", route: routeFor(two, ctrlNGF), ctx: ngfCtx(gwtV163, no, nil),
			wantWarn: []finding{warn("GWI-003", sp0)}},
		{name: "NGF experimental off", route: routeFor(named, ctrlNGF), ctx: ngfCtx(gwtV163, yes, no), wantWarn: []finding{warn("GWI-003", sp0)}},
		{name: "NGF Plus and experimental", route: routeFor(named, ctrlNGF), ctx: ngfCtx(gwtV163, yes, yes)},
		{name: "NGF Header", route: routeFor(header, ctrlNGF), ctx: ngfCtx(gwtV163, yes, yes), wantWarn: []finding{warn("GWI-003", at("type"))}},
		{name: "NGF no sessionName", route: routeFor(gwtRules(gwtSP(spTyp(apis.PersistenceCookie))), ctrlNGF), ctx: ngfCtx(gwtV163, yes, yes),
			wantWarn: []finding{warn("GWI-003", sp0)}},
		{name: "NGF unknown deployment", route: routeFor(named, ctrlNGF), ctx: ngfCtx(gwtV163, nil, nil), wantWarn: []finding{warn("GWI-003", sp0)}},
		{name: "NGF unknown deployment, rule problems win", route: routeFor(header, ctrlNGF), ctx: ngfCtx(gwtV163, nil, yes),
			wantWarn: []finding{warn("GWI-003", at("type"))}},
		{name: "NGF v1.7 generated name", route: routeFor(gwtRules(gwtSP(spCookie(nil, nil, nil))), ctrlNGF), ctx: ngfCtx(gwtV170, yes, yes)},
		{name: "NGF GRPCRoute", route: gwtRoute(named, gwtGRPC(), gwtParents(apis.ParentReference{Name: "gw-" + ctrlNGF})),
			ctx: ngfCtx(gwtV163, no, no), wantWarn: []finding{warn("GWI-003", sp0)}},
	}
	runGwtRouteCases(t, validateRouteImpl, cases)
}

func TestGatewayImplBackendPolicy(t *testing.T) {
	sp := "spec.sessionPersistence"
	pol := gwtPolicy("p1", v1Cookie("s"), "web")
	parents := func(ctrls ...string) func(*Context) {
		return func(c *Context) {
			for _, ctrl := range ctrls {
				c.Related.Gateway.RouteParents = append(c.Related.Gateway.RouteParents, []RouteParent{gwtParent("gw", ctrl)})
			}
		}
	}
	cases := []gwtPolicyCase{
		{name: "Envoy Gateway does not read it", policy: pol, ctx: gwtCtx(gwtV163, false, parents(ctrlEG)),
			wantWarn: []finding{warn("GWI-005", sp)}},
		{name: "Istio accepts and ignores it", policy: pol, ctx: gwtCtx(gwtV163, false, parents(ctrlIstio)),
			wantWarn: []finding{warn("GWI-005", sp)}},
		{name: "kgateway, two routes: once", policy: pol, ctx: gwtCtx(gwtV163, false, parents(ctrlKgw, ctrlKgw)),
			wantWarn: []finding{warn("GWI-005", sp)}},
		{name: "NGINX Gateway Fabric, Cilium, Traefik, Contour", policy: pol,
			ctx:      gwtCtx(gwtV163, false, parents(ctrlNGF, ctrlCilium, ctrlTraefik, ctrlContour)),
			wantWarn: []finding{warn("GWI-005", sp), warn("GWI-005", sp), warn("GWI-005", sp), warn("GWI-005", sp)}},
		{name: "Kong own policy", policy: pol, ctx: gwtCtx(gwtV163, false, parents(ctrlKong)),
			wantWarn: []finding{warn("GWI-006", sp)}},
		{name: "GKE own policy", policy: pol, ctx: gwtCtx(gwtV163, false, parents(ctrlGKE)),
			wantWarn: []finding{warn("GWI-006", sp)}},
		{name: "unknown controller", policy: pol, ctx: gwtCtx(gwtV163, false, parents("example.com/gw"))},
		{name: "no routes", policy: pol, ctx: gwtCtx(gwtV163, false)},
		{name: "no sessionPersistence", policy: gwtPolicy("p1", nil, "web"), ctx: gwtCtx(gwtV163, false, parents(ctrlEG))},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			errs, warns := validateBackendPolicyImpl(tt.policy, nil, tt.ctx)
			assertFindings(t, errs, warns, tt.wantDeny, tt.wantWarn)
		})
	}
}

// TestGatewayImplTable: one row per implementation, each controllerName
// once, every row sourced, and every unsupported use says what to do
// instead.
func TestGatewayImplTable(t *testing.T) {
	seen := map[string]string{}
	for _, im := range gatewayImpls {
		assert.NotEmpty(t, im.name)
		assert.NotEmpty(t, im.source, im.name)
		assert.NotEmpty(t, im.controllers, im.name)
		for _, c := range im.controllers {
			assert.Empty(t, seen[c], "%s listed by %s and %s", c, seen[c], im.name)
			seen[c] = im.name
			assert.Same(t, implFor(c), implFor(c))
			assert.Equal(t, im.name, implFor(c).name)
		}
		for _, s := range []implSupport{im.http, im.grpc, im.xbtp} {
			if s != implUnknown && s != implYes && s != implSinceV110 && s != implConditional {
				assert.NotEmpty(t, im.instead, "%s: what to use instead", im.name)
			}
		}
		if im.http == implIgnored || im.http == implNotBuilt {
			assert.NotEmpty(t, im.routeNote, im.name)
		}
		if im.xbtp == implIgnored || im.xbtp == implNotBuilt {
			assert.NotEmpty(t, im.xbtpNote, im.name)
		}
	}
	assert.Nil(t, implFor(""))
	assert.Nil(t, implFor("istio.io/unknown"))
}
