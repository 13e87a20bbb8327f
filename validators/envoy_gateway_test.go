package validators

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stickyguard/stickyguard/apis"
)

func ptrTo[T any](v T) *T { return &v }

type btpOpt func(*apis.EnvoyBackendTrafficPolicy)

// mkBTP builds a valid policy: it targets HTTPRoute shop/web and hashes the
// generated cookie "route" (ttl 1h, the CRD's default tableSize).
func mkBTP(opts ...btpOpt) *apis.EnvoyBackendTrafficPolicy {
	p := &apis.EnvoyBackendTrafficPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: apis.GroupEnvoyGateway + "/v1alpha1", Kind: apis.KindEnvoyBackendTrafficPolicy},
		ObjectMeta: metav1.ObjectMeta{Name: "sticky", Namespace: "shop"},
		Spec: apis.EnvoyBTPSpec{
			TargetRefs: []apis.PolicyTargetReference{{Group: apis.GroupGateway, Kind: apis.KindHTTPRoute, Name: "web"}},
			LoadBalancer: &apis.EnvoyLoadBalancer{Type: egwConsistentHash, ConsistentHash: &apis.EnvoyConsistentHash{
				Type: egwCookie, Cookie: &apis.EnvoyCookie{Name: "route", TTL: ptrTo("1h")}, TableSize: ptrTo(uint64(65537)),
			}},
		},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func btpHash(mut func(*apis.EnvoyConsistentHash)) btpOpt {
	return func(p *apis.EnvoyBackendTrafficPolicy) { mut(p.Spec.LoadBalancer.ConsistentHash) }
}

func btpCookie(mut func(*apis.EnvoyCookie)) btpOpt {
	return btpHash(func(ch *apis.EnvoyConsistentHash) { mut(ch.Cookie) })
}

func btpLB(mut func(*apis.EnvoyLoadBalancer)) btpOpt {
	return func(p *apis.EnvoyBackendTrafficPolicy) { mut(p.Spec.LoadBalancer) }
}

func btpTargets(refs ...apis.PolicyTargetReference) btpOpt {
	return func(p *apis.EnvoyBackendTrafficPolicy) { p.Spec.TargetRefs = refs }
}

func routeRef(kind, name string, section ...string) apis.PolicyTargetReference {
	r := apis.PolicyTargetReference{Group: apis.GroupGateway, Kind: kind, Name: name}
	if len(section) > 0 {
		r.SectionName = &section[0]
	}
	return r
}

type routeOpt func(*apis.Route)

// mkRoute builds HTTPRoute shop/web on Gateway shop/eg with the given rules.
func mkRoute(rules ...apis.RouteRule) *apis.Route {
	return &apis.Route{
		TypeMeta:   metav1.TypeMeta{APIVersion: apis.GroupGateway + "/v1", Kind: apis.KindHTTPRoute},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec:       apis.RouteSpec{ParentRefs: []apis.ParentReference{{Name: "eg"}}, Rules: rules},
	}
}

func asGRPC(r *apis.Route) *apis.Route {
	r.Kind = apis.KindGRPCRoute
	return r
}

// rule builds a route rule: weights (0 = unset) of its backendRefs, and
// whether it has sessionPersistence.
func rule(name string, persistent bool, weights ...int32) apis.RouteRule {
	r := apis.RouteRule{}
	if name != "" {
		r.Name = &name
	}
	for i, w := range weights {
		b := apis.BackendRef{Name: "web-" + string(rune('a'+i)), Port: ptrTo(int32(80))}
		if w != 0 {
			b.Weight = ptrTo(w)
		}
		r.BackendRefs = append(r.BackendRefs, b)
	}
	if persistent {
		r.SessionPersistence = &apis.SessionPersistence{SessionName: ptrTo("s")}
	}
	return r
}

func btpCtx(offline bool, routes ...*apis.Route) *Context {
	c := ctxFor(ControllerUnknown)
	c.Offline = offline
	c.Related.Gateway.Routes = routes
	return c
}

