package engine

import (
	"encoding/json"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/stickyguard/stickyguard/apis"
)

// How Gateway API routes and policies name other objects. The offline Index
// and the webhook's cache indexes both key on these, so a live lookup and an
// offline one find the same objects.

// ParentKey names the object a route parentRef points at: a Gateway (the
// default), another Gateway API parent such as a ListenerSet, or a Service
// (a mesh route, GAMMA). Group is "" for core.
type ParentKey struct {
	Group, Kind, Namespace, Name string
}

// String is the key's index form, "group/kind/namespace/name".
func (k ParentKey) String() string {
	return k.Group + "/" + k.Kind + "/" + k.Namespace + "/" + k.Name
}

// IsGateway reports whether the parent is a Gateway.
func (k ParentKey) IsGateway() bool {
	return k.Group == apis.GroupGateway && k.Kind == apis.KindGateway
}

// RouteParentKey resolves one parentRef of a route in namespace ns: group
// and kind default to gateway.networking.k8s.io Gateway, the namespace to
// the route's.
func RouteParentKey(ns string, p apis.ParentReference) ParentKey {
	k := ParentKey{Group: apis.GroupGateway, Kind: apis.KindGateway, Namespace: ns, Name: p.Name}
	if p.Group != nil {
		k.Group = coreGroup(*p.Group)
	}
	if p.Kind != nil {
		k.Kind = *p.Kind
	}
	if p.Namespace != nil && *p.Namespace != "" {
		k.Namespace = *p.Namespace
	}
	return k
}

