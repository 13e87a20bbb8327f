package validators

import (
	"strconv"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/apis"
)

// What each Gateway API implementation does with sessionPersistence
// (GATEWAY-FACTS §B.2, §B.3, §B.4 GWI). "Accepted" does not mean "sticky":
// several implementations accept the field and ignore it without any
// status. The implementation is the route parent's GatewayClass
// spec.controllerName (Related.Gateway.Parents; for a policy, the parents
// of the routes it applies to); a route with parents of several
// implementations is judged for each, and an unknown controller says
// nothing.

const gwiFamily = "Gateway API implementations"

var (
	gwi001 = &Rule{ID: "GWI-001", Severity: Warn, Kinds: gwRouteKinds, Family: gwiFamily,
		Title: "the parent Gateway's implementation ignores or does not implement route sessionPersistence",
		Fix:   "use what the message names",
		Explain: "Istio (every istio.io controller) accepts the route and never reads the field; Traefik's Gateway " +
			"provider has no code for it; Contour has not implemented it (contour#6427). The route is Accepted and " +
			"not sticky.",
		Source: "istio pilot/pkg/config/kube/gateway (no reference to SessionPersistence); traefik pkg/provider/kubernetes/gateway; projectcontour/contour#6427"}
	gwi002 = &Rule{ID: "GWI-002", Severity: Warn, Kinds: []string{KindGRPCRoute}, Family: gwiFamily,
		Title:  "Envoy Gateway before v1.10 ignores sessionPersistence on GRPCRoute",
		Fix:    "run Envoy Gateway v1.10 or later, or use a BackendTrafficPolicy consistentHash",
		Source: "envoyproxy/gateway internal/gatewayapi/route.go processGRPCRouteRule (v1.9; issue #9060); Envoy Gateway v1.10 session persistence docs (HTTPRoute or GRPCRoute)"}
	gwi003 = &Rule{ID: "GWI-003", Severity: Warn, Kinds: gwRouteKinds, Family: gwiFamily,
		Title: "NGINX Gateway Fabric honours sessionPersistence only with NGINX Plus, experimental features, Cookie type and a sessionName",
		Fix:   "run NGINX Plus with experimental features and a named Cookie",
		Explain: "NGF v2.4+ renders `sticky cookie <sessionName>` on NGINX Plus with the experimental features flag. " +
			"NGINX OSS ignores the field (its status says to use an UpstreamSettingsPolicy with ip_hash); Header type is " +
			"ignored with a warning; without sessionName no sticky directive is written. The policy's " +
			"cluster.nginxGatewayFabric (plus, experimental) says how NGF runs; unknown, it is warned.",
		Source: "nginx/nginx-gateway-fabric internal/controller/state/graph (httproute, grpcroute, route_common), upstreams_template.go; NGF #4305"}
	gwi004 = &Rule{ID: "GWI-004", Severity: Warn, Kinds: gwRouteKinds, Family: gwiFamily,
		Title:  "the implementation supports only Cookie session persistence, not type Header",
		Fix:    "use type: Cookie",
		Source: "cilium/cilium#48029 (Cookie only, unsupported values rejected), CFP-47089"}
	gwi005 = &Rule{ID: "GWI-005", Severity: Warn, Kinds: []string{KindXBackendTrafficPolicy, KindBackendLBPolicy}, Family: gwiFamily,
		Title:  "the implementation of the routes using this backend does not implement XBackendTrafficPolicy sessionPersistence",
		Fix:    "use what the message names",
		Source: "GATEWAY-FACTS §B.3 (Envoy Gateway, kgateway#11162, NGF, Cilium, Istio backend_policies.go, Traefik, Contour)"}
	gwi006 = &Rule{ID: "GWI-006", Severity: Warn, Kinds: gwAllKinds, Family: gwiFamily,
		Title:  "sessionPersistence on an implementation whose stickiness is configured with its own policy resource",
		Fix:    "use the resource the message names",
		Source: "GKE Gateway docs (GCPBackendPolicy sessionAffinity); Kong docs (KongUpstreamPolicy sticky-sessions)"}
)

var gatewayImplRules = []*Rule{gwi001, gwi002, gwi003, gwi004, gwi005, gwi006}

// implSupport is what an implementation does with one use of the field.
type implSupport uint8

const (
	implUnknown     implSupport = iota // not known: nothing is said
	implYes                            // honoured
	implIgnored                        // accepted without stickiness (GWI-001, GWI-005)
	implNotBuilt                       // not implemented, open upstream issue (GWI-001, GWI-005)
	implOwnPolicy                      // stickiness through its own resource (GWI-006)
	implConditional                    // NGINX Gateway Fabric: Plus, experimental flag, Cookie, sessionName (GWI-003)
	implSinceV110                      // Envoy Gateway GRPCRoute: from v1.10 (GWI-002)
	implRejected                       // Header type not supported, validated away (GWI-004)
)

