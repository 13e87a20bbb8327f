package validators

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/policy"
)

// Builders for the Gateway API rule tests (gwt*: this family's helpers).

func gwtStr(s string) *string { return &s }
func gwtI32(v int32) *int32   { return &v }

// Installed bundles as the engine derives them from the CRD annotations.
var (
	gwtV170     = apis.BundleFor("v1.7.0", apis.ChannelExperimental, "test")
	gwtV163     = apis.BundleFor("v1.6.3", apis.ChannelExperimental, "test")
	gwtV151     = apis.BundleFor("v1.5.1", apis.ChannelExperimental, "test")
	gwtV140     = apis.BundleFor("v1.4.0", apis.ChannelExperimental, "test")
	gwtV120     = apis.BundleFor("v1.2.0", apis.ChannelExperimental, "test")
	gwtV111     = apis.BundleFor("v1.1.1", apis.ChannelExperimental, "test")
	gwtV110     = apis.BundleFor("v1.1.0", apis.ChannelExperimental, "test")
	gwtV100     = apis.BundleFor("v1.0.0", apis.ChannelExperimental, "test")
	gwtStd163   = apis.BundleFor("v1.6.3", apis.ChannelStandard, "test")
	gwtUnknown  = apis.GatewayBundle{}
	gwtV163NoCh = apis.BundleFor("v1.6.3", "", "test") // version known, channel not
)

// gwtSP builds a sessionPersistence from its parts.
type gwtSPOpt func(*apis.SessionPersistence)

func gwtSP(opts ...gwtSPOpt) *apis.SessionPersistence {
	sp := &apis.SessionPersistence{}
	for _, o := range opts {
		o(sp)
	}
	return sp
}

func spName(n string) gwtSPOpt { return func(s *apis.SessionPersistence) { s.SessionName = &n } }
func spTyp(t string) gwtSPOpt  { return func(s *apis.SessionPersistence) { s.Type = &t } }
func spAbs(d string) gwtSPOpt  { return func(s *apis.SessionPersistence) { s.AbsoluteTimeout = &d } }
func spIdle(d string) gwtSPOpt { return func(s *apis.SessionPersistence) { s.IdleTimeout = &d } }
func spCfg(lt *string) gwtSPOpt {
	return func(s *apis.SessionPersistence) { s.CookieConfig = &apis.CookieConfig{LifetimeType: lt} }
}
func spHeader(n *string) gwtSPOpt {
	return func(s *apis.SessionPersistence) { s.Header = &apis.HeaderConfig{Name: n} }
}
func spCookie(name, path, lt *string) gwtSPOpt {
	return func(s *apis.SessionPersistence) { s.Cookie = &apis.Cookie{Name: name, Path: path, LifetimeType: lt} }
}

// v1 and v2 are the common named-cookie forms of each shape.
func v1Cookie(name string, opts ...gwtSPOpt) *apis.SessionPersistence {
	return gwtSP(append([]gwtSPOpt{spName(name), spTyp(apis.PersistenceCookie)}, opts...)...)
}

func v2Cookie(name string, opts ...gwtSPOpt) *apis.SessionPersistence {
	return gwtSP(append([]gwtSPOpt{spCookie(gwtStr(name), nil, nil)}, opts...)...)
}

func gwtBackend(name string, weight ...int32) apis.BackendRef {
	b := apis.BackendRef{Name: name, Port: gwtI32(80)}
	if len(weight) > 0 {
		b.Weight = gwtI32(weight[0])
	}
	return b
}

func gwtRule(sp *apis.SessionPersistence, backends ...apis.BackendRef) apis.RouteRule {
	if len(backends) == 0 {
		backends = []apis.BackendRef{gwtBackend("web")}
	}
	return apis.RouteRule{SessionPersistence: sp, BackendRefs: backends}
}

type gwtRouteOpt func(*apis.Route)

// gwtRoute is HTTPRoute shop/web on Gateway shop/eg with the given rules.
func gwtRoute(rules []apis.RouteRule, opts ...gwtRouteOpt) *apis.Route {
	r := &apis.Route{
		TypeMeta:   metav1.TypeMeta{APIVersion: "gateway.networking.k8s.io/v1", Kind: apis.KindHTTPRoute},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec:       apis.RouteSpec{ParentRefs: []apis.ParentReference{{Name: "eg"}}, Rules: rules},
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

func gwtRules(sps ...*apis.SessionPersistence) []apis.RouteRule {
	out := make([]apis.RouteRule, len(sps))
	for i, sp := range sps {
		out[i] = gwtRule(sp, gwtBackend("web"+strings.Repeat("x", i)))
	}
	return out
}

func gwtNamed(ns, name string) gwtRouteOpt {
	return func(r *apis.Route) { r.Namespace, r.Name = ns, name }
}
func gwtHosts(h ...string) gwtRouteOpt { return func(r *apis.Route) { r.Spec.Hostnames = h } }
func gwtParents(p ...apis.ParentReference) gwtRouteOpt {
	return func(r *apis.Route) { r.Spec.ParentRefs = p }
}
func gwtGRPC() gwtRouteOpt { return func(r *apis.Route) { r.Kind = apis.KindGRPCRoute } }

func gwtMeshParent(name string) apis.ParentReference {
	return apis.ParentReference{Group: gwtStr(""), Kind: gwtStr("Service"), Name: name}
}

// gwtCtx is a context with the bundle; offline for `check`.
func gwtCtx(b apis.GatewayBundle, offline bool, mut ...func(*Context)) *Context {
	c := &Context{Policy: policy.Default(), Offline: offline}
	c.Related.Gateway.Bundle = b
	for _, m := range mut {
		m(c)
	}
	return c
}

func withSiblings(rs ...*apis.Route) func(*Context) {
	return func(c *Context) { c.Related.Gateway.SiblingRoutes = rs }
}

func withPolicies(ps ...*apis.BackendPolicy) func(*Context) {
	return func(c *Context) { c.Related.Gateway.BackendPolicies = ps }
}

func withServices(ss ...*corev1.Service) func(*Context) {
	return func(c *Context) { c.Related.BackendServices = ss; c.Related.Gateway.Services = ss }
}

func withParents(ps ...RouteParent) func(*Context) {
	return func(c *Context) { c.Related.Gateway.Parents = ps }
}

func withRoutes(rs ...*apis.Route) func(*Context) {
	return func(c *Context) { c.Related.Gateway.Routes = rs }
}

// gwtPolicy is an XBackendTrafficPolicy in shop targeting Services.
func gwtPolicy(name string, sp *apis.SessionPersistence, services ...string) *apis.BackendPolicy {
	p := &apis.BackendPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "gateway.networking.x-k8s.io/v1alpha1", Kind: apis.KindXBackendTrafficPolicy},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"},
		Spec:       apis.BackendPolicySpec{SessionPersistence: sp},
	}
	for _, s := range services {
		p.Spec.TargetRefs = append(p.Spec.TargetRefs, apis.PolicyTargetReference{Group: "", Kind: "Service", Name: s})
	}
	return p
}

func gwtService(name string, affinity corev1.ServiceAffinity) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"},
		Spec: corev1.ServiceSpec{SessionAffinity: affinity}}
}

