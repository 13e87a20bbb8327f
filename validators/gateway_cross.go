package validators

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/apis"
)

// Gateway API cross-object rules (GWX, GATEWAY-FACTS §B.4): what a route's
// or a policy's sessionPersistence does together with the other objects
// around it (the route's other rules, sibling routes on a shared Gateway and
// host, XBackendTrafficPolicies on its backends, the backend Services). The
// engine fills Related.Gateway; the single-object rules and the helpers
// both use (shapeOf, cookieName, preV17) are in gateway_api.go.

var (
	gwx001 = &Rule{ID: "GWX-001", Severity: Deny, Kinds: gwRouteKinds, Family: gwFamily,
		Title: "two route rules on one host use the same session cookie name and Path, so each overwrites the other's session",
		Fix:   "give each rule a cookie name unique on the host",
		Explain: "Denied when the installed CRDs are v1.7 and both cookies get the same Path (default \"/\"), for rules " +
			"that send to different backends through the same Gateway (or mesh Service) on intersecting hostnames. " +
			"With the v1.1–v1.6 shape the Path is implementation-defined (\"/\" in Envoy Gateway v1.10+ and kgateway, " +
			"the matched path elsewhere), so it is a warning.",
		Source: "GEP-1619 (route rules MUST NOT share sessions; cookie Path defaults to /); Envoy Gateway v1.10 release notes; kgateway#14124"}
	gwx002 = &Rule{ID: "GWX-002", Severity: Warn, Kinds: gwAllKinds, Family: gwFamily,
		Title:  "backends of one rule get persistence from different XBackendTrafficPolicies with the same cookie name",
		Fix:    "give each XBackendTrafficPolicy its own cookie name",
		Source: "GEP-1619 Session Naming Collision (\"an invalid configuration\"; implementations may reject it)"}
	gwx003 = &Rule{ID: "GWX-003", Severity: Warn, Kinds: gwRouteKinds, Family: gwFamily,
		Title: "weight 0 on a backend of a persistent rule may not drain the clients pinned to it (GEP-1619 v1.1-v1.6)",
		Fix:   "remove the backendRef to drain it",
		Explain: "Up to v1.6 GEP-1619 says persistence \"MUST be maintained across services, even if the weight is set " +
			"to 0\", so a conforming implementation keeps pinned clients on the backend. Envoy Gateway (v1.9) leaves " +
			"weight-0 backends out of the route, which drains them. From v1.7 persistence applies after the weighted " +
			"choice, so this is not reported with v1.7 CRDs.",
		Source: "GEP-1619 Traffic Splitting (v1.6.3); envoyproxy/gateway v1.9.1 internal/gatewayapi/route.go (weight 0 skipped)"}
	gwx004 = &Rule{ID: "GWX-004", Severity: Warn, Kinds: gwAllKinds, Family: gwFamily,
		Title:  "a rule's sessionPersistence and an XBackendTrafficPolicy on its backend both configure persistence",
		Fix:    "set persistence in one place: the rule or the policy",
		Source: "GEP-1619 (v1.6: the route rule SHALL override the policy; v1.7: left to the implementation)"}
	gwx005 = &Rule{ID: "GWX-005", Severity: Warn, Kinds: gwAllKinds, Family: gwFamily,
		Title:  "XBackendTrafficPolicy persistence covers only some backends of a weighted rule (GEP-1619 v1.1-v1.6)",
		Fix:    "give every backend of the split the same persistence, or none",
		Source: "GEP-1619 Traffic Splitting with BackendLBPolicy attached to some Backends (v1.6.3)"}
	gwx006 = &Rule{ID: "GWX-006", Severity: Deny, Kinds: gwAllKinds, Family: gwFamily,
		Title: "mesh route with session persistence to a Service with sessionAffinity ClientIP (GEP-1619: MUST be rejected)",
		Fix:   "drop ClientIP affinity from the Service, or the persistence",
		Explain: "GEP-1619: where Service session affinity and Gateway API session persistence are both enabled " +
			"(mesh implementations may use the Service IP), the route MUST be rejected. No implementation checks " +
			"it, so the webhook does. A policy that adds the persistence is warned, not denied.",
		Source: "GEP-1619 Session Affinity in K8S Services (v1.1.0–v1.7.0)"}
	gwx007 = &Rule{ID: "GWX-007", Severity: Warn, Kinds: gwRouteKinds, Family: gwFamily,
		Title:  "Service ClientIP affinity behind a Gateway route with session persistence is bypassed or pins gateway pods",
		Fix:    "drop ClientIP affinity from the Service; sessionPersistence pins clients",
		Source: "STICKY-FACTS SVC-010 (gateways route to endpoints, or reach the ClusterIP from their own pod IPs)"}
)