// RouteParentKeys lists, once each and in order, the parents a route names.
func RouteParentKeys(r *apis.Route) []ParentKey {
	var out []ParentKey
	for _, p := range r.Spec.ParentRefs {
		if k := RouteParentKey(r.Namespace, p); p.Name != "" && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// RouteBackendServices lists, once each and in order, the Services a
// route's rules send traffic to (backendRefs of kind Service; the namespace
// defaults to the route's).
func RouteBackendServices(r *apis.Route) []types.NamespacedName {
	var out []types.NamespacedName
	for _, rule := range r.Spec.Rules {
		for _, b := range rule.BackendRefs {
			if !b.IsService() || b.Name == "" {
				continue
			}
			n := types.NamespacedName{Namespace: r.Namespace, Name: b.Name}
			if b.Namespace != nil && *b.Namespace != "" {
				n.Namespace = *b.Namespace
			}
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// routeID identifies a route among HTTPRoutes and GRPCRoutes.
func routeID(r *apis.Route) string { return r.Kind + "/" + r.Namespace + "/" + r.Name }

// SortRoutes orders routes by namespace, kind and name: every Lookup
// returns routes in this order.
func SortRoutes(rs []*apis.Route) {
	slices.SortFunc(rs, func(a, b *apis.Route) int {
		return strings.Compare(routeOrder(a), routeOrder(b))
	})
}

// routeOrder is the sort key of SortRoutes.
func routeOrder(r *apis.Route) string { return r.Namespace + "/" + r.Kind + "/" + r.Name }

func coreGroup(g string) string {
	if g == "core" {
		return ""
	}
	return g
}

// isServiceTarget reports whether a policy targetRef names a core Service.
func isServiceTarget(group, kind string) bool {
	return coreGroup(group) == "" && kind == "Service"
}

// BackendPolicyServices lists the names of the Services (in the policy's
// namespace) that an XBackendTrafficPolicy or BackendLBPolicy targets.
func BackendPolicyServices(p *apis.BackendPolicy) []string {
	var out []string
	for _, t := range p.Spec.TargetRefs {
		if isServiceTarget(t.Group, t.Kind) && t.Name != "" && !slices.Contains(out, t.Name) {
			out = append(out, t.Name)
		}
	}
	return out
}

// GCPPolicyService returns the Service a GCPBackendPolicy targets, if its
// targetRef is a Service.
func GCPPolicyService(p *apis.GCPBackendPolicy) (types.NamespacedName, bool) {
	t := p.Spec.TargetRef
	if !isServiceTarget(t.Group, t.Kind) || t.Name == "" {
		return types.NamespacedName{}, false
	}
	n := types.NamespacedName{Namespace: p.Namespace, Name: t.Name}
	if t.Namespace != nil && *t.Namespace != "" {
		n.Namespace = *t.Namespace
	}
	return n, true
}

// DestinationRuleService resolves a DestinationRule's host to a Kubernetes
// Service the way istiod does for the Kubernetes registry: a short name
// ("reviews") is a Service of the rule's namespace; "<name>.<namespace>.svc"
// and "<name>.<namespace>.svc.<cluster domain>" name one directly. Wildcards
// and other hosts (ServiceEntries, external names) name no Service.
func DestinationRuleService(d *apis.DestinationRule) (types.NamespacedName, bool) {
	host := d.Spec.Host
	if host == "" || strings.Contains(host, "*") {
		return types.NamespacedName{}, false
	}
	parts := strings.Split(host, ".")
	switch {
	case len(parts) == 1:
		return types.NamespacedName{Namespace: d.Namespace, Name: host}, true
	case len(parts) >= 3 && parts[2] == "svc" && parts[0] != "" && parts[1] != "":
		return types.NamespacedName{Namespace: parts[1], Name: parts[0]}, true
	}
	return types.NamespacedName{}, false
}

// envoyTarget is one object an Envoy Gateway BackendTrafficPolicy targets
// by name, in the policy's namespace.
type envoyTarget struct{ group, kind, name string }

// envoyTargetSelector is one spec.targetSelectors entry.
type envoyTargetSelector struct {
	Group            *string                           `json:"group,omitempty"`
	Kind             string                            `json:"kind"`
	MatchLabels      map[string]string                 `json:"matchLabels,omitempty"`
	MatchExpressions []metav1.LabelSelectorRequirement `json:"matchExpressions,omitempty"`
}

// envoyTargets lists what an Envoy Gateway BackendTrafficPolicy targets:
// by name (targetRef and targetRefs) and by labels (targetSelectors, which
// Envoy Gateway reads with Kubernetes label-selector semantics; only targets
// in the policy's namespace are considered here).
func envoyTargets(p *apis.EnvoyBackendTrafficPolicy) ([]envoyTarget, []envoySelector) {
	var refs []envoyTarget
	add := func(t apis.PolicyTargetReference) {
		if t.Name != "" {
			refs = append(refs, envoyTarget{group: t.Group, kind: t.Kind, name: t.Name})
		}
	}
	if p.Spec.TargetRef != nil {
		add(*p.Spec.TargetRef)
	}
	for _, t := range p.Spec.TargetRefs {
		add(t)
	}
	var sels []envoySelector
	for _, raw := range p.Spec.TargetSelectors {
		if s, ok := parseEnvoySelector(raw); ok {
			sels = append(sels, s)
		}
	}
	return refs, sels
}

// envoySelector is a parsed targetSelectors entry.
type envoySelector struct {
	group, kind string
	sel         labels.Selector
}

func parseEnvoySelector(raw map[string]any) (envoySelector, bool) {
	js, err := json.Marshal(raw)
	if err != nil {
		return envoySelector{}, false
	}
	var ts envoyTargetSelector
	if err := json.Unmarshal(js, &ts); err != nil || ts.Kind == "" {
		return envoySelector{}, false
	}
	sel, err := metav1.LabelSelectorAsSelector(&metav1.LabelSelector{MatchLabels: ts.MatchLabels, MatchExpressions: ts.MatchExpressions})
	if err != nil {
		return envoySelector{}, false
	}
	group := apis.GroupGateway
	if ts.Group != nil {
		group = *ts.Group
	}
	return envoySelector{group: group, kind: ts.Kind, sel: sel}, true
}

// envoyPolicyTargets reports whether an Envoy Gateway BackendTrafficPolicy
// targets the object of kind (group gateway.networking.k8s.io) named name
// with labels objLabels, in the policy's namespace.
func envoyPolicyTargets(p *apis.EnvoyBackendTrafficPolicy, kind, name string, objLabels map[string]string) bool {
	refs, sels := envoyTargets(p)
	for _, t := range refs {
		if t.group == apis.GroupGateway && t.kind == kind && t.name == name {
			return true
		}
	}
	for _, s := range sels {
		if s.group == apis.GroupGateway && s.kind == kind && s.sel.Matches(labels.Set(objLabels)) {
			return true
		}
	}
	return false
}

// backendPolicyTargets reports whether an XBackendTrafficPolicy or
// BackendLBPolicy targets the Service named svc (in its namespace).
func backendPolicyTargets(p *apis.BackendPolicy, svc string) bool {
	return slices.Contains(BackendPolicyServices(p), svc)
}
