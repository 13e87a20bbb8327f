package engine

import (
	"github.com/stickyguard/stickyguard/apis"
)

// gatewayIndex is the Gateway API and mesh part of Index: GatewayClasses,
// Gateways, routes and the policies routes look up, with the bundle the
// caller set. Route views across namespaces are rebuilt on first use after
// a route is Put.
type gatewayIndex struct {
	bundle   apis.GatewayBundle
	classes  map[string]*apis.GatewayClass
	gateways map[string]map[string]*apis.Gateway
	routes   map[string]map[string]*apis.Route // namespace -> kind/name
	backend  map[string]map[string]*apis.BackendPolicy
	envoy    map[string]map[string]*apis.EnvoyBackendTrafficPolicy

	byParent  map[string][]*apis.Route // ParentKey.String() -> routes; nil when stale
	byBackend map[string][]*apis.Route // namespace/service -> routes
}

func newGatewayIndex() gatewayIndex {
	return gatewayIndex{
		classes:  map[string]*apis.GatewayClass{},
		gateways: map[string]map[string]*apis.Gateway{},
		routes:   map[string]map[string]*apis.Route{},
		backend:  map[string]map[string]*apis.BackendPolicy{},
		envoy:    map[string]map[string]*apis.EnvoyBackendTrafficPolicy{},
	}
}

// put adds the kinds routes and policies look up; false for other kinds
// (DestinationRules and GCPBackendPolicies are checked, never looked up).
func (g *gatewayIndex) put(obj any) bool {
	switch o := obj.(type) {
	case *apis.GatewayClass:
		g.classes[o.Name] = o
	case *apis.Gateway:
		put(g.gateways, o.Namespace, o.Name, o)
	case *apis.Route:
		put(g.routes, o.Namespace, o.Kind+"/"+o.Name, o)
		g.byParent, g.byBackend = nil, nil
	case *apis.BackendPolicy:
		put(g.backend, o.Namespace, o.Kind+"/"+o.Name, o)
	case *apis.EnvoyBackendTrafficPolicy:
		put(g.envoy, o.Namespace, o.Name, o)
	default:
		return false
	}
	return true
}

// SetGatewayBundle sets what GatewayBundle answers (CheckDocuments sets the
// bundle of the Gateway API CRDs in its input).
func (x *Index) SetGatewayBundle(b apis.GatewayBundle) { x.gateways.bundle = b }

// GatewayBundle implements Lookup.
func (x *Index) GatewayBundle() (apis.GatewayBundle, error) { return x.gateways.bundle, nil }

// GatewayClass implements Lookup.
func (x *Index) GatewayClass(name string) (*apis.GatewayClass, error) {
	return x.gateways.classes[name], nil
}

// Gateway implements Lookup.
func (x *Index) Gateway(ns, name string) (*apis.Gateway, error) {
	return x.gateways.gateways[ns][name], nil
}

// Routes implements Lookup.
func (x *Index) Routes(ns string) ([]*apis.Route, error) {
	out := sorted(x.gateways.routes[ns])
	SortRoutes(out)
	return out, nil
}

// RoutesForParent implements Lookup.
func (x *Index) RoutesForParent(parent ParentKey) ([]*apis.Route, error) {
	x.gateways.views()
	return x.gateways.byParent[parent.String()], nil
}

// RoutesForBackend implements Lookup.
func (x *Index) RoutesForBackend(ns, service string) ([]*apis.Route, error) {
	x.gateways.views()
	return x.gateways.byBackend[ns+"/"+service], nil
}

// BackendPolicies implements Lookup.
func (x *Index) BackendPolicies(ns string) ([]*apis.BackendPolicy, error) {
	return sorted(x.gateways.backend[ns]), nil
}

// EnvoyPolicies implements Lookup.
func (x *Index) EnvoyPolicies(ns string) ([]*apis.EnvoyBackendTrafficPolicy, error) {
	return sorted(x.gateways.envoy[ns]), nil
}

// views builds the routes by parent and by backend Service.
func (g *gatewayIndex) views() {
	if g.byParent != nil {
		return
	}
	g.byParent, g.byBackend = map[string][]*apis.Route{}, map[string][]*apis.Route{}
	var all []*apis.Route
	for _, m := range g.routes {
		for _, r := range m {
			all = append(all, r)
		}
	}
	SortRoutes(all)
	for _, r := range all {
		for _, k := range RouteParentKeys(r) {
			g.byParent[k.String()] = append(g.byParent[k.String()], r)
		}
		for _, n := range RouteBackendServices(r) {
			g.byBackend[n.String()] = append(g.byBackend[n.String()], r)
		}
	}
}