// gwParentKey identifies what a parentRef attaches to.
type gwParentKey struct{ group, kind, ns, name string }

func parentKeyOf(routeNS string, ref apis.ParentReference) gwParentKey {
	k := gwParentKey{group: apis.GroupGateway, kind: apis.KindGateway, ns: routeNS, name: ref.Name}
	if ref.IsService() {
		k.group, k.kind = "", "Service"
	} else {
		if ref.Group != nil {
			k.group = *ref.Group
		}
		if ref.Kind != nil {
			k.kind = *ref.Kind
		}
	}
	if ref.Namespace != nil && *ref.Namespace != "" {
		k.ns = *ref.Namespace
	}
	return k
}

// routeParents is the route's parents as resolved by the engine, or its
// parentRefs unresolved when the engine filled nothing.
func routeParents(r *apis.Route, ctx *Context) []RouteParent {
	if ps := ctx.Related.Gateway.Parents; len(ps) == len(r.Spec.ParentRefs) {
		return ps
	}
	out := make([]RouteParent, len(r.Spec.ParentRefs))
	for i, ref := range r.Spec.ParentRefs {
		out[i] = RouteParent{Ref: ref}
	}
	return out
}

// routeHosts is the route's hostnames ("*": any, when it lists none).
func routeHosts(r *apis.Route) []string {
	if len(r.Spec.Hostnames) == 0 {
		return []string{"*"}
	}
	return r.Spec.Hostnames
}

// listenerHosts is the hostnames of the listeners a parentRef attaches to:
// "*" for a listener without hostname or an unknown Gateway, none when the
// Gateway has no such listener (the route does not attach there).
func listenerHosts(gw *apis.Gateway, section *string) []string {
	if gw == nil {
		return []string{"*"}
	}
	var out []string
	for _, l := range gw.Spec.Listeners {
		if section != nil && *section != "" && l.Name != *section {
			continue
		}
		if l.Hostname == nil || *l.Hostname == "" {
			out = append(out, "*")
		} else {
			out = append(out, *l.Hostname)
		}
	}
	return out
}

// hostIntersect reports whether two Gateway API hostnames can match one
// request host ("*.example.com" is a suffix match of one label or more).
func hostIntersect(x, y string) bool {
	if x == "*" || y == "*" {
		return true
	}
	x, y = strings.ToLower(x), strings.ToLower(y)
	wx, wy := strings.HasPrefix(x, "*."), strings.HasPrefix(y, "*.")
	switch {
	case !wx && !wy:
		return x == y
	case wx && !wy:
		return strings.HasSuffix(y, x[1:])
	case !wx && wy:
		return strings.HasSuffix(x, y[1:])
	}
	return strings.HasSuffix(x[1:], y[1:]) || strings.HasSuffix(y[1:], x[1:])
}

// hostsOverlap reports whether some request host is served both by route A
// on listener hosts la and by route B on listener hosts lb.
func hostsOverlap(ha, la, hb, lb []string) bool {
	for _, a := range ha {
		for _, l1 := range la {
			if !hostIntersect(a, l1) {
				continue
			}
			for _, b := range hb {
				if !hostIntersect(a, b) || !hostIntersect(l1, b) {
					continue
				}
				for _, l2 := range lb {
					if hostIntersect(b, l2) && hostIntersect(a, l2) && hostIntersect(l1, l2) {
						return true
					}
				}
			}
		}
	}
	return false
}

// sharesHost reports whether sibling route s attaches to one of r's
// parents (the same Gateway, or the same Service for a mesh route) on a
// host r is also served on.
func sharesHost(r *apis.Route, parents []RouteParent, s *apis.Route) bool {
	for _, p := range parents {
		key := parentKeyOf(r.Namespace, p.Ref)
		for _, q := range s.Spec.ParentRefs {
			if parentKeyOf(s.Namespace, q) != key {
				continue
			}
			if key.kind == "Service" {
				return true
			}
			if hostsOverlap(routeHosts(r), listenerHosts(p.Gateway, p.Ref.SectionName), routeHosts(s), listenerHosts(p.Gateway, q.SectionName)) {
				return true
			}
		}
	}
	return false
}