func gwtGateway(name string, listeners ...apis.Listener) *apis.Gateway {
	return &apis.Gateway{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"},
		Spec: apis.GatewaySpec{GatewayClassName: "eg", Listeners: listeners}}
}

// runGatewayRoute runs the family as ValidateRoute does: live, then
// offline when the context is offline.
func runGatewayRoute(r *apis.Route, ctx *Context) (field.ErrorList, Warnings) {
	errs, warns := validateRouteGateway(r, nil, ctx)
	if ctx.Offline {
		e, w := validateRouteGatewayOffline(r, nil, ctx)
		errs, warns = append(errs, e...), append(warns, w...)
	}
	return errs, warns
}

func runGatewayPolicy(p *apis.BackendPolicy, ctx *Context) (field.ErrorList, Warnings) {
	errs, warns := validateBackendPolicyGateway(p, nil, ctx)
	if ctx.Offline {
		e, w := validateBackendPolicyGatewayOffline(p, nil, ctx)
		errs, warns = append(errs, e...), append(warns, w...)
	}
	return errs, warns
}

type gwtRouteCase struct {
	name     string
	route    *apis.Route
	ctx      *Context
	wantDeny []finding
	wantWarn []finding
}

func runGwtRouteCases(t *testing.T, fn RouteRuleFunc, cases []gwtRouteCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.route.DeepCopyObject()
			errs, warns := fn(tt.route, nil, tt.ctx)
			assertFindings(t, errs, warns, tt.wantDeny, tt.wantWarn)
			assert.Equal(t, before, tt.route, "input modified")
		})
	}
}

const sp0 = "spec.rules[0].sessionPersistence"

// Paths under the first rule's sessionPersistence.
func at(sub string) string {
	if sub == "" {
		return sp0
	}
	return sp0 + "." + sub
}

// TestGatewaySchemaOffline: the CRD's OpenAPI and CEL checks per installed
// shape and version (GW-001, GW-006), only in `check`.
func TestGatewaySchemaOffline(t *testing.T) {
	long := strings.Repeat("a", 129)
	permanent, session, forever := gwtStr(apis.LifetimePermanent), gwtStr(apis.LifetimeSession), gwtStr("Forever")
	one := func(sp *apis.SessionPersistence) *apis.Route { return gwtRoute(gwtRules(sp)) }
	off := func(b apis.GatewayBundle) *Context { return gwtCtx(b, true) }
	cases := []gwtRouteCase{
		// v1.1–v1.6 shape (Envoy Gateway docs examples).
		{name: "v1.6 EG cookie example", route: one(v1Cookie("Session-A", spAbs("10s"), spCfg(permanent))), ctx: off(gwtV163)},
		{name: "v1.6 EG header example", route: one(gwtSP(spName("Session-A"), spTyp(apis.PersistenceHeader), spAbs("10s"))), ctx: off(gwtV163)},
		{name: "type not in enum", route: one(v1Cookie("s", spTyp("cookie"))), ctx: off(gwtV163),
			wantDeny: []finding{deny("GW-001", at("type"))}},
		{name: "absoluteTimeout in days", route: one(v1Cookie("s", spAbs("1d"), spCfg(permanent))), ctx: off(gwtV163),
			wantDeny: []finding{deny("GW-001", at("absoluteTimeout"))}},
		{name: "absoluteTimeout fractional", route: one(v1Cookie("s", spAbs("1.5h"))), ctx: off(gwtV163),
			wantDeny: []finding{deny("GW-001", at("absoluteTimeout"))}},
		{name: "sessionName too long", route: one(v1Cookie(long)), ctx: off(gwtV163),
			wantDeny: []finding{deny("GW-001", at("sessionName"))}},
		{name: "sessionName of 128 multibyte characters", route: one(v1Cookie(strings.Repeat("é", 128))), ctx: off(gwtV163)},
		{name: "lifetimeType not in enum", route: one(v1Cookie("s", spCfg(forever))), ctx: off(gwtV163),
			wantDeny: []finding{deny("GW-001", at("cookieConfig.lifetimeType"))}},
		{name: "Permanent without absoluteTimeout", route: one(v1Cookie("s", spCfg(permanent))), ctx: off(gwtV163),
			wantDeny: []finding{deny("GW-001", sp0)}},
		{name: "cookieConfig with Header from v1.5.0", route: one(gwtSP(spName("s"), spTyp(apis.PersistenceHeader), spCfg(session))),
			ctx: off(gwtV151), wantDeny: []finding{deny("GW-001", sp0)}},
		{name: "cookieConfig with Header before v1.5.0", route: one(gwtSP(spName("s"), spTyp(apis.PersistenceHeader), spCfg(session))),
			ctx: off(gwtV140)},
		{name: "CEL skipped while the schema fails", route: one(v1Cookie(long, spCfg(permanent))), ctx: off(gwtV163),
			wantDeny: []finding{deny("GW-001", at("sessionName"))}},
		{name: "idleTimeout pattern while the field exists", route: one(v1Cookie("s", spIdle("5d"))), ctx: off(gwtV151),
			wantDeny: []finding{deny("GW-001", at("idleTimeout"))}, wantWarn: []finding{warn("GW-004", at("idleTimeout"))}},
		// v1.1.0's CEL bug.
		{name: "v1.1.0 Header without cookieConfig", route: one(gwtSP(spName("s"), spTyp(apis.PersistenceHeader))), ctx: off(gwtV110),
			wantDeny: []finding{deny("GW-006", sp0)}},
		{name: "v1.1.0 Cookie without cookieConfig", route: one(v1Cookie("s")), ctx: off(gwtV110),
			wantDeny: []finding{deny("GW-006", sp0)}},
		{name: "v1.1.0 with absoluteTimeout passes", route: one(gwtSP(spName("s"), spTyp(apis.PersistenceHeader), spAbs("10s"))), ctx: off(gwtV110)},
		{name: "v1.1.0 with cookieConfig passes", route: one(v1Cookie("s", spCfg(session))), ctx: off(gwtV110)},
		{name: "v1.1.1 fixed", route: one(gwtSP(spName("s"), spTyp(apis.PersistenceHeader))), ctx: off(gwtV111)},
		// v1.7 shape.
		{name: "v1.7 named cookie", route: one(v2Cookie("session-a")), ctx: off(gwtV170),
			wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "v1.7 cookie name with a slash", route: one(v2Cookie("a/b")), ctx: off(gwtV170),
			wantDeny: []finding{deny("GW-001", at("cookie.name"))}, wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "v1.7 empty cookie name", route: one(v2Cookie("")), ctx: off(gwtV170),
			wantDeny: []finding{deny("GW-001", at("cookie.name"))}, wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "v1.7 cookie name too long", route: one(v2Cookie(strings.Repeat("n", 257))), ctx: off(gwtV170),
			wantDeny: []finding{deny("GW-001", at("cookie.name"))}, wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "v1.7 cookie path too long", route: one(gwtSP(spCookie(gwtStr("s"), gwtStr("/"+strings.Repeat("p", 1024)), nil))), ctx: off(gwtV170),
			wantDeny: []finding{deny("GW-001", at("cookie.path"))}, wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "v1.7 lifetimeType not in enum", route: one(gwtSP(spCookie(gwtStr("s"), nil, forever))), ctx: off(gwtV170),
			wantDeny: []finding{deny("GW-001", at("cookie.lifetimeType"))}, wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "v1.7 header without name", route: one(gwtSP(spTyp(apis.PersistenceHeader), spHeader(nil))), ctx: off(gwtV170),
			wantDeny: []finding{deny("GW-001", at("header.name"))}, wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "v1.7 header name with a space", route: one(gwtSP(spTyp(apis.PersistenceHeader), spHeader(gwtStr("x session")))), ctx: off(gwtV170),
			wantDeny: []finding{deny("GW-001", at("header.name"))}, wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "v1.7 header", route: one(gwtSP(spTyp(apis.PersistenceHeader), spHeader(gwtStr("x-session")))), ctx: off(gwtV170),
			wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "v1.7 empty object: type defaults to Cookie", route: one(gwtSP()), ctx: off(gwtV170),
			wantDeny: []finding{deny("GW-001", sp0)}, wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "v1.7 header without type", route: one(gwtSP(spHeader(gwtStr("x-session")))), ctx: off(gwtV170),
			wantDeny: []finding{deny("GW-001", sp0), deny("GW-001", sp0)}, wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "v1.7 Header type with cookie", route: one(gwtSP(spTyp(apis.PersistenceHeader), spCookie(nil, nil, nil))), ctx: off(gwtV170),
			wantDeny: []finding{deny("GW-001", sp0), deny("GW-001", sp0)}, wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "v1.7 Permanent without absoluteTimeout", route: one(gwtSP(spCookie(gwtStr("s"), nil, permanent))), ctx: off(gwtV170),
			wantDeny: []finding{deny("GW-001", sp0)}, wantWarn: []finding{warn("GW-011", sp0)}},
		// Unknown bundle: values of the manifest's keys are checked, CEL is not.
		{name: "unknown bundle bad duration", route: one(v1Cookie("s", spAbs("10"))), ctx: off(gwtUnknown),
			wantDeny: []finding{deny("GW-001", at("absoluteTimeout"))}},
		{name: "unknown bundle bad v1.7 name", route: one(v2Cookie("a b")), ctx: off(gwtUnknown),
			wantDeny: []finding{deny("GW-001", at("cookie.name"))}},
		{name: "unknown bundle no CEL", route: one(gwtSP(spCookie(nil, nil, permanent))), ctx: off(gwtUnknown)},
		{name: "unknown bundle type only", route: one(gwtSP(spTyp(apis.PersistenceCookie))), ctx: off(gwtUnknown),
			wantWarn: []finding{warn("GW-009", sp0)}},
		{name: "live never checks the schema", route: one(v1Cookie("s", spTyp("cookie"), spAbs("1d"))), ctx: gwtCtx(gwtV163, false)},
	}
	runGwtRouteCases(t, func(r, _ *apis.Route, ctx *Context) (field.ErrorList, Warnings) { return runGatewayRoute(r, ctx) }, cases)
}

