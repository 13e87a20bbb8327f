package validators

import (
	"maps"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/apis"
)

// Envoy Gateway BackendTrafficPolicy loadBalancer.consistentHash
// (GATEWAY-FACTS §C), checked against envoyproxy/gateway v1.9.1: the CRD
// (charts/gateway-helm/charts/crds/crds/generated/
// gateway.envoyproxy.io_backendtrafficpolicies.yaml), the translator
// (internal/gatewayapi/clustersettings.go, backendtrafficpolicy.go, route.go)
// and the xDS translator (internal/xds/translator/route.go, cluster.go).

const (
	egwFamily = "Envoy Gateway"

	egwConsistentHash = "ConsistentHash"
	egwCookie         = "Cookie"
	egwHeader         = "Header"
	egwHeaders        = "Headers"
	egwQueryParams    = "QueryParams"
	egwSourceIP       = "SourceIP"
	// egwMaxTableSize is MaxConsistentHashTableSize (and the CRD maximum).
	egwMaxTableSize = 5000011
)

var (
	egwLBTypes   = []string{egwConsistentHash, "LeastRequest", "Random", "RoundRobin", "BackendUtilization", "DynamicModule"}
	egwHashTypes = []string{egwSourceIP, egwHeader, egwHeaders, egwCookie, egwQueryParams}
	egwKinds     = []string{apis.KindGateway, "ListenerSet", apis.KindHTTPRoute, apis.KindGRPCRoute, "UDPRoute", "TCPRoute", "TLSRoute"}
	// egwDuration is the CRD pattern of gwapiv1.Duration (cookie.ttl).
	egwDuration = regexp.MustCompile(`^([0-9]{1,5}(h|m|s|ms)){1,4}$`)
)