type btpCase struct {
	name     string
	p        *apis.EnvoyBackendTrafficPolicy
	ctx      *Context // nil: live, no related objects
	wantDeny []finding
	wantWarn []finding
}

func runBTPCases(t *testing.T, cases []btpCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			if ctx == nil {
				ctx = btpCtx(false)
			}
			before := tt.p.DeepCopyObject()
			errs, warns := validateEnvoyPolicy(tt.p, nil, ctx)
			assertFindings(t, errs, warns, tt.wantDeny, tt.wantWarn)
			assert.Equal(t, before, tt.p, "input modified")
		})
	}
}

const chPath = "spec.loadBalancer.consistentHash"

func TestEnvoyGatewaySchemaOffline(t *testing.T) {
	off := btpCtx(true)
	runBTPCases(t, []btpCase{
		{name: "valid policy offline", p: mkBTP(), ctx: off},
		{name: "EGW-001 unknown LB type", ctx: off, p: mkBTP(btpLB(func(lb *apis.EnvoyLoadBalancer) {
			lb.Type = "Maglev"
		})), wantDeny: []finding{deny("EGW-001", "spec.loadBalancer.type"), deny("EGW-001", chPath)}},
		{name: "EGW-001 ConsistentHash without consistentHash", ctx: off, p: mkBTP(btpLB(func(lb *apis.EnvoyLoadBalancer) {
			lb.ConsistentHash = nil
		})), wantDeny: []finding{deny("EGW-001", chPath)}},
		{name: "EGW-001 slowStart and preferLocal with ConsistentHash", ctx: off, p: mkBTP(btpLB(func(lb *apis.EnvoyLoadBalancer) {
			lb.SlowStart = json.RawMessage(`{"window":"10s"}`)
			lb.ZoneAware = map[string]any{"preferLocal": map[string]any{}}
		})), wantDeny: []finding{deny("EGW-001", "spec.loadBalancer.slowStart"), deny("EGW-001", "spec.loadBalancer.zoneAware.preferLocal")}},
		{name: "EGW-001 weightedZones with ConsistentHash is allowed", ctx: off, p: mkBTP(btpLB(func(lb *apis.EnvoyLoadBalancer) {
			lb.ZoneAware = map[string]any{"weightedZones": []any{}}
		}))},
		{name: "EGW-001 hash type lowercase", ctx: off, p: mkBTP(btpHash(func(ch *apis.EnvoyConsistentHash) { ch.Type = "cookie" })),
			wantDeny: []finding{deny("EGW-001", chPath+".type"), deny("EGW-001", chPath+".cookie")}},
		{name: "EGW-001 Headers type with a header field", ctx: off, p: mkBTP(btpHash(func(ch *apis.EnvoyConsistentHash) {
			ch.Type, ch.Cookie, ch.Header = egwHeaders, nil, &apis.EnvoyNamed{Name: "x-user"}
		})), wantDeny: []finding{deny("EGW-001", chPath+".headers"), deny("EGW-001", chPath+".header")}},
		{name: "EGW-001 tableSize above the maximum", ctx: off, p: mkBTP(btpHash(func(ch *apis.EnvoyConsistentHash) {
			ch.TableSize = ptrTo(uint64(5000012))
		})), wantDeny: []finding{deny("EGW-001", chPath+".tableSize")}},
		{name: "EGW-001 tableSize 1", ctx: off, p: mkBTP(btpHash(func(ch *apis.EnvoyConsistentHash) { ch.TableSize = ptrTo(uint64(1)) })),
			wantDeny: []finding{deny("EGW-001", chPath+".tableSize")}},
		{name: "EGW-001 ttl in protobuf style", ctx: off, p: mkBTP(btpCookie(func(c *apis.EnvoyCookie) { c.TTL = ptrTo("3600.5s") })),
			wantDeny: []finding{deny("EGW-001", chPath+".cookie.ttl")}},
		{name: "EGW-001 ttl in days", ctx: off, p: mkBTP(btpCookie(func(c *apis.EnvoyCookie) { c.TTL = ptrTo("2d") })),
			wantDeny: []finding{deny("EGW-001", chPath+".cookie.ttl")}},
		{name: "EGW-001 compound ttl is allowed", ctx: off, p: mkBTP(btpCookie(func(c *apis.EnvoyCookie) { c.TTL = ptrTo("1h30m") }))},
		{name: "EGW-001 Service target and both target forms", ctx: off, p: mkBTP(func(p *apis.EnvoyBackendTrafficPolicy) {
			p.Spec.TargetRef = &apis.PolicyTargetReference{Group: "", Kind: "Service", Name: "web"}
		}), wantDeny: []finding{deny("EGW-001", "spec.targetRef"), deny("EGW-001", "spec.targetRef.group"), deny("EGW-001", "spec.targetRef.kind")}},
		{name: "EGW-001 no target at all", ctx: off, p: mkBTP(btpTargets()), wantDeny: []finding{deny("EGW-001", "spec.targetRefs")}},
		{name: "EGW-001 selectors alone are a target", ctx: off, p: mkBTP(btpTargets(), func(p *apis.EnvoyBackendTrafficPolicy) {
			p.Spec.TargetSelectors = []map[string]any{{"group": apis.GroupGateway, "kind": apis.KindHTTPRoute}}
		})},
		{name: "EGW-001 targetRefs wrong group", ctx: off, p: mkBTP(btpTargets(apis.PolicyTargetReference{Group: "gateway.networking.x-k8s.io", Kind: "HTTPRoute", Name: "web"})),
			wantDeny: []finding{deny("EGW-001", "spec.targetRefs[0].group")}},
		{name: "EGW-001 is offline only", p: mkBTP(btpTargets(), btpHash(func(ch *apis.EnvoyConsistentHash) { ch.Type = "cookie" }))},
	})
}