// TestGatewayBundleMismatchOffline: the field or some keys do not exist in
// the installed CRDs (GW-002, GW-003, GW-005).
func TestGatewayBundleMismatchOffline(t *testing.T) {
	one := func(sp *apis.SessionPersistence) *apis.Route { return gwtRoute(gwtRules(sp)) }
	off := func(b apis.GatewayBundle) *Context { return gwtCtx(b, true) }
	egExample := v1Cookie("Session-A", spAbs("10s"), spCfg(gwtStr(apis.LifetimePermanent)))
	cases := []gwtRouteCase{
		{name: "standard channel", route: one(egExample), ctx: off(gwtStd163), wantDeny: []finding{deny("GW-002", sp0)}},
		{name: "standard channel live", route: one(egExample), ctx: gwtCtx(gwtStd163, false)},
		{name: "v1.0 experimental", route: one(egExample), ctx: off(gwtV100), wantDeny: []finding{deny("GW-002", sp0)}},
		{name: "v1.6 manifest on v1.7 CRDs", route: one(egExample), ctx: off(gwtV170),
			wantDeny: []finding{deny("GW-005", at("sessionName")), deny("GW-005", at("cookieConfig")), deny("GW-001", sp0)},
			wantWarn: []finding{warn("GW-011", sp0), warn("GW-007", at("absoluteTimeout"))}},
		{name: "v1.7 manifest on v1.6 CRDs", route: one(v2Cookie("s", spHeader(gwtStr("x")))), ctx: off(gwtV163),
			wantDeny: []finding{deny("GW-005", at("cookie")), deny("GW-005", at("header"))},
			wantWarn: []finding{warn("GW-009", sp0)}},
		{name: "v1.7 manifest on v1.6.3, channel unknown", route: one(v2Cookie("s")), ctx: off(gwtV163NoCh),
			wantDeny: []finding{deny("GW-005", at("cookie"))}, wantWarn: []finding{warn("GW-009", sp0)}},
		{name: "mixed keys, unknown bundle", route: one(v1Cookie("s", spCookie(gwtStr("s"), nil, nil))), ctx: off(gwtUnknown),
			wantWarn: []finding{warn("GW-005", sp0)}},
		{name: "idleTimeout on v1.6", route: one(v1Cookie("s", spIdle("1h"))), ctx: off(gwtV163),
			wantDeny: []finding{deny("GW-003", at("idleTimeout"))}},
		{name: "idleTimeout on v1.7", route: one(v2Cookie("s", spIdle("1h"))), ctx: off(gwtV170),
			wantDeny: []finding{deny("GW-003", at("idleTimeout"))}, wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "idleTimeout on v1.5", route: one(v1Cookie("s", spIdle("1h"))), ctx: off(gwtV151),
			wantWarn: []finding{warn("GW-004", at("idleTimeout"))}},
		{name: "idleTimeout live, bundle unknown", route: one(v1Cookie("s", spIdle("1h"))), ctx: gwtCtx(gwtUnknown, false),
			wantWarn: []finding{warn("GW-004", at("idleTimeout"))}},
	}
	runGwtRouteCases(t, func(r, _ *apis.Route, ctx *Context) (field.ErrorList, Warnings) { return runGatewayRoute(r, ctx) }, cases)
}