var (
	egw001 = &Rule{ID: "EGW-001", Severity: Deny, Kinds: []string{KindEnvoyBTP}, Family: egwFamily, Offline: true,
		Title: "BackendTrafficPolicy breaks a rule of its CRD schema (enum, tableSize 2-5000011, ttl pattern, a CEL rule)",
		Fix:   "fix the field; the API server rejects the policy as written",
		Explain: "The generated CRD enforces the loadBalancer and consistentHash enums, one sub-field per consistentHash type, " +
			"tableSize between 2 and 5000011, the GEP-2257 pattern of cookie.ttl, no slowStart or zoneAware.preferLocal with " +
			"ConsistentHash, and the targetRef/targetRefs kinds. The API server rejects such a policy before any webhook, so only " +
			"`stickyguard check` reports it.",
		Source: "envoyproxy/gateway v1.9.1 gateway.envoyproxy.io_backendtrafficpolicies.yaml (OpenAPI + x-kubernetes-validations)"}
	egw002 = &Rule{ID: "EGW-002", Severity: Deny, Kinds: []string{KindEnvoyBTP}, Family: egwFamily,
		Title: "consistentHash.tableSize is not a prime number",
		Fix:   "use a prime tableSize, e.g. 65537 (the default)",
		Explain: "The CRD only bounds tableSize to 2-5000011. Envoy Gateway's translator rejects a non-prime size " +
			"(\"invalid TableSize value N\", big.Int ProbablyPrime) and then answers every request of the routes the policy " +
			"targets with a 500 direct response.",
		Source: "envoyproxy/gateway v1.9.1 internal/gatewayapi/clustersettings.go buildConsistentHashLoadBalancer; backendtrafficpolicy.go applyTrafficFeatureToRoute"}
	egw003 = &Rule{ID: "EGW-003", Severity: Warn, Kinds: []string{KindEnvoyBTP}, Family: egwFamily,
		Title: "Cookie consistent hash without ttl: Envoy generates no cookie",
		Fix:   "set cookie.ttl (0s for a session cookie), or hash a cookie the app itself sets",
		Explain: "Envoy generates the hash cookie only when the hash policy has a ttl; without one, a request that lacks the " +
			"cookie has no hash and the Maglev balancer picks a random host. Hashing an application's own session cookie " +
			"(JSESSIONID, PHPSESSID, ...) without ttl is the intended use and is not reported.",
		Source: "envoyproxy/gateway v1.9.1 api/v1alpha1/loadbalancer_types.go Cookie doc; Envoy RouteAction.HashPolicy.Cookie; thread_aware_lb_impl.cc (no hash: random)"}
	egw004 = &Rule{ID: "EGW-004", Severity: Warn, Kinds: []string{KindEnvoyBTP}, Family: egwFamily,
		Title:  "consistentHash type Header is deprecated",
		Fix:    "use type: Headers with headers: [{name: <header>}]",
		Source: "envoyproxy/gateway v1.9.1 CRD: Header \"Deprecated: use Headers instead\""}
	egw005 = &Rule{ID: "EGW-005", Severity: Warn, Kinds: []string{KindEnvoyBTP}, Family: egwFamily,
		Title: "cookie.attributes has a key browsers do not know, a bad SameSite, or SameSite=None/Partitioned without Secure",
		Fix:   "use standard attribute names and SameSite Strict|Lax|None; add Secure with None",
		Explain: "Envoy Gateway copies the map verbatim into the generated Set-Cookie (\"; name=value\", or \"; name\" for an " +
			"empty value); nothing validates it. Browsers ignore unknown attributes and reject a SameSite=None or Partitioned " +
			"cookie without Secure. Path works here: Envoy Gateway never sets the hash cookie's own path.",
		Source: "envoyproxy/gateway v1.9.1 internal/xds/translator/route.go buildConsistentHashPolicy; Envoy Http::Utility::makeSetCookieValue; RFC 6265bis"}
	egw006 = &Rule{ID: "EGW-006", Severity: Warn, Kinds: []string{KindEnvoyBTP, KindHTTPRoute}, Family: egwFamily,
		Title: "ConsistentHash policy and HTTPRoute sessionPersistence both apply to one route rule",
		Fix:   "keep one: route sessionPersistence (pins a host) or the ConsistentHash policy",
		Explain: "Envoy Gateway renders rule-level sessionPersistence as Envoy's stateful_session filter and the policy as a " +
			"route hash policy on a Maglev cluster: two stickiness mechanisms on the same backends. Which one decides when they " +
			"disagree is not documented by Envoy Gateway.",
		Source: "envoyproxy/gateway v1.9.1 internal/xds/translator/session_persistence.go, route.go buildHashPolicy"}
	egw007 = &Rule{ID: "EGW-007", Severity: Warn, Kinds: []string{KindEnvoyBTP, KindHTTPRoute, KindGRPCRoute}, Family: egwFamily,
		Title: "ConsistentHash on a route rule that splits traffic by backendRef weights",
		Fix:   "split with separate rules (e.g. a header match) or drop the weights",
		Explain: "Envoy Gateway v1.9 puts the rule's backendRefs in one cluster, one locality each with its weight, but builds " +
			"the Maglev policy without locality weighting (only with zoneAware.weightedZones), so the weights are ignored and " +
			"traffic follows endpoint counts (EG#9775, fix pending in EG#9823). With per-backendRef filters the backends become " +
			"weighted clusters, chosen by the same hash (use_hash_policy).",
		Source: "envoyproxy/gateway v1.9.1 internal/xds/translator/cluster.go (Maglev, buildWeightedLocalities); route.go use_hash_policy; envoyproxy/gateway#9775"}
	egw009 = &Rule{ID: "EGW-009", Severity: Warn, Kinds: []string{KindEnvoyBTP}, Family: egwFamily,
		Title: "Cookie hash with ttl on a cookie name a web framework uses for its own session",
		Fix:   "use a cookie name of its own, or drop ttl to hash the app's session cookie",
		Explain: "With ttl, Envoy sets the cookie itself (a hash of the client's address) when a request lacks it. If the " +
			"application sets a cookie of the same name, the two overwrite each other or both reach the app: the hash changes " +
			"after the first response, or the app reads Envoy's value as its session id.",
		Source: "Envoy router: addDownstreamSetCookie (generated value = hash of remote and local address)"}
)

var envoyGatewayRules = []*Rule{egw001, egw002, egw003, egw004, egw005, egw006, egw007, egw009}

// appSessionCookies are the session cookies common web frameworks set
// themselves (compared case-insensitively). Hashing on one of them without a
// ttl is the intended use of a cookie hash; generating one (ttl) collides.
var appSessionCookies = []string{
	"JSESSIONID", "PHPSESSID", "ASP.NET_SessionId", "connect.sid", "laravel_session",
	"sessionid", "ci_session", "CFID", "CFTOKEN", "SESSION",
}

