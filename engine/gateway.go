package engine

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/validators"
)

// The Gateway API and mesh kinds (HTTPRoute and GRPCRoute,
// XBackendTrafficPolicy and BackendLBPolicy, Envoy Gateway
// BackendTrafficPolicy, Istio DestinationRule, GKE GCPBackendPolicy) have no
// defaults: each path fetches the related objects
// (validators.GatewayRelated) and runs the rules. Nothing is filled, so
// Result.Object is the object itself, not a copy.

// gatewayObject is one of the apis kinds.
type gatewayObject interface {
	runtime.Object
	metav1.Object
}

// evalGatewayKind runs one kind's rules with its related objects
// (RelatedOf), honouring stickyguard.io/ignore as every kind does.
func evalGatewayKind(obj gatewayObject, o *Options, h half,
	validate func(*validators.Context) (field.ErrorList, validators.Warnings)) (*Result, error) {
	res := &Result{Object: obj}
	if res.Exempt = exemption(obj.GetAnnotations()); res.Exempt != "" || !h.validates() {
		return res, nil
	}
	rel, err := RelatedOf(obj, *o)
	if err != nil {
		return nil, err
	}
	res.Errors, res.Warnings = validate(o.context(rel))
	return res, nil
}

func evalRoute(r, old *apis.Route, o *Options, h half) (*Result, error) {
	return evalGatewayKind(r, o, h, func(ctx *validators.Context) (field.ErrorList, validators.Warnings) {
		return validators.ValidateRoute(r, old, ctx)
	})
}

func evalBackendPolicy(p, old *apis.BackendPolicy, o *Options, h half) (*Result, error) {
	return evalGatewayKind(p, o, h, func(ctx *validators.Context) (field.ErrorList, validators.Warnings) {
		return validators.ValidateBackendPolicy(p, old, ctx)
	})
}

func evalEnvoyPolicy(p, old *apis.EnvoyBackendTrafficPolicy, o *Options, h half) (*Result, error) {
	return evalGatewayKind(p, o, h, func(ctx *validators.Context) (field.ErrorList, validators.Warnings) {
		return validators.ValidateEnvoyPolicy(p, old, ctx)
	})
}

func evalDestinationRule(d, old *apis.DestinationRule, o *Options, h half) (*Result, error) {
	return evalGatewayKind(d, o, h, func(ctx *validators.Context) (field.ErrorList, validators.Warnings) {
		return validators.ValidateDestinationRule(d, old, ctx)
	})
}

func evalGCPPolicy(p, old *apis.GCPBackendPolicy, o *Options, h half) (*Result, error) {
	return evalGatewayKind(p, o, h, func(ctx *validators.Context) (field.ErrorList, validators.Warnings) {
		return validators.ValidateGCPBackendPolicy(p, old, ctx)
	})
}

// RelatedOf is the cross-object view the rules are given for a Service or
// a Gateway API or mesh object: the related objects fetched through
// opts.Lookup. Any two Lookups that answer alike give the same view (the
// offline/live parity tests compare them).
func RelatedOf(obj runtime.Object, opts Options) (validators.Related, error) {
	opts.normalize()
	o := &opts
	switch x := obj.(type) {
	case *corev1.Service:
		return serviceRelated(x, o)
	case *apis.Route:
		return routeRelated(x, o)
	case *apis.BackendPolicy:
		rel, err := policyRelated(o, x.Namespace, servicesIn(x.Namespace, BackendPolicyServices(x)))
		if err != nil {
			return rel, err
		}
		rel.Gateway.BackendPolicies, err = otherBackendPolicies(o.Lookup, x)
		return rel, err
	case *apis.EnvoyBackendTrafficPolicy:
		return envoyPolicyRelated(x, o)
	case *apis.DestinationRule:
		n, ok := DestinationRuleService(x)
		return policyRelated(o, x.Namespace, optional(n, ok))
	case *apis.GCPBackendPolicy:
		n, ok := GCPPolicyService(x)
		return policyRelated(o, x.Namespace, optional(n, ok))
	}
	return validators.Related{}, fmt.Errorf("%w: %T", ErrUnsupportedKind, obj)
}

func optional(n types.NamespacedName, ok bool) []types.NamespacedName {
	if !ok {
		return nil
	}
	return []types.NamespacedName{n}
}

func servicesIn(ns string, names []string) []types.NamespacedName {
	out := make([]types.NamespacedName, len(names))
	for i, n := range names {
		out[i] = types.NamespacedName{Namespace: ns, Name: n}
	}
	return out
}