// TestGatewaySemantics: the live per-object rules (GW-007, GW-008, GW-009,
// GW-011), in both shapes.
func TestGatewaySemantics(t *testing.T) {
	one := func(sp *apis.SessionPersistence) *apis.Route { return gwtRoute(gwtRules(sp)) }
	live := func(b apis.GatewayBundle) *Context { return gwtCtx(b, false) }
	permanent, session := gwtStr(apis.LifetimePermanent), gwtStr(apis.LifetimeSession)
	cases := []gwtRouteCase{
		{name: "GW-007 v1.6 no cookieConfig", route: one(v1Cookie("s", spAbs("1h"))), ctx: live(gwtV163),
			wantWarn: []finding{warn("GW-007", at("absoluteTimeout"))}},
		{name: "GW-007 v1.6 explicit Session", route: one(v1Cookie("s", spAbs("1h"), spCfg(session))), ctx: live(gwtV163),
			wantWarn: []finding{warn("GW-007", at("cookieConfig.lifetimeType"))}},
		{name: "GW-007 v1.6 cookieConfig without lifetimeType", route: one(v1Cookie("s", spAbs("1h"), spCfg(nil))), ctx: live(gwtV163),
			wantWarn: []finding{warn("GW-007", at("cookieConfig"))}},
		{name: "GW-007 v1.7 default Session", route: one(v2Cookie("s", spAbs("1h"))), ctx: live(gwtV170),
			wantWarn: []finding{warn("GW-007", at("cookie")), warn("GW-011", sp0)}},
		{name: "GW-007 v1.7 explicit Session", route: one(gwtSP(spCookie(gwtStr("s"), nil, session), spAbs("1h"))), ctx: live(gwtV170),
			wantWarn: []finding{warn("GW-007", at("cookie.lifetimeType")), warn("GW-011", sp0)}},
		{name: "GW-007 Header type", route: one(gwtSP(spName("s"), spTyp(apis.PersistenceHeader), spAbs("1h"))), ctx: live(gwtV163)},
		{name: "GW-007 Permanent", route: one(v1Cookie("s", spAbs("1h"), spCfg(permanent))), ctx: live(gwtV163)},
		{name: "GW-007 lifetimeType outside the enum", route: one(v1Cookie("s", spAbs("1h"), spCfg(gwtStr("Forever")))), ctx: live(gwtV163)},
		{name: "GW-008 zero seconds", route: one(v1Cookie("s", spAbs("0s"), spCfg(permanent))), ctx: live(gwtV163),
			wantWarn: []finding{warn("GW-008", at("absoluteTimeout"))}},
		{name: "GW-008 zero in two units, v1.7", route: one(gwtSP(spCookie(gwtStr("s"), nil, permanent), spAbs("0h0m"))), ctx: live(gwtV170),
			wantWarn: []finding{warn("GW-008", at("absoluteTimeout")), warn("GW-011", sp0)}},
		{name: "GW-008 one second", route: one(v1Cookie("s", spAbs("1s"), spCfg(permanent))), ctx: live(gwtV163)},
		{name: "GW-009 no sessionName", route: one(gwtSP(spTyp(apis.PersistenceCookie))), ctx: live(gwtV163),
			wantWarn: []finding{warn("GW-009", sp0)}},
		{name: "GW-009 empty sessionName", route: one(v1Cookie("")), ctx: live(gwtV163),
			wantWarn: []finding{warn("GW-009", sp0)}},
		{name: "GW-009 Header without name", route: one(gwtSP(spTyp(apis.PersistenceHeader))), ctx: live(gwtV163)},
		{name: "GW-009 v1.7 generated name is fine", route: one(gwtSP(spCookie(nil, nil, nil))), ctx: live(gwtV170),
			wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "GW-009 unknown bundle, v1.7 keys", route: one(gwtSP(spCookie(nil, nil, nil))), ctx: live(gwtUnknown)},
		{name: "GW-011 once per route", route: gwtRoute(gwtRules(v2Cookie("a"), nil, v2Cookie("b"))), ctx: live(gwtV170),
			wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "GW-011 not before v1.7", route: one(v1Cookie("a")), ctx: live(gwtV163)},
		{name: "GW-011 not with an unknown bundle", route: one(v2Cookie("a")), ctx: live(gwtUnknown)},
		{name: "GRPCRoute v1.7", route: gwtRoute(gwtRules(v2Cookie("a")), gwtGRPC()), ctx: live(gwtV170),
			wantWarn: []finding{warn("GW-011", sp0)}},
	}
	runGwtRouteCases(t, validateRouteGateway, cases)
}