func TestEnvoyGatewayPolicy(t *testing.T) {
	runBTPCases(t, []btpCase{
		{name: "valid policy", p: mkBTP()},
		{name: "not ConsistentHash", p: mkBTP(btpLB(func(lb *apis.EnvoyLoadBalancer) { lb.Type, lb.ConsistentHash = "RoundRobin", nil }))},
		{name: "no loadBalancer", p: mkBTP(func(p *apis.EnvoyBackendTrafficPolicy) { p.Spec.LoadBalancer = nil })},
		{name: "EGW-002 tableSize not prime", p: mkBTP(btpHash(func(ch *apis.EnvoyConsistentHash) { ch.TableSize = ptrTo(uint64(65536)) })),
			wantDeny: []finding{deny("EGW-002", chPath+".tableSize")}},
		{name: "EGW-002 also offline", p: mkBTP(btpHash(func(ch *apis.EnvoyConsistentHash) { ch.TableSize = ptrTo(uint64(1000)) })),
			ctx: btpCtx(true), wantDeny: []finding{deny("EGW-002", chPath+".tableSize")}},
		{name: "EGW-002 prime bounds", p: mkBTP(btpHash(func(ch *apis.EnvoyConsistentHash) { ch.TableSize = ptrTo(uint64(5000011)) }))},
		{name: "EGW-002 smallest prime", p: mkBTP(btpHash(func(ch *apis.EnvoyConsistentHash) { ch.TableSize = ptrTo(uint64(2)) }))},
		{name: "EGW-002 out of CRD range is EGW-001's", p: mkBTP(btpHash(func(ch *apis.EnvoyConsistentHash) { ch.TableSize = ptrTo(uint64(5000012)) }))},
		{name: "EGW-003 cookie without ttl", p: mkBTP(btpCookie(func(c *apis.EnvoyCookie) { c.TTL = nil })),
			wantWarn: []finding{warn("EGW-003", chPath+".cookie")}},
		{name: "EGW-003 ttl 0s is a session cookie", p: mkBTP(btpCookie(func(c *apis.EnvoyCookie) { c.TTL = ptrTo("0s") }))},
		{name: "EGW-003 hashing the app's JSESSIONID without ttl", p: mkBTP(btpCookie(func(c *apis.EnvoyCookie) { c.Name, c.TTL = "JSESSIONID", nil }))},
		{name: "EGW-009 JSESSIONID generated by Envoy", p: mkBTP(btpCookie(func(c *apis.EnvoyCookie) { c.Name = "JSESSIONID" })),
			wantWarn: []finding{warn("EGW-009", chPath+".cookie.name")}},
		{name: "EGW-009 case-insensitive and ASP prefix", p: mkBTP(btpCookie(func(c *apis.EnvoyCookie) { c.Name = "ASPSESSIONIDQATQCQRB" })),
			wantWarn: []finding{warn("EGW-009", chPath+".cookie.name")}},
		{name: "EGW-004 deprecated Header", p: mkBTP(btpHash(func(ch *apis.EnvoyConsistentHash) {
			ch.Type, ch.Cookie, ch.Header = egwHeader, nil, &apis.EnvoyNamed{Name: "x-user"}
		})), wantWarn: []finding{warn("EGW-004", chPath+".type")}},
		{name: "EGW-004 Headers is fine", p: mkBTP(btpHash(func(ch *apis.EnvoyConsistentHash) {
			ch.Type, ch.Cookie, ch.Headers = egwHeaders, nil, []apis.EnvoyNamed{{Name: "x-user"}}
		}))},
		{name: "EGW-005 known attributes", p: mkBTP(btpCookie(func(c *apis.EnvoyCookie) {
			c.Attributes = map[string]string{"path": "/", "Domain": "shop.example.com", "SameSite": "none", "secure": "", "Partitioned": ""}
		}))},
		{name: "EGW-005 unknown key and SameSite=None without Secure", p: mkBTP(btpCookie(func(c *apis.EnvoyCookie) {
			c.Attributes = map[string]string{"SameSites": "Lax", "SameSite": "None"}
		})), wantWarn: []finding{warn("EGW-005", chPath+".cookie.attributes[SameSites]"), warn("EGW-005", chPath+".cookie.attributes[SameSite]")}},
		{name: "EGW-005 bad SameSite value", p: mkBTP(btpCookie(func(c *apis.EnvoyCookie) { c.Attributes = map[string]string{"SameSite": "Relaxed"} })),
			wantWarn: []finding{warn("EGW-005", chPath+".cookie.attributes[SameSite]")}},
		{name: "EGW-005 Partitioned without Secure", p: mkBTP(btpCookie(func(c *apis.EnvoyCookie) { c.Attributes = map[string]string{"Partitioned": ""} })),
			wantWarn: []finding{warn("EGW-005", chPath+".cookie.attributes[Partitioned]")}},
	})
}