// backendKey identifies a backendRef's target (group/kind/namespace/name:port).
func backendKey(routeNS string, br apis.BackendRef) string {
	g, k := backendGK(br)
	ns := routeNS
	if br.Namespace != nil && *br.Namespace != "" {
		ns = *br.Namespace
	}
	port := ""
	if br.Port != nil {
		port = strconv.Itoa(int(*br.Port))
	}
	return g + "/" + k + "/" + ns + "/" + br.Name + ":" + port
}

func backendGK(br apis.BackendRef) (group, kind string) {
	kind = "Service"
	if br.Kind != nil && *br.Kind != "" {
		kind = *br.Kind
	}
	if br.Group != nil && *br.Group != "core" {
		group = *br.Group
	}
	return group, kind
}

// backendSet is the sorted set of a rule's backend keys, as one string.
func backendSet(routeNS string, brs []apis.BackendRef) string {
	keys := make([]string, 0, len(brs))
	for _, br := range brs {
		keys = append(keys, backendKey(routeNS, br))
	}
	slices.Sort(keys)
	return strings.Join(slices.Compact(keys), ",")
}

// gwCookie is a rule's named persistence cookie as browsers see it.
type gwCookie struct {
	name     string
	path     string // with v1.7 CRDs: cookie.path (default "/")
	certain  bool   // v1.7 CRDs installed: the Path is known
	backends string
	namePath *field.Path
}

func ruleCookie(r *apis.Route, i int, b apis.GatewayBundle) (gwCookie, bool) {
	rule := &r.Spec.Rules[i]
	sp := rule.SessionPersistence
	if sp == nil || spType(sp) != apis.PersistenceCookie || len(rule.BackendRefs) == 0 {
		return gwCookie{}, false
	}
	name, np := cookieName(sp, shapeOf(b, sp), field.NewPath("spec", "rules").Index(i).Child("sessionPersistence"))
	if name == "" {
		return gwCookie{}, false
	}
	c := gwCookie{name: name, namePath: np, backends: backendSet(r.Namespace, rule.BackendRefs)}
	if b.Shape == apis.ShapeV2 {
		c.certain, c.path = true, gwDefaultPath
		if sp.Cookie != nil && sp.Cookie.Path != nil {
			c.path = *sp.Cookie.Path
		}
	}
	return c, true
}

// reportClash files GWX-001 at a for another rule's cookie: denied when
// both Paths are known and equal, a warning while they are
// implementation-defined. Rules sending to the same backends may share a
// cookie (the pinned endpoint is valid for both).
func reportClash(f *findings, a, other gwCookie, where string) {
	if a.name != other.name || a.backends == other.backends {
		return
	}
	where = clipTo(where, 64)
	switch {
	case a.certain && other.certain:
		if a.path == other.path {
			f.invalid(gwx001, a.namePath, clipValue(a.name), fmt.Sprintf("%s uses it with Path %s on the same host for other "+
				"backends: each overwrites the other's session", where, clipTo(a.path, 32)))
		}
	default:
		f.warn(gwx001, a.namePath, clipValue(a.name), where+" uses it on this host for other backends: where Path is / "+
			"(Envoy Gateway v1.10+, kgateway) they overwrite")
	}
}

// routeWhere names a route rule in messages.
func routeWhere(r *apis.Route, i int) string {
	kind := r.Kind
	if kind == "" {
		kind = "route"
	}
	return fmt.Sprintf("%s %s/%s rule %d", kind, r.Namespace, r.Name, i)
}

// routeCookieClashes files GWX-001 between the route's own rules and
// against the rules of sibling routes on a shared Gateway and host.
func routeCookieClashes(f *findings, r *apis.Route, ctx *Context) {
	b := ctx.Related.Gateway.Bundle
	var mine []int
	cookies := map[int]gwCookie{}
	for i := range r.Spec.Rules {
		if c, ok := ruleCookie(r, i, b); ok {
			mine = append(mine, i)
			cookies[i] = c
		}
	}
	if len(mine) == 0 || len(r.Spec.ParentRefs) == 0 {
		return
	}
	for x, i := range mine {
		for _, j := range mine[:x] {
			reportClash(f, cookies[i], cookies[j], fmt.Sprintf("rule %d", j))
		}
	}
	parents := routeParents(r, ctx)
	for _, s := range ctx.Related.Gateway.SiblingRoutes {
		if s == nil || (s.Namespace == r.Namespace && s.Name == r.Name && (s.Kind == r.Kind || s.Kind == "" || r.Kind == "")) {
			continue
		}
		if !sharesHost(r, parents, s) {
			continue
		}
		for k := range s.Spec.Rules {
			other, ok := ruleCookie(s, k, b)
			if !ok {
				continue
			}
			for _, i := range mine {
				reportClash(f, cookies[i], other, routeWhere(s, k))
			}
		}
	}
}