// TestGatewayCookieClash: GWX-001 within a route and against sibling routes.
func TestGatewayCookieClash(t *testing.T) {
	live := func(b apis.GatewayBundle, mut ...func(*Context)) *Context { return gwtCtx(b, false, mut...) }
	name1 := "spec.rules[1].sessionPersistence.cookie.name"
	sib := func(sp *apis.SessionPersistence, opts ...gwtRouteOpt) *apis.Route {
		return gwtRoute([]apis.RouteRule{gwtRule(sp, gwtBackend("other"))}, append([]gwtRouteOpt{gwtNamed("shop", "other")}, opts...)...)
	}
	gw := gwtGateway("eg",
		apis.Listener{Name: "shop", Hostname: gwtStr("shop.example.com"), Port: 443, Protocol: "HTTPS"},
		apis.Listener{Name: "api", Hostname: gwtStr("api.example.com"), Port: 443, Protocol: "HTTPS"})
	cases := []gwtRouteCase{
		{name: "two rules share a cookie, v1.7", route: gwtRoute(gwtRules(v2Cookie("s"), v2Cookie("s"))), ctx: live(gwtV170),
			wantDeny: []finding{deny("GWX-001", name1)}, wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "two rules share a cookie, same backends", route: gwtRoute([]apis.RouteRule{
			gwtRule(v2Cookie("s"), gwtBackend("web")), gwtRule(v2Cookie("s"), gwtBackend("web"))}), ctx: live(gwtV170),
			wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "distinct cookie paths", route: gwtRoute(gwtRules(gwtSP(spCookie(gwtStr("s"), gwtStr("/a"), nil)),
			gwtSP(spCookie(gwtStr("s"), gwtStr("/b"), nil)))), ctx: live(gwtV170), wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "explicit / equals the default", route: gwtRoute(gwtRules(gwtSP(spCookie(gwtStr("s"), gwtStr("/"), nil)),
			v2Cookie("s"))), ctx: live(gwtV170), wantDeny: []finding{deny("GWX-001", name1)}, wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "distinct names", route: gwtRoute(gwtRules(v2Cookie("a"), v2Cookie("b"))), ctx: live(gwtV170),
			wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "v1.6: the Path is implementation-defined", route: gwtRoute(gwtRules(v1Cookie("s"), v1Cookie("s"))), ctx: live(gwtV163),
			wantWarn: []finding{warn("GWX-001", "spec.rules[1].sessionPersistence.sessionName")}},
		{name: "unknown bundle with v1.7 keys", route: gwtRoute(gwtRules(v2Cookie("s"), v2Cookie("s"))), ctx: live(gwtUnknown),
			wantWarn: []finding{warn("GWX-001", name1)}},
		{name: "header type shares no cookie", route: gwtRoute(gwtRules(
			gwtSP(spTyp(apis.PersistenceHeader), spHeader(gwtStr("s"))), gwtSP(spTyp(apis.PersistenceHeader), spHeader(gwtStr("s"))))),
			ctx: live(gwtV170), wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "route without parents", route: gwtRoute(gwtRules(v2Cookie("s"), v2Cookie("s")), gwtParents()), ctx: live(gwtV170),
			wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "sibling on the same Gateway, all hosts", route: gwtRoute(gwtRules(v2Cookie("s"))),
			ctx: live(gwtV170, withSiblings(sib(v2Cookie("s")))), wantDeny: []finding{deny("GWX-001", at("cookie.name"))},
			wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "sibling on a wildcard host", route: gwtRoute(gwtRules(v2Cookie("s")), gwtHosts("shop.example.com")),
			ctx: live(gwtV170, withSiblings(sib(v2Cookie("s"), gwtHosts("*.example.com")))), wantDeny: []finding{deny("GWX-001", at("cookie.name"))},
			wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "sibling on another host", route: gwtRoute(gwtRules(v2Cookie("s")), gwtHosts("shop.example.com")),
			ctx: live(gwtV170, withSiblings(sib(v2Cookie("s"), gwtHosts("api.example.com")))), wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "sibling on another Gateway", route: gwtRoute(gwtRules(v2Cookie("s"))),
			ctx:      live(gwtV170, withSiblings(sib(v2Cookie("s"), gwtParents(apis.ParentReference{Name: "internal"})))),
			wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "sibling from another namespace naming our Gateway", route: gwtRoute(gwtRules(v2Cookie("s"))),
			ctx: live(gwtV170, withSiblings(sib(v2Cookie("s"), gwtNamed("blog", "web"),
				gwtParents(apis.ParentReference{Name: "eg", Namespace: gwtStr("shop")})))),
			wantDeny: []finding{deny("GWX-001", at("cookie.name"))}, wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "sibling on a listener with another hostname", route: gwtRoute(gwtRules(v2Cookie("s")),
			gwtParents(apis.ParentReference{Name: "eg", SectionName: gwtStr("shop")})),
			ctx: live(gwtV170, withParents(RouteParent{Ref: apis.ParentReference{Name: "eg", SectionName: gwtStr("shop")}, Gateway: gw}),
				withSiblings(sib(v2Cookie("s"), gwtParents(apis.ParentReference{Name: "eg", SectionName: gwtStr("api")})))),
			wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "sibling on the same listener", route: gwtRoute(gwtRules(v2Cookie("s")),
			gwtParents(apis.ParentReference{Name: "eg", SectionName: gwtStr("shop")})),
			ctx: live(gwtV170, withParents(RouteParent{Ref: apis.ParentReference{Name: "eg", SectionName: gwtStr("shop")}, Gateway: gw}),
				withSiblings(sib(v2Cookie("s"), gwtParents(apis.ParentReference{Name: "eg"})))),
			wantDeny: []finding{deny("GWX-001", at("cookie.name"))}, wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "mesh sibling on the same Service", route: gwtRoute(gwtRules(v2Cookie("s")), gwtParents(gwtMeshParent("web"))),
			ctx:      live(gwtV170, withSiblings(sib(v2Cookie("s"), gwtParents(gwtMeshParent("web"))))),
			wantDeny: []finding{deny("GWX-001", at("cookie.name"))}, wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "sibling GRPCRoute, v1.6 shape", route: gwtRoute(gwtRules(v1Cookie("s"))),
			ctx: live(gwtV163, withSiblings(sib(v1Cookie("s"), gwtGRPC()))), wantWarn: []finding{warn("GWX-001", at("sessionName"))}},
		{name: "the route itself among its siblings", route: gwtRoute(gwtRules(v2Cookie("s"))),
			ctx:      live(gwtV170, withSiblings(gwtRoute([]apis.RouteRule{gwtRule(v2Cookie("s"), gwtBackend("old"))}))),
			wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "long names fit", route: gwtRoute([]apis.RouteRule{gwtRule(v2Cookie(strings.Repeat("c", 200)), gwtBackend("a"))},
			gwtNamed(strings.Repeat("n", 63), strings.Repeat("r", 63))),
			ctx: live(gwtV170, withSiblings(sib(v2Cookie(strings.Repeat("c", 200)), gwtNamed(strings.Repeat("m", 63), strings.Repeat("q", 253)),
				gwtParents(apis.ParentReference{Name: "eg", Namespace: gwtStr(strings.Repeat("n", 63))})))),
			wantDeny: []finding{deny("GWX-001", at("cookie.name"))}, wantWarn: []finding{warn("GW-011", sp0)}},
	}
	runGwtRouteCases(t, validateRouteGateway, cases)
}

// TestGatewayRoutePolicies: weights and XBackendTrafficPolicies seen from
// the route (GWX-002, GWX-003, GWX-004, GWX-005).
func TestGatewayRoutePolicies(t *testing.T) {
	live := func(b apis.GatewayBundle, mut ...func(*Context)) *Context { return gwtCtx(b, false, mut...) }
	split := func(sp *apis.SessionPersistence, w1, w2 int32) *apis.Route {
		return gwtRoute([]apis.RouteRule{gwtRule(sp, gwtBackend("v1", w1), gwtBackend("v2", w2))})
	}
	p1 := gwtPolicy("p1", v1Cookie("split-route-cookie"), "v1")
	p2 := gwtPolicy("p2", v1Cookie("split-route-cookie"), "v2")
	p2other := gwtPolicy("p2", v1Cookie("other-cookie"), "v2")
	p1v2 := gwtPolicy("p1", v2Cookie("c"), "v1")
	elsewhere := gwtPolicy("p1", v1Cookie("c"), "v1")
	elsewhere.Namespace = "blog"
	cases := []gwtRouteCase{
		{name: "GWX-003 weight 0, v1.6", route: split(v1Cookie("s"), 0, 100), ctx: live(gwtV163),
			wantWarn: []finding{warn("GWX-003", "spec.rules[0].backendRefs[0].weight")}},
		{name: "GWX-003 weight 0, v1.7 semantics", route: split(v2Cookie("s"), 0, 100), ctx: live(gwtV170),
			wantWarn: []finding{warn("GW-011", sp0)}},
		{name: "GWX-003 every weight 0", route: split(v1Cookie("s"), 0, 0), ctx: live(gwtV163)},
		{name: "GWX-003 no persistence", route: split(nil, 0, 100), ctx: live(gwtV163)},
		{name: "GWX-004 rule and policy, v1.6", route: split(v1Cookie("s"), 50, 50), ctx: live(gwtV163, withPolicies(p1)),
			wantWarn: []finding{warn("GWX-004", sp0)}},
		{name: "GWX-004 rule and policy, v1.7", route: split(v2Cookie("s"), 50, 50), ctx: live(gwtV170, withPolicies(p1v2)),
			wantWarn: []finding{warn("GWX-004", sp0), warn("GW-011", sp0)}},
		{name: "GWX-004 policy in another namespace", route: split(v1Cookie("s"), 50, 50), ctx: live(gwtV163, withPolicies(elsewhere))},
		{name: "GWX-002 two policies, one cookie", route: split(nil, 50, 50), ctx: live(gwtV163, withPolicies(p1, p2)),
			wantWarn: []finding{warn("GWX-002", "spec.rules[0].backendRefs[1]")}},
		{name: "GWX-002 two policies, two cookies", route: split(nil, 50, 50), ctx: live(gwtV163, withPolicies(p1, p2other))},
		{name: "GWX-005 one of two weighted backends", route: split(nil, 50, 50), ctx: live(gwtV163, withPolicies(p1)),
			wantWarn: []finding{warn("GWX-005", "spec.rules[0].backendRefs")}},
		{name: "GWX-005 the other has weight 0", route: split(nil, 100, 0), ctx: live(gwtV163, withPolicies(p1))},
		{name: "GWX-005 v1.7 semantics", route: split(nil, 50, 50), ctx: live(gwtV170, withPolicies(p1v2))},
	}
	runGwtRouteCases(t, validateRouteGateway, cases)
}