// routeRelated fills what the route rules read: the bundle, the parents
// resolved through Gateway -> GatewayClass, the sibling routes on the same
// parents, the backend Services that exist, the XBackendTrafficPolicies
// targeting those Services and the Envoy Gateway BackendTrafficPolicies
// targeting the route or its Gateways.
func routeRelated(r *apis.Route, o *Options) (validators.Related, error) {
	var rel validators.Related
	g := &rel.Gateway
	var err error
	if g.Bundle, err = o.gatewayBundle(); err != nil {
		return rel, fmt.Errorf("reading the Gateway API bundle: %w", err)
	}
	if g.Parents, err = resolveParents(r, o.Lookup); err != nil {
		return rel, err
	}
	self := routeID(r)
	seen := map[string]bool{self: true}
	for _, k := range RouteParentKeys(r) {
		routes, err := o.Lookup.RoutesForParent(k)
		if err != nil {
			return rel, fmt.Errorf("looking up the routes of %s %s/%s: %w", k.Kind, k.Namespace, k.Name, err)
		}
		for _, s := range routes {
			if id := routeID(s); !seen[id] {
				seen[id] = true
				g.SiblingRoutes = append(g.SiblingRoutes, s)
			}
		}
	}
	SortRoutes(g.SiblingRoutes)
	backends := RouteBackendServices(r)
	if rel.BackendServices, err = existingServices(o.Lookup, backends); err != nil {
		return rel, err
	}
	if g.BackendPolicies, err = backendPoliciesFor(o.Lookup, backends); err != nil {
		return rel, err
	}
	g.EnvoyPolicies, err = envoyPoliciesFor(o.Lookup, r, g.Parents)
	return rel, err
}