// weight is a backendRef's weight after defaulting (1).
func weight(br apis.BackendRef) int32 {
	if br.Weight == nil {
		return 1
	}
	return *br.Weight
}

// routeZeroWeights files GWX-003: with v1.1–v1.6 semantics, weight 0 does
// not move clients pinned to a backend of a persistent rule.
func routeZeroWeights(f *findings, r *apis.Route, b apis.GatewayBundle) {
	rules := field.NewPath("spec", "rules")
	for i := range r.Spec.Rules {
		rule := &r.Spec.Rules[i]
		if rule.SessionPersistence == nil || !preV17(b, rule.SessionPersistence) {
			continue
		}
		var zero []int
		live := 0
		for j, br := range rule.BackendRefs {
			if weight(br) == 0 {
				zero = append(zero, j)
			} else {
				live++
			}
		}
		if live == 0 {
			continue
		}
		for _, j := range zero {
			f.warn(gwx003, rules.Index(i).Child("backendRefs").Index(j).Child("weight"), 0,
				fmt.Sprintf("GEP-1619 (v1.1-v1.6) keeps clients pinned to %s despite weight 0; only some implementations "+
					"(Envoy Gateway) drain it", clipTo(rule.BackendRefs[j].Name, 40)))
		}
	}
}

// persistentPolicies keeps the policies that set sessionPersistence.
func persistentPolicies(ps []*apis.BackendPolicy) []*apis.BackendPolicy {
	var out []*apis.BackendPolicy
	for _, p := range ps {
		if p != nil && p.Spec.SessionPersistence != nil {
			out = append(out, p)
		}
	}
	return out
}

// policyTargets reports whether policy p targets backendRef br of a route
// in routeNS (same namespace, same group, kind and name), and which
// targetRef does.
func policyTargets(p *apis.BackendPolicy, routeNS string, br apis.BackendRef) (int, bool) {
	ns := routeNS
	if br.Namespace != nil && *br.Namespace != "" {
		ns = *br.Namespace
	}
	if p.Namespace != ns {
		return 0, false
	}
	g, k := backendGK(br)
	for i, t := range p.Spec.TargetRefs {
		tg := t.Group
		if tg == "core" {
			tg = ""
		}
		if tg == g && t.Kind == k && t.Name == br.Name {
			return i, true
		}
	}
	return 0, false
}

func policiesTargeting(ps []*apis.BackendPolicy, routeNS string, br apis.BackendRef) []*apis.BackendPolicy {
	var out []*apis.BackendPolicy
	for _, p := range ps {
		if _, ok := policyTargets(p, routeNS, br); ok {
			out = append(out, p)
		}
	}
	return out
}

// policyCookie is the cookie name a policy's Cookie persistence sets ("").
func policyCookie(p *apis.BackendPolicy, b apis.GatewayBundle) string {
	sp := p.Spec.SessionPersistence
	if sp == nil || spType(sp) != apis.PersistenceCookie {
		return ""
	}
	name, _ := cookieName(sp, shapeOf(b, sp), field.NewPath("spec", "sessionPersistence"))
	return name
}

func policyWhat(p *apis.BackendPolicy) string {
	kind := p.Kind
	if kind == "" {
		kind = apis.KindXBackendTrafficPolicy
	}
	return kind + " " + clipTo(p.Name, 50)
}

func samePolicy(a, b *apis.BackendPolicy) bool {
	return a == b || (a.Namespace == b.Namespace && a.Name == b.Name && a.Kind == b.Kind)
}

// gwx004Detail says which of a rule's and a policy's persistence applies.
func gwx004Detail(b apis.GatewayBundle, sp *apis.SessionPersistence, lead string) string {
	if preV17(b, sp) {
		return lead + ": GEP-1619 v1.6: the rule wins"
	}
	return lead + ": GEP-1619 v1.7: the implementation decides which applies"
}