func TestEnvoyGatewayTargetedRoutes(t *testing.T) {
	persistent := mkRoute(rule("", false, 0), rule("cart", true, 0))
	weighted := mkRoute(rule("canary", false, 90, 10))
	otherNS := mkRoute(rule("", true, 0))
	otherNS.Namespace = "other"
	runBTPCases(t, []btpCase{
		{name: "EGW-006 targeted route rule has sessionPersistence", p: mkBTP(), ctx: btpCtx(false, persistent),
			wantWarn: []finding{warn("EGW-006", chPath)}},
		{name: "EGW-006 sectionName names another rule", p: mkBTP(btpTargets(routeRef(apis.KindHTTPRoute, "web", "checkout"))),
			ctx: btpCtx(false, persistent)},
		{name: "EGW-006 sectionName names the rule", p: mkBTP(btpTargets(routeRef(apis.KindHTTPRoute, "web", "cart"))),
			ctx: btpCtx(false, persistent), wantWarn: []finding{warn("EGW-006", chPath)}},
		{name: "EGW-006 route of another namespace is not targeted", p: mkBTP(), ctx: btpCtx(false, otherNS)},
		{name: "EGW-006 untargeted route name", p: mkBTP(btpTargets(routeRef(apis.KindHTTPRoute, "api"))), ctx: btpCtx(false, persistent)},
		{name: "EGW-006 ignored on GRPCRoute", p: mkBTP(btpTargets(routeRef(apis.KindGRPCRoute, "web"))),
			ctx: btpCtx(false, asGRPC(mkRoute(rule("", true, 0))))},
		{name: "EGW-006 only for ConsistentHash", p: mkBTP(btpLB(func(lb *apis.EnvoyLoadBalancer) { lb.Type, lb.ConsistentHash = "LeastRequest", nil })),
			ctx: btpCtx(false, persistent)},
		{name: "EGW-007 weighted rule", p: mkBTP(), ctx: btpCtx(false, weighted), wantWarn: []finding{warn("EGW-007", chPath)}},
		{name: "EGW-007 weighted GRPCRoute rule", p: mkBTP(btpTargets(routeRef(apis.KindGRPCRoute, "web"))),
			ctx: btpCtx(false, asGRPC(mkRoute(rule("", false, 3, 1)))), wantWarn: []finding{warn("EGW-007", chPath)}},
		{name: "EGW-007 equal weights", p: mkBTP(), ctx: btpCtx(false, mkRoute(rule("", false, 5, 5)))},
		{name: "EGW-007 a zero weight leaves one backend", p: mkBTP(), ctx: btpCtx(false, mkRoute(func() apis.RouteRule {
			r := rule("", false, 7, 1)
			r.BackendRefs[1].Weight = ptrTo(int32(0))
			return r
		}()))},
		{name: "EGW-007 selector-targeted route", p: mkBTP(btpTargets(), func(p *apis.EnvoyBackendTrafficPolicy) {
			p.Spec.TargetSelectors = []map[string]any{{"kind": apis.KindHTTPRoute, "matchLabels": map[string]any{"app": "web"}}}
		}), ctx: btpCtx(false, weighted), wantWarn: []finding{warn("EGW-007", chPath)}},
		{name: "EGW-006 and EGW-007 on one rule", p: mkBTP(), ctx: btpCtx(false, mkRoute(rule("", true, 2, 1))),
			wantWarn: []finding{warn("EGW-006", chPath), warn("EGW-007", chPath)}},
	})
}