// TestGatewayServiceAffinity: GWX-006 (mesh: denied) and GWX-007 (Gateway).
func TestGatewayServiceAffinity(t *testing.T) {
	live := func(mut ...func(*Context)) *Context { return gwtCtx(gwtV163, false, mut...) }
	be0 := "spec.rules[0].backendRefs[0]"
	mesh := gwtParents(gwtMeshParent("web"))
	clientIP, none := gwtService("web", corev1.ServiceAffinityClientIP), gwtService("web", corev1.ServiceAffinityNone)
	cases := []gwtRouteCase{
		{name: "mesh route, ClientIP backend", route: gwtRoute(gwtRules(v1Cookie("s")), mesh), ctx: live(withServices(clientIP)),
			wantDeny: []finding{deny("GWX-006", be0)}},
		{name: "mesh route, persistence from a policy", route: gwtRoute(gwtRules(nil), mesh),
			ctx: live(withServices(clientIP), withPolicies(gwtPolicy("p", v1Cookie("s"), "web"))), wantDeny: []finding{deny("GWX-006", be0)}},
		{name: "mesh route without persistence", route: gwtRoute(gwtRules(nil), mesh), ctx: live(withServices(clientIP))},
		{name: "mesh route, no affinity", route: gwtRoute(gwtRules(v1Cookie("s")), mesh), ctx: live(withServices(none))},
		{name: "mesh route, Service in another namespace", route: gwtRoute(gwtRules(v1Cookie("s")), mesh, gwtNamed("blog", "web")),
			ctx: live(withServices(clientIP))},
		{name: "Gateway route, ClientIP backend", route: gwtRoute(gwtRules(v1Cookie("s"))), ctx: live(withServices(clientIP)),
			wantWarn: []finding{warn("GWX-007", be0)}},
		{name: "mesh and Gateway parents: denied once", route: gwtRoute(gwtRules(v1Cookie("s")),
			gwtParents(gwtMeshParent("web"), apis.ParentReference{Name: "eg"})), ctx: live(withServices(clientIP)),
			wantDeny: []finding{deny("GWX-006", be0)}},
	}
	runGwtRouteCases(t, validateRouteGateway, cases)
}

type gwtPolicyCase struct {
	name     string
	policy   *apis.BackendPolicy
	ctx      *Context
	wantDeny []finding
	wantWarn []finding
}

// TestGatewayBackendPolicy: the XBackendTrafficPolicy/BackendLBPolicy side,
// offline and live.
func TestGatewayBackendPolicy(t *testing.T) {
	sp := "spec.sessionPersistence"
	ctx := func(b apis.GatewayBundle, offline bool, mut ...func(*Context)) *Context {
		return gwtCtx(b, offline, mut...)
	}
	pol := func(s *apis.SessionPersistence) *apis.BackendPolicy { return gwtPolicy("p1", s, "v1") }
	lb := gwtPolicy("lbp", gwtSP(spName("s"), spTyp(apis.PersistenceHeader)), "v1")
	lb.Kind = apis.KindBackendLBPolicy
	route := func(sp *apis.SessionPersistence, w1, w2 int32, opts ...gwtRouteOpt) *apis.Route {
		return gwtRoute([]apis.RouteRule{gwtRule(sp, gwtBackend("v1", w1), gwtBackend("v2", w2))}, opts...)
	}
	cases := []gwtPolicyCase{
		{name: "valid v1.6 policy", policy: pol(v1Cookie("s", spAbs("1h"), spCfg(gwtStr(apis.LifetimePermanent)))), ctx: ctx(gwtV163, true)},
		{name: "GW-001 bad duration", policy: pol(v1Cookie("s", spAbs("1 h"))), ctx: ctx(gwtV163, true),
			wantDeny: []finding{deny("GW-001", sp+".absoluteTimeout")}},
		{name: "GW-005 v1.7 keys on v1.6", policy: pol(v2Cookie("s")), ctx: ctx(gwtV163, true),
			wantDeny: []finding{deny("GW-005", sp+".cookie")}},
		{name: "GW-003 idleTimeout on v1.7", policy: pol(v2Cookie("s", spIdle("1h"))), ctx: ctx(gwtV170, true),
			wantDeny: []finding{deny("GW-003", sp+".idleTimeout")}, wantWarn: []finding{warn("GW-011", sp)}},
		{name: "GW-004 idleTimeout on v1.2", policy: lb, ctx: ctx(gwtV120, false)},
		{name: "GW-004 BackendLBPolicy idleTimeout", policy: gwtPolicy("p", v1Cookie("s", spIdle("1h")), "v1"), ctx: ctx(gwtV120, false),
			wantWarn: []finding{warn("GW-004", sp+".idleTimeout")}},
		{name: "GW-006 BackendLBPolicy on v1.1.0", policy: lb, ctx: ctx(gwtV110, true), wantDeny: []finding{deny("GW-006", sp)}},
		{name: "GW-007 policy", policy: pol(v1Cookie("s", spAbs("1h"))), ctx: ctx(gwtV163, false),
			wantWarn: []finding{warn("GW-007", sp+".absoluteTimeout")}},
		{name: "GW-011 v1.7 policy", policy: pol(v2Cookie("s")), ctx: ctx(gwtV170, false), wantWarn: []finding{warn("GW-011", sp)}},
		{name: "no sessionPersistence", policy: pol(nil), ctx: ctx(gwtV163, true)},
		{name: "standard channel", policy: pol(v1Cookie("s")), ctx: ctx(gwtStd163, true)},
		{name: "GWX-004 a route rule sets its own", policy: pol(v1Cookie("s")),
			ctx: ctx(gwtV163, false, withRoutes(route(v1Cookie("r"), 50, 50))), wantWarn: []finding{warn("GWX-004", sp)}},
		{name: "GWX-002 another policy, same cookie", policy: pol(v1Cookie("s")),
			ctx:      ctx(gwtV163, false, withRoutes(route(nil, 50, 50)), withPolicies(gwtPolicy("p2", v1Cookie("s"), "v2"))),
			wantWarn: []finding{warn("GWX-002", sp+".sessionName")}},
		{name: "GWX-002 v1.7 names", policy: pol(v2Cookie("s")),
			ctx:      ctx(gwtV170, false, withRoutes(route(nil, 50, 50)), withPolicies(gwtPolicy("p2", v2Cookie("s"), "v2"))),
			wantWarn: []finding{warn("GWX-002", sp+".cookie.name"), warn("GW-011", sp)}},
		{name: "GWX-002 itself in the list", policy: pol(v1Cookie("s")),
			ctx: ctx(gwtV163, false, withRoutes(route(nil, 50, 0)), withPolicies(gwtPolicy("p1", v1Cookie("s"), "v1")))},
		{name: "GWX-005 partial coverage", policy: pol(v1Cookie("s")), ctx: ctx(gwtV163, false, withRoutes(route(nil, 50, 50))),
			wantWarn: []finding{warn("GWX-005", sp)}},
		{name: "GWX-005 full coverage", policy: pol(v1Cookie("s")),
			ctx: ctx(gwtV163, false, withRoutes(route(nil, 50, 50)), withPolicies(gwtPolicy("p2", v1Cookie("t"), "v2")))},
		{name: "GWX-005 v1.7", policy: pol(v2Cookie("s")), ctx: ctx(gwtV170, false, withRoutes(route(nil, 50, 50))),
			wantWarn: []finding{warn("GW-011", sp)}},
		{name: "GWX-006 mesh route to a ClientIP Service", policy: pol(v1Cookie("s")),
			ctx: ctx(gwtV163, false, withRoutes(route(nil, 100, 0, gwtParents(gwtMeshParent("v1")))),
				withServices(gwtService("v1", corev1.ServiceAffinityClientIP))),
			wantWarn: []finding{warn("GWX-006", "spec.targetRefs[0]")}},
		{name: "route elsewhere", policy: pol(v1Cookie("s")),
			ctx: ctx(gwtV163, false, withRoutes(route(v1Cookie("r"), 50, 50, gwtNamed("blog", "web"))))},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.policy.DeepCopyObject()
			errs, warns := runGatewayPolicy(tt.policy, tt.ctx)
			assertFindings(t, errs, warns, tt.wantDeny, tt.wantWarn)
			assert.Equal(t, before, tt.policy, "input modified")
		})
	}
}