// appSessionCookie reports whether name is a framework's own session cookie.
func appSessionCookie(name string) bool {
	if len(name) > len("ASPSESSIONID") && strings.EqualFold(name[:len("ASPSESSIONID")], "ASPSESSIONID") {
		return true // classic ASP: ASPSESSIONID<suffix>
	}
	return slices.ContainsFunc(appSessionCookies, func(c string) bool { return strings.EqualFold(c, name) })
}

func validateEnvoyPolicy(p, _ *apis.EnvoyBackendTrafficPolicy, ctx *Context) (field.ErrorList, Warnings) {
	var f findings
	if ctx.Offline {
		egwSchema(&f, p)
	}
	lb := p.Spec.LoadBalancer
	if lb == nil || lb.Type != egwConsistentHash || lb.ConsistentHash == nil {
		return f.result()
	}
	ch := lb.ConsistentHash
	p0 := field.NewPath("spec", "loadBalancer", "consistentHash")
	if ts := ch.TableSize; ts != nil && *ts >= 2 && *ts <= egwMaxTableSize && !egwPrime(*ts) {
		f.invalid(egw002, p0.Child("tableSize"), *ts,
			"Envoy Gateway rejects it (invalid TableSize value "+strconv.FormatUint(*ts, 10)+") and the targeted routes answer 500")
	}
	if ch.Type == egwHeader {
		f.warn(egw004, p0.Child("type"), ch.Type, "")
	}
	if ch.Type == egwCookie && ch.Cookie != nil {
		egwCookieChecks(&f, ch.Cookie, p0.Child("cookie"))
	}
	for _, t := range egwTargetedRoutes(p, ctx.Related.Gateway.Routes) {
		egwRouteChecks(&f, t.route, t.rules, p0)
	}
	return f.result()
}

// egwPrime is the translator's test: big.Int ProbablyPrime(0), exact below 2^64.
func egwPrime(n uint64) bool { return new(big.Int).SetUint64(n).ProbablyPrime(0) }

func egwCookieChecks(f *findings, c *apis.EnvoyCookie, p *field.Path) {
	name := clipTo(c.Name, 24)
	switch {
	case c.TTL == nil && !appSessionCookie(c.Name):
		f.warn(egw003, p, nil, "no ttl: Envoy generates no cookie, so requests without cookie "+strconv.Quote(name)+" reach a random backend")
	case c.TTL != nil && appSessionCookie(c.Name):
		f.warn(egw009, p.Child("name"), nil, strconv.Quote(name)+" is an app session cookie; with ttl Envoy also sets it, and the two collide")
	}
	cookieAttributeChecks(f, egw005, p.Child("attributes"), c.Attributes)
}

// cookieAttributeChecks reports attributes a browser ignores or that make it
// drop the cookie. Keys are attribute names as Envoy writes them.
func cookieAttributeChecks(f *findings, r *Rule, p *field.Path, attrs map[string]string) {
	known := []string{"Path", "Domain", "SameSite", "Secure", "HttpOnly", "Partitioned", "Max-Age", "Expires", "Priority"}
	keys := slices.Sorted(maps.Keys(attrs))
	secure := slices.ContainsFunc(keys, func(k string) bool { return strings.EqualFold(k, "Secure") })
	for _, k := range keys {
		v := attrs[k]
		switch {
		case !slices.ContainsFunc(known, func(n string) bool { return strings.EqualFold(n, k) }):
			f.warn(r, p.Key(clipTo(k, 40)), nil, "not a cookie attribute; browsers ignore it")
		case strings.EqualFold(k, "SameSite") && !slices.ContainsFunc([]string{"Strict", "Lax", "None"}, func(s string) bool { return strings.EqualFold(s, v) }):
			f.warn(r, p.Key(k), clipTo(v, 16), "not Strict, Lax or None; browsers ignore it")
		case strings.EqualFold(k, "SameSite") && strings.EqualFold(v, "None") && !secure:
			f.warn(r, p.Key(k), nil, "SameSite=None without Secure: browsers reject the cookie")
		case strings.EqualFold(k, "Partitioned") && !secure:
			f.warn(r, p.Key(k), nil, "Partitioned without Secure: browsers reject the cookie")
		}
	}
}