func TestEnvoyGatewayRoute(t *testing.T) {
	old := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	young := metav1.NewTime(old.Add(time.Hour))
	gwHash := mkBTP(btpTargets(apis.PolicyTargetReference{Group: apis.GroupGateway, Kind: apis.KindGateway, Name: "eg"}))
	gwHash.Name = "gateway-hash"
	routeRR := mkBTP(btpLB(func(lb *apis.EnvoyLoadBalancer) { lb.Type, lb.ConsistentHash = "RoundRobin", nil }))
	routeRR.Name = "route-rr"
	ruleHash := mkBTP(btpTargets(routeRef(apis.KindHTTPRoute, "web", "cart")))
	ruleHash.Name = "rule-hash"
	otherGW := mkBTP(btpTargets(apis.PolicyTargetReference{Group: apis.GroupGateway, Kind: apis.KindGateway, Name: "internal"}))
	olderRR, youngerHash := mkBTP(btpLB(func(lb *apis.EnvoyLoadBalancer) { lb.Type, lb.ConsistentHash = "RoundRobin", nil })), mkBTP()
	olderRR.Name, olderRR.CreationTimestamp = "z-older", old
	youngerHash.Name, youngerHash.CreationTimestamp = "a-younger", young

	ctx := func(pols ...*apis.EnvoyBackendTrafficPolicy) *Context {
		c := ctxFor(ControllerUnknown)
		c.Related.Gateway.EnvoyPolicies = pols
		return c
	}
	cases := []struct {
		name     string
		r        *apis.Route
		ctx      *Context
		wantWarn []finding
	}{
		{name: "no policies", r: mkRoute(rule("", true, 2, 1)), ctx: ctx()},
		{name: "EGW-006 route-targeted hash", r: mkRoute(rule("", false, 0), rule("cart", true, 0)), ctx: ctx(mkBTP()),
			wantWarn: []finding{warn("EGW-006", "spec.rules[1].sessionPersistence")}},
		{name: "EGW-007 Gateway-targeted hash", r: mkRoute(rule("", false, 9, 1)), ctx: ctx(gwHash),
			wantWarn: []finding{warn("EGW-007", "spec.rules[0].backendRefs")}},
		{name: "EGW-007 other Gateway's policy", r: mkRoute(rule("", false, 9, 1)), ctx: ctx(otherGW)},
		{name: "EGW-007 route policy overrides the Gateway's", r: mkRoute(rule("", false, 9, 1)), ctx: ctx(gwHash, routeRR)},
		{name: "EGW-006 rule policy overrides the route's", r: mkRoute(rule("home", true, 0), rule("cart", true, 0)), ctx: ctx(routeRR, ruleHash),
			wantWarn: []finding{warn("EGW-006", "spec.rules[1].sessionPersistence")}},
		{name: "EGW-006 oldest policy wins a tie", r: mkRoute(rule("", true, 0)), ctx: ctx(youngerHash, olderRR)},
		{name: "EGW-006 oldest hash policy wins a tie", r: mkRoute(rule("", true, 0)), ctx: ctx(func() *apis.EnvoyBackendTrafficPolicy {
			p := olderRR.DeepCopyObject().(*apis.EnvoyBackendTrafficPolicy)
			p.CreationTimestamp = metav1.NewTime(young.Add(time.Hour))
			return p
		}(), youngerHash), wantWarn: []finding{warn("EGW-006", "spec.rules[0].sessionPersistence")}},
		{name: "EGW-006 GRPCRoute persistence is ignored by EG", r: asGRPC(mkRoute(rule("", true, 0))),
			ctx: ctx(mkBTP(btpTargets(routeRef(apis.KindGRPCRoute, "web"))))},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.r.DeepCopyObject()
			errs, warns := validateRouteEnvoy(tt.r, nil, tt.ctx)
			assertFindings(t, errs, warns, nil, tt.wantWarn)
			assert.Equal(t, before, tt.r, "input modified")
		})
	}
}