// gatewayImpl is one row of the capability table.
type gatewayImpl struct {
	name        string
	controllers []string
	http, grpc  implSupport // route-rule sessionPersistence on HTTPRoute, GRPCRoute
	header      implSupport // type: Header (for implYes routes)
	xbtp        implSupport // XBackendTrafficPolicy / BackendLBPolicy sessionPersistence
	routeNote   string      // GWI-001: what it does with the route field
	xbtpNote    string      // GWI-005: what it does with the policy field
	instead     string      // what it offers instead
	source      string
}

// gatewayImpls is THE table: GatewayClass spec.controllerName ->
// implementation -> what it does with sessionPersistence.
var gatewayImpls = []gatewayImpl{
	{name: "Envoy Gateway", controllers: []string{"gateway.envoyproxy.io/gatewayclass-controller"},
		http: implYes, grpc: implSinceV110, header: implYes, xbtp: implIgnored,
		xbtpNote: "does not read XBackendTrafficPolicy", instead: "set sessionPersistence on the route rule",
		source: "envoyproxy/gateway internal/gatewayapi/route.go@d32f282; v1.10 docs"},
	{name: "NGINX Gateway Fabric", controllers: []string{"gateway.nginx.org/nginx-gateway-controller"},
		http: implConditional, grpc: implConditional, header: implIgnored, xbtp: implNotBuilt,
		xbtpNote: "does not implement XBackendTrafficPolicy",
		instead:  "use route-rule sessionPersistence (NGINX Plus) or an UpstreamSettingsPolicy with ip_hash",
		source:   "nginx/nginx-gateway-fabric@e55bfe3 graph/route_common.go; NGF session persistence docs"},
	{name: "kgateway", controllers: []string{"kgateway.dev/kgateway"},
		http: implYes, grpc: implUnknown, header: implYes, xbtp: implNotBuilt,
		xbtpNote: "does not implement XBackendTrafficPolicy sessionPersistence (kgateway#11162)",
		instead:  "set sessionPersistence on the route rule",
		source:   "kgateway-dev/kgateway pkg/krtcollections/builtin.go; kgateway#11162"},
	{name: "Cilium", controllers: []string{"io.cilium/gateway-controller"},
		http: implYes, grpc: implYes, header: implRejected, xbtp: implNotBuilt,
		xbtpNote: "does not implement XBackendTrafficPolicy", instead: "set Cookie sessionPersistence on the route rule",
		source: "cilium/cilium#48029, CFP-47089"},
	{name: "Istio", controllers: []string{"istio.io/gateway-controller", "istio.io/mesh-controller", "istio.io/unmanaged-gateway",
		"istio.io/eastwest-controller", "istio.io/agentgateway-controller", "istio.io/agentgateway-waypoint-controller"},
		http: implIgnored, grpc: implIgnored, xbtp: implIgnored,
		routeNote: "ignores route sessionPersistence (Accepted, not sticky)",
		xbtpNote:  "accepts XBackendTrafficPolicy but ignores its sessionPersistence",
		instead:   "use a DestinationRule consistentHash or the istio.io/persistent-session Service label",
		source:    "istio/istio@86c9f01 pilot/pkg/config/kube/gateway/backend_policies.go; pkg/config/constants"},
	{name: "Traefik", controllers: []string{"traefik.io/gateway-controller"},
		http: implIgnored, grpc: implIgnored, xbtp: implIgnored,
		routeNote: "ignores sessionPersistence (Accepted, not sticky)", xbtpNote: "ignores XBackendTrafficPolicy",
		instead: "use a Traefik IngressRoute whose service sets sticky.cookie",
		source:  "traefik/traefik@fd5a576 pkg/provider/kubernetes/gateway"},
	{name: "Contour", controllers: []string{"projectcontour.io/gateway-controller"},
		http: implNotBuilt, grpc: implNotBuilt, xbtp: implNotBuilt,
		routeNote: "does not implement sessionPersistence (contour#6427)", xbtpNote: "does not implement XBackendTrafficPolicy (contour#6427)",
		instead: "use an HTTPProxy with loadBalancerPolicy strategy Cookie",
		source:  "projectcontour/contour#6427"},
	{name: "GKE Gateway", controllers: []string{"networking.gke.io/gateway"},
		http: implOwnPolicy, grpc: implOwnPolicy, xbtp: implOwnPolicy,
		instead: "sets session affinity with a GCPBackendPolicy on the Service (spec.default.sessionAffinity)",
		source:  "GKE Gateway docs (Configure Gateway resources using Policies)"},
	{name: "Kong", controllers: []string{"konghq.com/kic-gateway-controller", "konghq.com/gateway-operator"},
		http: implOwnPolicy, grpc: implOwnPolicy, xbtp: implOwnPolicy,
		instead: "sets sticky sessions with a KongUpstreamPolicy (algorithm sticky-sessions) via konghq.com/upstream-policy",
		source:  "developer.konghq.com/kubernetes-ingress-controller/sticky-sessions"},
}

// implFor returns the table row of a controllerName, nil when unknown.
func implFor(controller string) *gatewayImpl {
	for i := range gatewayImpls {
		for _, c := range gatewayImpls[i].controllers {
			if c == controller {
				return &gatewayImpls[i]
			}
		}
	}
	return nil
}