// targetedRoute is a route a policy applies to and which of its rules
// (nil: all).
type targetedRoute struct {
	route *apis.Route
	rules []string
}

// egwTargetedRoutes returns the routes (of those the engine found for the
// policy) that the policy targets by name, or by selector (the engine only
// includes routes whose labels match), with the rule names of sectionName
// targets.
func egwTargetedRoutes(p *apis.EnvoyBackendTrafficPolicy, routes []*apis.Route) []targetedRoute {
	refs := p.Spec.TargetRefs
	if p.Spec.TargetRef != nil {
		refs = append([]apis.PolicyTargetReference{*p.Spec.TargetRef}, refs...)
	}
	var out []targetedRoute
	for _, r := range routes {
		if r == nil || r.Namespace != p.Namespace {
			continue
		}
		named, all := false, false
		var rules []string
		for _, ref := range refs {
			if ref.Kind != r.Kind || ref.Name != r.Name {
				continue
			}
			named = true
			if ref.SectionName == nil {
				all = true
			} else {
				rules = append(rules, *ref.SectionName)
			}
		}
		switch {
		case named && all, !named && egwSelectsKind(p, r.Kind):
			out = append(out, targetedRoute{route: r})
		case named:
			out = append(out, targetedRoute{route: r, rules: rules})
		}
	}
	return out
}

func egwSelectsKind(p *apis.EnvoyBackendTrafficPolicy, kind string) bool {
	for _, s := range p.Spec.TargetSelectors {
		if k, _ := s["kind"].(string); k == kind {
			return true
		}
	}
	return false
}

// egwRouteChecks reports EGW-006/EGW-007 for the rules of r a ConsistentHash
// policy applies to (names nil: every rule, else the rules of those names),
// on the policy's consistentHash (at).
func egwRouteChecks(f *findings, r *apis.Route, names []string, at *field.Path) {
	for i, rule := range r.Spec.Rules {
		if names != nil && (rule.Name == nil || !slices.Contains(names, *rule.Name)) {
			continue
		}
		where := r.Kind + " " + clipTo(r.Name, 40) + " rule " + strconv.Itoa(i)
		if egwPersistent(r, rule) {
			f.warn(egw006, at, nil, where+" also has sessionPersistence: two stickiness mechanisms")
		}
		if egwUnevenWeights(rule.BackendRefs) {
			f.warn(egw007, at, nil, where+": "+egwWeightsMsg)
		}
	}
}

const egwWeightsMsg = "Envoy Gateway v1.9 ignores backendRef weights under ConsistentHash when they share one cluster (EG#9775)"

// egwPersistent reports a rule whose sessionPersistence Envoy Gateway
// renders (it ignores the field on GRPCRoute).
func egwPersistent(r *apis.Route, rule apis.RouteRule) bool {
	return rule.SessionPersistence != nil && !r.IsGRPC()
}

// egwUnevenWeights reports whether a rule splits traffic over two or more
// backendRefs with different weights (weight 0 refs get no traffic and are
// dropped by the translator).
func egwUnevenWeights(refs []apis.BackendRef) bool {
	var ws []int32
	for _, b := range refs {
		w := int32(1)
		if b.Weight != nil {
			w = *b.Weight
		}
		if w > 0 {
			ws = append(ws, w)
		}
	}
	return len(ws) >= 2 && slices.ContainsFunc(ws, func(w int32) bool { return w != ws[0] })
}