func TestEnvoyGatewayPrimeMatchesTranslator(t *testing.T) {
	for n, want := range map[uint64]bool{2: true, 3: true, 4: false, 65537: true, 65536: false, 5000011: true, 1000001: false, 1000003: true, 4999999: true} {
		assert.Equal(t, want, egwPrime(n), "%d", n)
	}
}

// TestEnvoyGatewayWorstCaseMessagesFit feeds the longest names the messages
// echo (63-character route names, 253-character cookie names, long keys).
func TestEnvoyGatewayWorstCaseMessagesFit(t *testing.T) {
	long := strings.Repeat("n", 253)
	r := mkRoute(rule(strings.Repeat("r", 63), true, 9, 1))
	r.Name = strings.Repeat("w", 63)
	p := mkBTP(btpTargets(routeRef(apis.KindHTTPRoute, r.Name)), btpCookie(func(c *apis.EnvoyCookie) {
		c.Name, c.TTL = long, nil
		c.Attributes = map[string]string{strings.Repeat("k", 200): "v", "SameSite": strings.Repeat("v", 300)}
	}), btpHash(func(ch *apis.EnvoyConsistentHash) { ch.TableSize = ptrTo(uint64(1000001)) }))
	p.Name = strings.Repeat("p", 253)
	errs, warns := validateEnvoyPolicy(p, nil, btpCtx(true, r))
	assertFindings(t, errs, warns, []finding{deny("EGW-002", "")},
		[]finding{warn("EGW-003", ""), warn("EGW-005", ""), warn("EGW-005", ""), warn("EGW-006", ""), warn("EGW-007", "")})
	assertMessagesFit(t, errs, warns)
	c := ctxFor(ControllerUnknown)
	c.Related.Gateway.EnvoyPolicies = []*apis.EnvoyBackendTrafficPolicy{p}
	errs, warns = validateRouteEnvoy(r, nil, c)
	assertFindings(t, errs, warns, nil, []finding{warn("EGW-006", ""), warn("EGW-007", "")})
	assertMessagesFit(t, errs, warns)
}