// resolveParents resolves each parentRef of a route, in order: a Gateway
// and its GatewayClass when they exist; nothing for other parent kinds.
func resolveParents(r *apis.Route, lk Lookup) ([]validators.RouteParent, error) {
	out := make([]validators.RouteParent, 0, len(r.Spec.ParentRefs))
	for _, ref := range r.Spec.ParentRefs {
		p := validators.RouteParent{Ref: ref}
		if k := RouteParentKey(r.Namespace, ref); k.IsGateway() {
			gw, err := lk.Gateway(k.Namespace, k.Name)
			if err != nil {
				return nil, fmt.Errorf("looking up Gateway %s/%s: %w", k.Namespace, k.Name, err)
			}
			if gw != nil {
				p.Gateway = gw
				if p.Class, err = lk.GatewayClass(gw.Spec.GatewayClassName); err != nil {
					return nil, fmt.Errorf("looking up GatewayClass %s: %w", gw.Spec.GatewayClassName, err)
				}
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// existingServices returns the named Services that exist, in order.
func existingServices(lk Lookup, names []types.NamespacedName) ([]*corev1.Service, error) {
	var out []*corev1.Service
	for _, n := range names {
		svc, err := lk.Service(n.Namespace, n.Name)
		if err != nil {
			return nil, fmt.Errorf("looking up Service %s: %w", n, err)
		}
		if svc != nil {
			out = append(out, svc)
		}
	}
	return out, nil
}

// backendPoliciesFor returns the XBackendTrafficPolicies and
// BackendLBPolicies that target one of the Services (a policy targets
// Services of its own namespace), each once.
func backendPoliciesFor(lk Lookup, svcs []types.NamespacedName) ([]*apis.BackendPolicy, error) {
	var out []*apis.BackendPolicy
	byNS := map[string][]*apis.BackendPolicy{}
	for _, n := range svcs {
		pols, ok := byNS[n.Namespace]
		if !ok {
			var err error
			if pols, err = lk.BackendPolicies(n.Namespace); err != nil {
				return nil, fmt.Errorf("looking up the backend policies of %s: %w", n.Namespace, err)
			}
			byNS[n.Namespace] = pols
		}
		for _, p := range pols {
			if backendPolicyTargets(p, n.Name) && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// envoyPoliciesFor returns the Envoy Gateway BackendTrafficPolicies that
// target the route (in its namespace) or one of its parent Gateways (in the
// Gateway's namespace), each once.
func envoyPoliciesFor(lk Lookup, r *apis.Route, parents []validators.RouteParent) ([]*apis.EnvoyBackendTrafficPolicy, error) {
	var out []*apis.EnvoyBackendTrafficPolicy
	collect := func(ns, kind, name string, objLabels map[string]string) error {
		pols, err := lk.EnvoyPolicies(ns)
		if err != nil {
			return fmt.Errorf("looking up the Envoy Gateway BackendTrafficPolicies of %s: %w", ns, err)
		}
		for _, p := range pols {
			if envoyPolicyTargets(p, kind, name, objLabels) && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
		return nil
	}
	if err := collect(r.Namespace, r.Kind, r.Name, r.Labels); err != nil {
		return nil, err
	}
	for _, p := range parents {
		if p.Gateway != nil {
			if err := collect(p.Gateway.Namespace, apis.KindGateway, p.Gateway.Name, p.Gateway.Labels); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// policyRelated fills what a policy's rules read when it applies to
// Services (XBackendTrafficPolicy, DestinationRule, GCPBackendPolicy): the
// bundle, the targeted Services that exist, the routes of the policy's
// namespace that send traffic to one of them, and those routes' parents.
func policyRelated(o *Options, ns string, svcs []types.NamespacedName) (validators.Related, error) {
	var rel validators.Related
	g := &rel.Gateway
	var err error
	if g.Bundle, err = o.gatewayBundle(); err != nil {
		return rel, fmt.Errorf("reading the Gateway API bundle: %w", err)
	}
	if g.Services, err = existingServices(o.Lookup, svcs); err != nil {
		return rel, err
	}
	seen := map[string]bool{}
	for _, n := range svcs {
		routes, err := o.Lookup.RoutesForBackend(n.Namespace, n.Name)
		if err != nil {
			return rel, fmt.Errorf("looking up the routes to Service %s: %w", n, err)
		}
		for _, r := range routes {
			if id := routeID(r); r.Namespace == ns && !seen[id] {
				seen[id] = true
				g.Routes = append(g.Routes, r)
			}
		}
	}
	SortRoutes(g.Routes)
	g.RouteParents, err = routeParents(o.Lookup, g.Routes)
	return rel, err
}

// otherBackendPolicies are the XBackendTrafficPolicies and BackendLBPolicies
// of a policy's namespace but itself (two policies on one rule's backends
// may collide).
func otherBackendPolicies(lk Lookup, p *apis.BackendPolicy) ([]*apis.BackendPolicy, error) {
	all, err := lk.BackendPolicies(p.Namespace)
	if err != nil {
		return nil, fmt.Errorf("looking up the backend policies of %s: %w", p.Namespace, err)
	}
	var out []*apis.BackendPolicy
	for _, q := range all {
		if q.Kind != p.Kind || q.Name != p.Name {
			out = append(out, q)
		}
	}
	return out, nil
}

// envoyPolicyRelated fills what an Envoy Gateway BackendTrafficPolicy's
// rules read: the bundle, the routes of its namespace it targets (by name
// or by labels), their parents, and the backend Services of those routes
// that exist (an Envoy Gateway policy cannot target a Service).
func envoyPolicyRelated(p *apis.EnvoyBackendTrafficPolicy, o *Options) (validators.Related, error) {
	var rel validators.Related
	g := &rel.Gateway
	var err error
	if g.Bundle, err = o.gatewayBundle(); err != nil {
		return rel, fmt.Errorf("reading the Gateway API bundle: %w", err)
	}
	routes, err := o.Lookup.Routes(p.Namespace)
	if err != nil {
		return rel, fmt.Errorf("looking up the routes of %s: %w", p.Namespace, err)
	}
	var backends []types.NamespacedName
	for _, r := range routes {
		if envoyPolicyTargets(p, r.Kind, r.Name, r.Labels) {
			g.Routes = append(g.Routes, r)
			for _, n := range RouteBackendServices(r) {
				if !slices.Contains(backends, n) {
					backends = append(backends, n)
				}
			}
		}
	}
	if g.Services, err = existingServices(o.Lookup, backends); err != nil {
		return rel, err
	}
	g.RouteParents, err = routeParents(o.Lookup, g.Routes)
	return rel, err
}

// routeParents resolves the parents of each route, in order.
func routeParents(lk Lookup, routes []*apis.Route) ([][]validators.RouteParent, error) {
	if len(routes) == 0 {
		return nil, nil
	}
	out := make([][]validators.RouteParent, len(routes))
	for i, r := range routes {
		ps, err := resolveParents(r, lk)
		if err != nil {
			return nil, err
		}
		out[i] = ps
	}
	return out, nil
}