func TestHostIntersect(t *testing.T) {
	cases := []struct {
		x, y string
		want bool
	}{
		{"*", "a.example.com", true},
		{"a.example.com", "A.Example.com", true},
		{"a.example.com", "b.example.com", false},
		{"*.example.com", "a.example.com", true},
		{"*.example.com", "a.b.example.com", true},
		{"*.example.com", "example.com", false},
		{"*.example.com", "*.b.example.com", true},
		{"*.example.com", "*.example.org", false},
		{"x.example.com", "*.example.com", true},
	}
	for _, tt := range cases {
		assert.Equal(t, tt.want, hostIntersect(tt.x, tt.y), "%s ∩ %s", tt.x, tt.y)
		assert.Equal(t, tt.want, hostIntersect(tt.y, tt.x), "%s ∩ %s", tt.y, tt.x)
	}
}

// TestGatewayRulesRunThroughTheRegistry: ValidateRoute and
// ValidateBackendPolicy reach this family, live and offline.
func TestGatewayRulesRunThroughTheRegistry(t *testing.T) {
	has := func(errs field.ErrorList, warns Warnings, id string) bool {
		for _, e := range errs {
			if e.Origin == id {
				return true
			}
		}
		for _, w := range warns {
			if w.Rule == id {
				return true
			}
		}
		return false
	}
	r := gwtRoute(gwtRules(v1Cookie("s", spAbs("1d"))))
	errs, warns := ValidateRoute(r, nil, gwtCtx(gwtV163, true))
	assert.True(t, has(errs, warns, "GW-001"), "offline GW-001 via ValidateRoute")
	errs, warns = ValidateRoute(r, nil, gwtCtx(gwtV163, false))
	assert.False(t, has(errs, warns, "GW-001"), "GW-001 is offline only")
	errs, warns = ValidateRoute(gwtRoute(gwtRules(v1Cookie("s", spAbs("1h")))), nil, gwtCtx(gwtV163, false))
	assert.True(t, has(errs, warns, "GW-007"), "live GW-007 via ValidateRoute")

	p := gwtPolicy("p", v1Cookie("s", spAbs("1d")), "web")
	errs, warns = ValidateBackendPolicy(p, nil, gwtCtx(gwtV163, true))
	assert.True(t, has(errs, warns, "GW-001"), "offline GW-001 via ValidateBackendPolicy")
}

// gwtWorld is the objects of one testdata/gateway example: what the
// engine's offline index would hold.
type gwtWorld struct {
	classes  map[string]*apis.GatewayClass
	gateways []*apis.Gateway
	routes   []*apis.Route
	policies []*apis.BackendPolicy
	services []*corev1.Service
}

// loadGatewayExample reads a testdata/gateway example: its objects (the
// namespace defaulted to "default", as kubectl would) and its
// "# stickyguard-test: bundle=VERSION/CHANNEL expect=ID,..." line.
func loadGatewayExample(t *testing.T, path string) (w gwtWorld, b apis.GatewayBundle, expect []string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	w.classes = map[string]*apis.GatewayClass{}
	for _, line := range strings.Split(string(raw), "\n") {
		rest, ok := strings.CutPrefix(line, "# stickyguard-test:")
		if !ok {
			continue
		}
		for _, kv := range strings.Fields(rest) {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "bundle":
				version, channel, _ := strings.Cut(v, "/")
				b = apis.BundleFor(version, channel, path)
			case "expect":
				if v != "" {
					expect = strings.Split(v, ",")
				}
			}
		}
	}
	require.True(t, b.Known(), "%s: no stickyguard-test bundle", path)
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(raw), -1) {
		js, err := yaml.YAMLToJSON([]byte(doc))
		require.NoError(t, err)
		var tm metav1.TypeMeta
		require.NoError(t, json.Unmarshal(js, &tm))
		if tm.Kind == "" {
			continue
		}
		if tm.Kind == "Service" {
			svc := &corev1.Service{}
			require.NoError(t, json.Unmarshal(js, svc))
			if svc.Namespace == "" {
				svc.Namespace = "default"
			}
			w.services = append(w.services, svc)
			continue
		}
		obj, err := apis.Decode(tm.APIVersion, tm.Kind, js)
		require.NoError(t, err)
		require.NotNil(t, obj, "%s: %s/%s is not decoded", path, tm.APIVersion, tm.Kind)
		if m, ok := obj.(metav1.Object); ok && m.GetNamespace() == "" {
			m.SetNamespace("default")
		}
		switch o := obj.(type) {
		case *apis.GatewayClass:
			w.classes[o.Name] = o
		case *apis.Gateway:
			w.gateways = append(w.gateways, o)
		case *apis.Route:
			w.routes = append(w.routes, o)
		case *apis.BackendPolicy:
			w.policies = append(w.policies, o)
		}
	}
	return w, b, expect
}

func (w gwtWorld) parents(r *apis.Route) []RouteParent {
	var out []RouteParent
	for _, ref := range r.Spec.ParentRefs {
		p := RouteParent{Ref: ref}
		if !ref.IsService() {
			key := parentKeyOf(r.Namespace, ref)
			for _, g := range w.gateways {
				if g.Namespace == key.ns && g.Name == key.name {
					p.Gateway, p.Class = g, w.classes[g.Spec.GatewayClassName]
				}
			}
		}
		out = append(out, p)
	}
	return out
}