// egwSchema reports what the CRD's OpenAPI schema and CEL rules reject
// (EGW-001, offline only): the API server answers these before admission.
func egwSchema(f *findings, p *apis.EnvoyBackendTrafficPolicy) {
	egwTargetSchema(f, p)
	lb := p.Spec.LoadBalancer
	if lb == nil {
		return
	}
	lp := field.NewPath("spec", "loadBalancer")
	switch {
	case lb.Type == "":
		f.required(egw001, lp.Child("type"), "the CRD requires loadBalancer.type")
	case !slices.Contains(egwLBTypes, lb.Type):
		f.notSupported(egw001, lp.Child("type"), clipValue(lb.Type), egwLBTypes, "not one of the CRD's load balancer types")
	}
	isHash := lb.Type == egwConsistentHash
	switch {
	case isHash && lb.ConsistentHash == nil:
		f.required(egw001, lp.Child("consistentHash"), "If LoadBalancer type is consistentHash, consistentHash field needs to be set.")
	case !isHash && lb.ConsistentHash != nil:
		f.forbidden(egw001, lp.Child("consistentHash"), "If LoadBalancer type is consistentHash, consistentHash field needs to be set.")
	}
	if isHash && lb.SlowStart != nil {
		f.forbidden(egw001, lp.Child("slowStart"), "Currently SlowStart is only supported for RoundRobin, LeastRequest, and BackendUtilization load balancers.")
	}
	if _, ok := lb.ZoneAware["preferLocal"]; isHash && ok {
		f.forbidden(egw001, lp.Child("zoneAware", "preferLocal"), "PreferLocal zone-aware routing is not supported for ConsistentHash load balancers. Use weightedZones instead.")
	}
	if lb.ConsistentHash != nil {
		egwHashSchema(f, lb.ConsistentHash, lp.Child("consistentHash"))
	}
}

func egwHashSchema(f *findings, ch *apis.EnvoyConsistentHash, p *field.Path) {
	switch {
	case ch.Type == "":
		f.required(egw001, p.Child("type"), "the CRD requires consistentHash.type")
	case !slices.Contains(egwHashTypes, ch.Type):
		f.notSupported(egw001, p.Child("type"), clipValue(ch.Type), egwHashTypes, "not one of the CRD's consistent hash types")
	}
	// One sub-field per type, none for the others (four CEL rules).
	for _, s := range []struct {
		typ, field, low string
		set             bool
	}{
		{egwHeader, "header", "header", ch.Header != nil},
		{egwHeaders, "headers", "headers", ch.Headers != nil},
		{egwCookie, "cookie", "cookie", ch.Cookie != nil},
		{egwQueryParams, "queryParams", "queryParams", ch.QueryParams != nil},
	} {
		msg := "If consistent hash type is " + s.low + ", the " + s.field + " field must be set."
		switch {
		case ch.Type == s.typ && !s.set:
			f.required(egw001, p.Child(s.field), msg)
		case ch.Type != s.typ && s.set:
			f.forbidden(egw001, p.Child(s.field), msg)
		}
	}
	if ts := ch.TableSize; ts != nil && (*ts < 2 || *ts > egwMaxTableSize) {
		f.invalid(egw001, p.Child("tableSize"), *ts, "must be between 2 and 5000011 (CRD minimum and maximum)")
	}
	if c := ch.Cookie; c != nil && c.TTL != nil && !egwDuration.MatchString(*c.TTL) {
		f.invalid(egw001, p.Child("cookie", "ttl"), clipValue(*c.TTL), `must match the CRD pattern ^([0-9]{1,5}(h|m|s|ms)){1,4}$ (e.g. 1h, 30m, 0s)`)
	}
}

// egwTargetSchema mirrors the BackendTrafficPolicySpec CEL rules on targets.
func egwTargetSchema(f *findings, p *apis.EnvoyBackendTrafficPolicy) {
	s := p.Spec
	if (s.TargetRef != nil) == (len(s.TargetRefs) > 0) && len(s.TargetSelectors) == 0 {
		if s.TargetRef != nil {
			f.forbidden(egw001, field.NewPath("spec", "targetRef"), "either targetRef or targetRefs must be used")
		} else {
			f.required(egw001, field.NewPath("spec", "targetRefs"), "either targetRef or targetRefs must be used")
		}
	}
	check := func(ref apis.PolicyTargetReference, rp *field.Path, what string) {
		if ref.Group != apis.GroupGateway {
			f.invalid(egw001, rp.Child("group"), clipValue(ref.Group), "this policy can only have a "+what+".group of gateway.networking.k8s.io")
		}
		if !slices.Contains(egwKinds, ref.Kind) {
			f.invalid(egw001, rp.Child("kind"), clipValue(ref.Kind), "this policy can only have a "+what+".kind of Gateway/ListenerSet/HTTPRoute/GRPCRoute/TCPRoute/UDPRoute/TLSRoute")
		}
	}
	if s.TargetRef != nil {
		check(*s.TargetRef, field.NewPath("spec", "targetRef"), "targetRef")
	}
	for i, ref := range s.TargetRefs {
		check(ref, field.NewPath("spec", "targetRefs").Index(i), "targetRefs[*]")
	}
}