// weightedCoverage counts a rule's backends that receive traffic (weight
// not 0) and how many of them covered marks.
func weightedCoverage(rule *apis.RouteRule, covered func(j int) bool) (n, c int) {
	for j, br := range rule.BackendRefs {
		if weight(br) == 0 {
			continue
		}
		n++
		if covered(j) {
			c++
		}
	}
	return n, c
}

// routeBackendPolicies files, on a route, GWX-004 (rule and policy both
// set persistence), GWX-002 (two policies of one rule share a cookie name)
// and GWX-005 (policies cover part of a weighted split).
func routeBackendPolicies(f *findings, r *apis.Route, ctx *Context) {
	pols := persistentPolicies(ctx.Related.Gateway.BackendPolicies)
	if len(pols) == 0 {
		return
	}
	b := ctx.Related.Gateway.Bundle
	rules := field.NewPath("spec", "rules")
	for i := range r.Spec.Rules {
		rule := &r.Spec.Rules[i]
		rp := rules.Index(i)
		covering := make([][]*apis.BackendPolicy, len(rule.BackendRefs))
		var first *apis.BackendPolicy
		for j, br := range rule.BackendRefs {
			covering[j] = policiesTargeting(pols, r.Namespace, br)
			if first == nil && len(covering[j]) > 0 {
				first = covering[j][0]
			}
		}
		if first == nil {
			continue
		}
		if sp := rule.SessionPersistence; sp != nil {
			seen := map[*apis.BackendPolicy]bool{}
			for j, ps := range covering {
				for _, p := range ps {
					if !seen[p] {
						seen[p] = true
						f.warn(gwx004, rp.Child("sessionPersistence"), nil, gwx004Detail(b, sp,
							policyWhat(p)+" also sets it for "+clipTo(rule.BackendRefs[j].Name, 40)))
					}
				}
			}
			continue
		}
		for k := range covering {
			for j := range k {
				for _, p := range covering[j] {
					for _, q := range covering[k] {
						if name := policyCookie(p, b); name != "" && !samePolicy(p, q) && name == policyCookie(q, b) {
							f.warn(gwx002, rp.Child("backendRefs").Index(k), clipValue(name), fmt.Sprintf("%s and %s give "+
								"backends of this rule the same cookie %q: GEP-1619 calls it invalid", policyWhat(p), policyWhat(q), clipTo(name, 40)))
						}
					}
				}
			}
		}
		if n, c := weightedCoverage(rule, func(j int) bool { return len(covering[j]) > 0 }); n >= 2 && c > 0 && c < n && preV17(b, first.Spec.SessionPersistence) {
			f.warn(gwx005, rp.Child("backendRefs"), nil, fmt.Sprintf("policies give %d of %d weighted backends persistence: "+
				"GEP-1619 v1.6 lets implementations apply it to all, drop it, or drift traffic there", c, n))
		}
	}
}

// isMesh reports whether the route has a Service parent (GAMMA).
func isMesh(r *apis.Route) (mesh, gateway bool) {
	for _, p := range r.Spec.ParentRefs {
		if p.IsService() {
			mesh = true
		} else {
			gateway = true
		}
	}
	return mesh, gateway
}

// serviceNamed finds a Service by namespace and name.
func serviceNamed(svcs []*corev1.Service, ns, name string) *corev1.Service {
	for _, s := range svcs {
		if s != nil && s.Namespace == ns && s.Name == name {
			return s
		}
	}
	return nil
}

// routeServiceAffinity files GWX-006 (mesh route: denied) and GWX-007
// (Gateway route: warned) for a persistent rule's backend Service with
// sessionAffinity ClientIP.
func routeServiceAffinity(f *findings, r *apis.Route, ctx *Context) {
	svcs := ctx.Related.BackendServices
	mesh, gateway := isMesh(r)
	if len(svcs) == 0 || (!mesh && !gateway) {
		return
	}
	pols := persistentPolicies(ctx.Related.Gateway.BackendPolicies)
	rules := field.NewPath("spec", "rules")
	for i := range r.Spec.Rules {
		rule := &r.Spec.Rules[i]
		for j, br := range rule.BackendRefs {
			if !br.IsService() || (rule.SessionPersistence == nil && len(policiesTargeting(pols, r.Namespace, br)) == 0) {
				continue
			}
			ns := r.Namespace
			if br.Namespace != nil && *br.Namespace != "" {
				ns = *br.Namespace
			}
			svc := serviceNamed(svcs, ns, br.Name)
			if svc == nil || svc.Spec.SessionAffinity != corev1.ServiceAffinityClientIP {
				continue
			}
			p, name := rules.Index(i).Child("backendRefs").Index(j), clipTo(br.Name, 50)
			if mesh {
				f.invalid(gwx006, p, clipValue(br.Name), "Service "+name+" has ClientIP affinity and this mesh route session "+
					"persistence: GEP-1619 says to reject the route")
			} else {
				f.warn(gwx007, p, clipValue(br.Name), "Service "+name+" has ClientIP affinity: gateways sending to endpoints "+
					"bypass it; via the ClusterIP it pins gateway pods")
			}
		}
	}
}