// implsOf returns the known implementations of parents, once each, in order.
func implsOf(parents ...[]RouteParent) []*gatewayImpl {
	var out []*gatewayImpl
	for _, ps := range parents {
		for _, p := range ps {
			if im := implFor(p.ControllerName()); im != nil && !containsImpl(out, im) {
				out = append(out, im)
			}
		}
	}
	return out
}

func containsImpl(list []*gatewayImpl, im *gatewayImpl) bool {
	for _, x := range list {
		if x == im {
			return true
		}
	}
	return false
}

func validateRouteImpl(r, _ *apis.Route, ctx *Context) (field.ErrorList, Warnings) {
	b := ctx.Related.Gateway.Bundle
	if installedShape(b) == apis.ShapeNone {
		return nil, nil
	}
	var persistent []int
	for i := range r.Spec.Rules {
		if r.Spec.Rules[i].SessionPersistence != nil {
			persistent = append(persistent, i)
		}
	}
	if len(persistent) == 0 {
		return nil, nil
	}
	var f findings
	rules := field.NewPath("spec", "rules")
	first := rules.Index(persistent[0]).Child("sessionPersistence")
	more := ""
	if n := len(persistent); n > 1 {
		more = " (" + strconv.Itoa(n) + " rules)"
	}
	for _, im := range implsOf(ctx.Related.Gateway.Parents) {
		support := im.http
		if r.IsGRPC() {
			support = im.grpc
		}
		switch support {
		case implIgnored, implNotBuilt:
			f.warn(gwi001, first, nil, im.name+" "+im.routeNote+more+"; "+im.instead)
		case implOwnPolicy:
			f.warn(gwi006, first, nil, im.name+" "+im.instead+more)
		case implSinceV110:
			f.warn(gwi002, first, nil, "Envoy Gateway before v1.10 ignores sessionPersistence on GRPCRoute (envoyproxy/gateway#9060)"+more)
		case implConditional:
			ngfRoute(&f, r, persistent, b, ctx)
		case implYes:
			for _, i := range persistent {
				if sp := r.Spec.Rules[i].SessionPersistence; im.header == implRejected && spType(sp) == apis.PersistenceHeader {
					f.warn(gwi004, rules.Index(i).Child("sessionPersistence", "type"), apis.PersistenceHeader,
						im.name+" implements only Cookie session persistence; type Header is not supported")
				}
			}
		}
	}
	return f.result()
}

// ngfRoute files GWI-003 for NGINX Gateway Fabric: first what the cluster
// lacks (NGINX OSS, experimental features off: once per route), else what
// each rule lacks (Cookie type, a sessionName), else, when the cluster is
// not known, what it needs.
func ngfRoute(f *findings, r *apis.Route, persistent []int, b apis.GatewayBundle, ctx *Context) {
	rules := field.NewPath("spec", "rules")
	first := rules.Index(persistent[0]).Child("sessionPersistence")
	ngf := ctx.Policy.Cluster.NginxGatewayFabric
	switch {
	case ngf.Plus != nil && !*ngf.Plus:
		f.warn(gwi003, first, nil, "NGINX Gateway Fabric on NGINX OSS ignores sessionPersistence; OSS offers an "+
			"UpstreamSettingsPolicy with ip_hash")
		return
	case ngf.Experimental != nil && !*ngf.Experimental:
		f.warn(gwi003, first, nil, "NGINX Gateway Fabric ignores sessionPersistence unless started with --gateway-api-experimental-features")
		return
	}
	found := false
	for _, i := range persistent {
		sp := r.Spec.Rules[i].SessionPersistence
		p := rules.Index(i).Child("sessionPersistence")
		switch {
		case spType(sp) == apis.PersistenceHeader:
			f.warn(gwi003, p.Child("type"), apis.PersistenceHeader, "NGINX Gateway Fabric supports only Cookie persistence: type Header is ignored")
			found = true
		case shapeOf(b, sp) != apis.ShapeV2 && (sp.SessionName == nil || *sp.SessionName == ""):
			f.warn(gwi003, p, nil, "NGINX Gateway Fabric writes no sticky directive without sessionName: no persistence")
			found = true
		}
	}
	if !found && (ngf.Plus == nil || ngf.Experimental == nil) {
		f.warn(gwi003, first, nil, "NGINX Gateway Fabric honours it only with NGINX Plus and "+
			"--gateway-api-experimental-features (say so in cluster.nginxGatewayFabric)")
	}
}

func validateBackendPolicyImpl(p, _ *apis.BackendPolicy, ctx *Context) (field.ErrorList, Warnings) {
	if p.Spec.SessionPersistence == nil || installedShape(ctx.Related.Gateway.Bundle) == apis.ShapeNone {
		return nil, nil
	}
	var f findings
	path := field.NewPath("spec", "sessionPersistence")
	for _, im := range implsOf(ctx.Related.Gateway.RouteParents...) {
		switch im.xbtp {
		case implIgnored, implNotBuilt:
			f.warn(gwi005, path, nil, im.name+" "+im.xbtpNote+"; "+im.instead)
		case implOwnPolicy:
			f.warn(gwi006, path, nil, im.name+" "+im.instead)
		}
	}
	return f.result()
}