// validateRouteEnvoy reports, on an HTTPRoute or GRPCRoute, the Envoy
// Gateway ConsistentHash policy that applies to each rule (EGW-006,
// EGW-007). It adds what the policy's own check cannot see: a route written
// after the policy (the policy is not reviewed again), and a policy that
// targets one of the route's Gateways, which applies only where no policy
// targeting the route or rule is more specific.
func validateRouteEnvoy(r, _ *apis.Route, ctx *Context) (field.ErrorList, Warnings) {
	pols := ctx.Related.Gateway.EnvoyPolicies
	if len(pols) == 0 {
		return nil, nil
	}
	var f findings
	for i, rule := range r.Spec.Rules {
		p := egwEffectivePolicy(r, rule, pols)
		if p == nil || p.Spec.LoadBalancer == nil || p.Spec.LoadBalancer.Type != egwConsistentHash {
			continue
		}
		who := "BackendTrafficPolicy " + clipTo(p.Name, 60)
		rp := field.NewPath("spec", "rules").Index(i)
		if egwPersistent(r, rule) {
			f.warn(egw006, rp.Child("sessionPersistence"), nil, who+" (ConsistentHash) also applies: two stickiness mechanisms")
		}
		if egwUnevenWeights(rule.BackendRefs) {
			f.warn(egw007, rp.Child("backendRefs"), nil, who+": "+egwWeightsMsg)
		}
	}
	return f.result()
}

// egwEffectivePolicy returns the policy whose load balancer applies to a rule:
// the most specific target wins (rule sectionName, then route, then Gateway),
// the oldest policy among equals, as Envoy Gateway applies them.
func egwEffectivePolicy(r *apis.Route, rule apis.RouteRule, pols []*apis.EnvoyBackendTrafficPolicy) *apis.EnvoyBackendTrafficPolicy {
	var best *apis.EnvoyBackendTrafficPolicy
	bestLevel := 0
	for _, p := range pols {
		if p == nil {
			continue
		}
		lvl := egwLevel(r, rule, p)
		if lvl == 0 {
			continue
		}
		if best == nil || lvl > bestLevel || (lvl == bestLevel && egwOlder(p, best)) {
			best, bestLevel = p, lvl
		}
	}
	return best
}

// egwLevel is how specifically p targets the rule: 3 by sectionName, 2 the
// route (by name or selector), 1 one of its parent Gateways, 0 not at all.
func egwLevel(r *apis.Route, rule apis.RouteRule, p *apis.EnvoyBackendTrafficPolicy) int {
	refs := p.Spec.TargetRefs
	if p.Spec.TargetRef != nil {
		refs = append([]apis.PolicyTargetReference{*p.Spec.TargetRef}, refs...)
	}
	lvl := 0
	if p.Namespace == r.Namespace && egwSelectsKind(p, r.Kind) {
		lvl = 2
	}
	for _, ref := range refs {
		switch {
		case ref.Kind == r.Kind && ref.Name == r.Name && p.Namespace == r.Namespace:
			if ref.SectionName == nil {
				lvl = max(lvl, 2)
			} else if rule.Name != nil && *ref.SectionName == *rule.Name {
				lvl = 3
			}
		case ref.Kind == apis.KindGateway && egwParentGateway(r, ref.Name, p.Namespace):
			lvl = max(lvl, 1)
		}
	}
	return lvl
}

func egwParentGateway(r *apis.Route, name, ns string) bool {
	for _, pr := range r.Spec.ParentRefs {
		kind := apis.KindGateway
		if pr.Kind != nil {
			kind = *pr.Kind
		}
		pns := r.Namespace
		if pr.Namespace != nil {
			pns = *pr.Namespace
		}
		if kind == apis.KindGateway && pr.Name == name && pns == ns {
			return true
		}
	}
	return false
}

func egwOlder(a, b *apis.EnvoyBackendTrafficPolicy) bool {
	ta, tb := a.CreationTimestamp, b.CreationTimestamp
	if !ta.Equal(&tb) {
		return ta.Before(&tb)
	}
	return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
}