func (w gwtWorld) routeContext(r *apis.Route, b apis.GatewayBundle) *Context {
	c := gwtCtx(b, true, withParents(w.parents(r)...))
	for _, s := range w.routes {
		if s != r {
			c.Related.Gateway.SiblingRoutes = append(c.Related.Gateway.SiblingRoutes, s)
		}
	}
	for _, p := range w.policies {
		if p.Namespace == r.Namespace {
			c.Related.Gateway.BackendPolicies = append(c.Related.Gateway.BackendPolicies, p)
		}
	}
	for _, rule := range r.Spec.Rules {
		for _, br := range rule.BackendRefs {
			if svc := serviceNamed(w.services, r.Namespace, br.Name); svc != nil && br.IsService() {
				c.Related.BackendServices = append(c.Related.BackendServices, svc)
			}
		}
	}
	return c
}

func (w gwtWorld) policyContext(p *apis.BackendPolicy, b apis.GatewayBundle) *Context {
	c := gwtCtx(b, true)
	rel := &c.Related.Gateway
	for _, r := range w.routes {
		targeted := false
		for _, rule := range r.Spec.Rules {
			for _, br := range rule.BackendRefs {
				if _, ok := policyTargets(p, r.Namespace, br); ok {
					targeted = true
					if svc := serviceNamed(w.services, p.Namespace, br.Name); svc != nil {
						rel.Services = append(rel.Services, svc)
					}
				}
			}
		}
		if targeted {
			rel.Routes = append(rel.Routes, r)
			rel.RouteParents = append(rel.RouteParents, w.parents(r))
		}
	}
	for _, q := range w.policies {
		if q != p && q.Namespace == p.Namespace {
			rel.BackendPolicies = append(rel.BackendPolicies, q)
		}
	}
	return c
}

// TestGatewayExamples checks the realistic manifests of testdata/gateway
// offline with the bundle each names: a *-valid.yaml example is not
// denied, a *-broken.yaml one is, and each gives exactly the rules its
// expect= line lists.
func TestGatewayExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "gateway", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			broken := strings.HasSuffix(name, "-broken.yaml")
			require.True(t, broken || strings.HasSuffix(name, "-valid.yaml"), "name examples *-valid.yaml or *-broken.yaml")
			w, b, expect := loadGatewayExample(t, path)
			require.NotEmpty(t, w.routes, "an example holds at least one route")
			got := map[string]bool{}
			denied := false
			collect := func(errs field.ErrorList, warns Warnings) {
				for _, e := range errs {
					record(e.Origin)
					got[e.Origin], denied = true, true
					assertRenderedFits(t, Rendered(e).Error())
				}
				for _, wn := range warns {
					record(wn.Rule)
					got[wn.Rule] = true
					assertRenderedFits(t, wn.String())
				}
			}
			for _, r := range w.routes {
				ctx := w.routeContext(r, b)
				collect(runGatewayRoute(r, ctx))
				collect(validateRouteImpl(r, nil, ctx))
			}
			for _, p := range w.policies {
				ctx := w.policyContext(p, b)
				collect(runGatewayPolicy(p, ctx))
				collect(validateBackendPolicyImpl(p, nil, ctx))
			}
			assert.Equal(t, broken, denied, "denied")
			assert.ElementsMatch(t, expect, slices.Sorted(maps.Keys(got)))
		})
	}
}

// FuzzGatewayRules builds routes and policies from fuzzed sessionPersistence
// values, hostnames and weights and runs both Gateway API families with
// every bundle shape, live and offline: no panic, input unchanged, every
// finding within the message budget.
func FuzzGatewayRules(f *testing.F) {
	f.Add("Session-A", "Cookie", "10s", "Permanent", "/", "shop.example.com", "*.example.com", int32(0), "v1.6.3", "experimental")
	f.Add("", "Header", "0s", "Session", "", "", "", int32(100), "v1.7.0", "experimental")
	f.Add("a/b c", "cookie", "1d", "Forever", strings.Repeat("p", 1100), "*", "*.*", int32(-1), "v1.1.0", "")
	f.Add(strings.Repeat("é", 300), "", "", "", "", "A.B", "*.b", int32(1), "v0.0.0-dev", "standard")
	f.Fuzz(func(t *testing.T, name, typ, abs, lifetime, path, host1, host2 string, w int32, version, channel string) {
		for _, v := range []string{name, typ, abs, lifetime, path, host1, host2, version, channel} {
			if !utf8.ValidString(v) {
				t.Skip("objects arrive as JSON: strings are UTF-8")
			}
		}
		opt := func(v string) *string {
			if v == "" {
				return nil
			}
			return &v
		}
		shapes := []*apis.SessionPersistence{
			{SessionName: opt(name), Type: opt(typ), AbsoluteTimeout: opt(abs), IdleTimeout: opt(abs), CookieConfig: &apis.CookieConfig{LifetimeType: opt(lifetime)}},
			{Type: opt(typ), AbsoluteTimeout: opt(abs), Cookie: &apis.Cookie{Name: opt(name), Path: opt(path), LifetimeType: opt(lifetime)}, Header: &apis.HeaderConfig{Name: opt(name)}},
			{Type: opt(typ)},
		}
		for _, sp := range shapes {
			r := gwtRoute([]apis.RouteRule{gwtRule(sp, gwtBackend("web", w), gwtBackend("api")), gwtRule(sp)},
				gwtHosts(host1), gwtParents(apis.ParentReference{Name: "eg"}, gwtMeshParent("web")))
			sib := gwtRoute([]apis.RouteRule{gwtRule(sp, gwtBackend("other"))}, gwtNamed("shop", "other"), gwtHosts(host2))
			pol := gwtPolicy("p", sp, "web", "api")
			before, beforeP := r.DeepCopyObject(), pol.DeepCopyObject()
			for _, b := range []apis.GatewayBundle{apis.BundleFor(version, channel, "fuzz"), gwtV163, gwtV170, gwtUnknown} {
				for _, offline := range []bool{false, true} {
					ctx := gwtCtx(b, offline, withSiblings(sib), withPolicies(gwtPolicy("q", sp, "api")),
						withServices(gwtService("web", corev1.ServiceAffinityClientIP)), withRoutes(r),
						withParents(gwtParent("eg", ctrlNGF), RouteParent{Ref: gwtMeshParent("web")}))
					ctx.Related.Gateway.RouteParents = [][]RouteParent{ctx.Related.Gateway.Parents}
					for _, fn := range []func() (field.ErrorList, Warnings){
						func() (field.ErrorList, Warnings) { return ValidateRoute(r, nil, ctx) },
						func() (field.ErrorList, Warnings) { return ValidateBackendPolicy(pol, nil, ctx) },
					} {
						errs, warns := fn()
						for _, e := range errs {
							if n := len(Rendered(e).Error()); n > MessageBudget {
								t.Fatalf("%d chars: %s", n, Rendered(e).Error())
							}
						}
						for _, w := range warns {
							if n := len(w.String()); n > MessageBudget {
								t.Fatalf("%d chars: %s", n, w.String())
							}
						}
					}
				}
			}
			if !assert.Equal(t, before, r) || !assert.Equal(t, beforeP, pol) {
				t.Fatal("rules modified their input")
			}
		}
	})
}