// policyRouteChecks files, on a policy, the cross-object rules against
// the routes that send to the Services it targets (Related.Gateway.Routes)
// and the other policies of its namespace (Related.Gateway.BackendPolicies).
func policyRouteChecks(f *findings, p *apis.BackendPolicy, ctx *Context) {
	rel := ctx.Related.Gateway
	b := rel.Bundle
	sp := p.Spec.SessionPersistence
	spPath := field.NewPath("spec", "sessionPersistence")
	myName, namePath := "", spPath
	if spType(sp) == apis.PersistenceCookie {
		myName, namePath = cookieName(sp, shapeOf(b, sp), spPath)
	}
	var others []*apis.BackendPolicy
	for _, q := range persistentPolicies(rel.BackendPolicies) {
		if !samePolicy(p, q) {
			others = append(others, q)
		}
	}
	for _, r := range rel.Routes {
		if r == nil {
			continue
		}
		mesh, _ := isMesh(r)
		for i := range r.Spec.Rules {
			rule := &r.Spec.Rules[i]
			mine := map[int]int{} // backendRef index -> targetRef index
			for j, br := range rule.BackendRefs {
				if t, ok := policyTargets(p, r.Namespace, br); ok {
					mine[j] = t
				}
			}
			if len(mine) == 0 {
				continue
			}
			where := routeWhere(r, i)
			if mesh {
				policyMeshAffinity(f, r, rule, mine, rel.Services, where)
			}
			if rule.SessionPersistence != nil {
				f.warn(gwx004, spPath, nil, gwx004Detail(b, sp, where+" sets its own sessionPersistence"))
				continue
			}
			for j, br := range rule.BackendRefs {
				if _, own := mine[j]; own || myName == "" {
					continue
				}
				for _, q := range policiesTargeting(others, r.Namespace, br) {
					if policyCookie(q, b) == myName {
						f.warn(gwx002, namePath, clipValue(myName), fmt.Sprintf("%s also sends to %s, whose %s uses the same cookie: "+
							"GEP-1619 calls it invalid", where, clipTo(br.Name, 40), policyWhat(q)))
					}
				}
			}
			covered := func(j int) bool {
				_, own := mine[j]
				return own || len(policiesTargeting(others, r.Namespace, rule.BackendRefs[j])) > 0
			}
			if n, c := weightedCoverage(rule, covered); n >= 2 && c > 0 && c < n && preV17(b, sp) {
				f.warn(gwx005, spPath, nil, fmt.Sprintf("%s: %d of %d weighted backends have persistence; GEP-1619 v1.6 lets "+
					"implementations apply it to all, drop it, or drift traffic", where, c, n))
			}
		}
	}
}

// policyMeshAffinity warns (GWX-006's soft form) when the policy adds
// persistence to a mesh route's backend Service that has ClientIP affinity.
func policyMeshAffinity(f *findings, r *apis.Route, rule *apis.RouteRule, mine map[int]int, svcs []*corev1.Service, where string) {
	for j, t := range mine {
		br := rule.BackendRefs[j]
		ns := r.Namespace
		if br.Namespace != nil && *br.Namespace != "" {
			ns = *br.Namespace
		}
		if svc := serviceNamed(svcs, ns, br.Name); svc != nil && svc.Spec.SessionAffinity == corev1.ServiceAffinityClientIP {
			f.warn(gwx006, field.NewPath("spec", "targetRefs").Index(t), clipValue(br.Name), "Service "+clipTo(br.Name, 40)+
				" has ClientIP affinity and mesh "+where+" sends to it: GEP-1619 says to reject that route")
		}
	}
}
