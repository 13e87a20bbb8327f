package validators

import (
	"fmt"
	"strconv"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/apis"
)

// Gateway API sessionPersistence (GATEWAY-FACTS §A, §B.1): the route-rule
// field of HTTPRoute and GRPCRoute and the policy field of
// XBackendTrafficPolicy (v1.3+) and BackendLBPolicy (v1.1–v1.2). The
// cross-object rules (GWX, §B.4) are in gateway_cross.go.
//
// Everything depends on the installed bundle (Related.Gateway.Bundle): the
// field exists only in the experimental channel, and its shape changed in
// v1.7.0 (sessionName/cookieConfig became cookie/header). A rule that needs
// the bundle stays quiet while it is unknown; the manifest's own keys then
// say which shape it was written for. What the API server rejects or drops
// (GW-001, GW-002, GW-003, GW-005, GW-006) is only checked offline: live,
// the webhook sees the object after the CRD's validation and pruning.

const (
	gwFamily         = "Gateway API"
	gwSessionNameMax = 128  // v1.1–v1.6 sessionName maxLength
	gwNameMax        = 256  // v1.7 cookie.name and header.name maxLength
	gwCookiePathMax  = 1024 // v1.7 cookie.path maxLength
	gwDefaultPath    = "/"  // v1.7 cookie.path default
)

var (
	gwRouteKinds = []string{KindHTTPRoute, KindGRPCRoute}
	gwAllKinds   = []string{KindHTTPRoute, KindGRPCRoute, KindXBackendTrafficPolicy, KindBackendLBPolicy}
)

var (
	gw001 = &Rule{ID: "GW-001", Severity: Deny, Kinds: gwAllKinds, Family: gwFamily, Offline: true,
		Title: "sessionPersistence fails the installed CRD's OpenAPI or CEL validation",
		Fix:   "use a value the CRD accepts",
		Explain: "Mirrors, per installed shape, what the API server checks: type Cookie|Header; absoluteTimeout (and " +
			"idleTimeout up to v1.5) as a GEP-2257 duration; sessionName at most 128 characters (v1.1–v1.6); " +
			"cookieConfig.lifetimeType Permanent|Session; Permanent needs absoluteTimeout; from v1.5.0 cookieConfig only " +
			"with type Cookie; v1.7: cookie.name and header.name 1–256 token characters, cookie.path at most 1024, and " +
			"the union rules (type defaults to Cookie, so cookie or header must match it). CEL rules are reported only " +
			"when the schema checks pass, as the API server skips them otherwise.",
		Source: "sigs.k8s.io/gateway-api config/crd/experimental v1.1.0–v1.7.0 (sessionPersistence schema and x-kubernetes-validations); GEP-2257"}
	gw002 = &Rule{ID: "GW-002", Severity: Deny, Kinds: gwRouteKinds, Family: gwFamily, Offline: true,
		Title: "sessionPersistence on a route while the installed Gateway API CRDs have no such field (standard channel)",
		Fix:   "install the experimental-channel CRDs, or remove it",
		Explain: "No standard-channel CRD has ever had sessionPersistence. The API server drops the unknown field " +
			"(kubectl's strict field validation rejects the object instead) and the route is accepted without stickiness.",
		Source: "sigs.k8s.io/gateway-api config/crd/standard/*routes.yaml v1.1.0–v1.7.0 (no sessionPersistence); KEP-2885 field validation"}
	gw003 = &Rule{ID: "GW-003", Severity: Deny, Kinds: gwAllKinds, Family: gwFamily, Offline: true,
		Title:  "idleTimeout is set but the installed CRDs (v1.6.0 and later) have no such field",
		Fix:    "remove idleTimeout",
		Source: "kubernetes-sigs/gateway-api#4771; CRDs v1.5.1 (idleTimeout) and v1.6.3 (none)"}
	gw004 = &Rule{ID: "GW-004", Severity: Warn, Kinds: gwAllKinds, Family: gwFamily,
		Title:  "idleTimeout is set: no implementation honours it",
		Fix:    "remove idleTimeout (removed from Gateway API in v1.6.0)",
		Source: "GEP-1619 (idleTimeout dropped, #4771); Envoy Gateway internal/gatewayapi/route.go v1.2–v1.8 (UnsupportedValue)"}
	gw005 = &Rule{ID: "GW-005", Severity: Deny, Kinds: gwAllKinds, Family: gwFamily, Offline: true,
		Title: "sessionPersistence is written in another shape than the installed CRDs have",
		Fix:   "write the installed shape (v1.6: sessionName/cookieConfig, v1.7: cookie/header)",
		Explain: "v1.7.0 replaced sessionName and cookieConfig by cookie.{name,path,lifetimeType} and header.name. Keys " +
			"of the other shape are unknown fields: dropped by the API server (kubectl's strict validation rejects " +
			"them). A v1.6 manifest on v1.7 CRDs then fails CEL (type defaults to Cookie, cookie is missing); a v1.7 " +
			"manifest on v1.6 CRDs is accepted with an implementation-generated cookie name.",
		Source: "kubernetes-sigs/gateway-api#4873; CRDs v1.6.3 and v1.7.0"}
	gw006 = &Rule{ID: "GW-006", Severity: Deny, Kinds: gwAllKinds, Family: gwFamily, Offline: true,
		Title: "Gateway API v1.1.0 CRDs reject sessionPersistence with neither cookieConfig nor absoluteTimeout (CEL bug)",
		Fix:   "add cookieConfig or absoluteTimeout, or upgrade the CRDs to v1.1.1+",
		Explain: "The v1.1.0 rule reads self.cookieConfig.lifetimeType without checking cookieConfig; without cookieConfig " +
			"it errors unless absoluteTimeout makes it true, and the API server answers \"AbsoluteTimeout must be " +
			"specified when cookie lifetimeType is Permanent\" (issue #3214, fixed in v1.1.1).",
		Source: "kubernetes-sigs/gateway-api#3214, #3215 (v1.1.1); CRD v1.1.0 x-kubernetes-validations"}
	gw007 = &Rule{ID: "GW-007", Severity: Warn, Kinds: gwAllKinds, Family: gwFamily,
		Title: "absoluteTimeout on a cookie that is not Permanent: implementations differ on what it does",
		Fix:   "use lifetimeType: Permanent to expire the cookie, or drop absoluteTimeout",
		Explain: "GEP-1619: with Session the gateway must track the lifetime itself. Envoy Gateway issues a session " +
			"cookie and ignores absoluteTimeout; kgateway and NGINX Gateway Fabric set Max-Age/expires when no " +
			"lifetimeType is given.",
		Source: "GEP-1619 Expires/Max-Age; Envoy Gateway route.go; kgateway builtin.go convertSessionPersistence; NGF route_common.go"}
	gw008 = &Rule{ID: "GW-008", Severity: Warn, Kinds: gwAllKinds, Family: gwFamily,
		Title:  "a Permanent cookie with a zero absoluteTimeout expires at once",
		Fix:    "set a positive absoluteTimeout, or use lifetimeType: Session",
		Source: "GEP-1619 (Permanent: absoluteTimeout sets Expires/Max-Age); RFC 6265 §5.2.2 (Max-Age=0 expires the cookie)"}
	gw009 = &Rule{ID: "GW-009", Severity: Warn, Kinds: gwRouteKinds, Family: gwFamily,
		Title: "cookie session persistence without sessionName (v1.1-v1.6): the cookie name is implementation-defined",
		Fix:   "set sessionName to a cookie name unique on the host",
		Explain: "Envoy Gateway derives a name per route rule, kgateway uses \"sessionPersistence\" for every rule, and " +
			"NGINX Gateway Fabric writes no sticky directive (no persistence). From v1.7 a missing cookie.name is " +
			"generated per GEP-1619 and not reported.",
		Source: "Envoy Gateway route.go; kgateway builtin.go (ptr.Deref SessionName \"sessionPersistence\"); NGF upstreams_template.go"}
	gw011 = &Rule{ID: "GW-011", Severity: Warn, Kinds: gwAllKinds, Family: gwFamily,
		Title: "route and XBackendTrafficPolicy sessionPersistence are deprecated since Gateway API v1.7.0 (GEP-4894)",
		Fix:   "move it to an XBackend (type EndpointSelector) and route to that",
		Explain: "The v1.7.0 CRDs describe both fields as \"Deprecated: use the Backend resource for session persistence " +
			"(GEP-4894)\"; GEP-1619 says they will be removed once Backend session persistence reaches Standard.",
		Source: "sigs.k8s.io/gateway-api v1.7.0 CRDs (httproutes, grpcroutes, xbackendtrafficpolicies); GEP-1619, GEP-4894"}
)

var gatewayRules = []*Rule{gw001, gw002, gw003, gw004, gw005, gw006, gw007, gw008, gw009, gw011,
	gwx001, gwx002, gwx003, gwx004, gwx005, gwx006, gwx007}

// installedShape is the sessionPersistence shape of the installed CRDs as
// far as it is known: the bundle's, else the one the field has where it
// exists for the bundle's version (pruning is then certain either way).
func installedShape(b apis.GatewayBundle) apis.PersistenceShape {
	if b.Shape != apis.ShapeUnknown {
		return b.Shape
	}
	s, _, _ := apis.ExperimentalShape(b.Version)
	return s
}

// idleTimeoutPruned reports whether the installed CRDs certainly lack
// idleTimeout.
func idleTimeoutPruned(b apis.GatewayBundle) bool {
	switch installedShape(b) {
	case apis.ShapeV2, apis.ShapeNone:
		return true
	case apis.ShapeV1:
		if b.Shape == apis.ShapeV1 {
			return !b.IdleTimeout
		}
		_, idle, _ := apis.ExperimentalShape(b.Version)
		return !idle
	}
	return false
}

// shapeOf is the shape sp is read in: the installed one, else the shape
// of the manifest's own keys (unknown when it has both or neither).
func shapeOf(b apis.GatewayBundle, sp *apis.SessionPersistence) apis.PersistenceShape {
	if s := installedShape(b); s != apis.ShapeUnknown {
		return s
	}
	switch v1, v2 := sp.HasV1Keys(), sp.HasV2Keys(); {
	case v2 && !v1:
		return apis.ShapeV2
	case v1 && !v2:
		return apis.ShapeV1
	}
	return apis.ShapeUnknown
}

// preV17 reports whether GEP-1619's v1.1–v1.6 semantics apply: the
// installed shape is v1.1–v1.6, or unknown while the manifest has no v1.7
// key (a v1.7 object without cookie or header is rejected).
func preV17(b apis.GatewayBundle, sp *apis.SessionPersistence) bool {
	s := installedShape(b)
	return s == apis.ShapeV1 || (s == apis.ShapeUnknown && !sp.HasV2Keys())
}

// spType is the persistence type after defaulting (Cookie).
func spType(sp *apis.SessionPersistence) string {
	if sp.Type == nil {
		return apis.PersistenceCookie
	}
	return *sp.Type
}

// cookieName is the cookie name sp sets in shape s ("" when none) and its
// path under p.
func cookieName(sp *apis.SessionPersistence, s apis.PersistenceShape, p *field.Path) (string, *field.Path) {
	v2 := func() (string, *field.Path) {
		if sp.Cookie != nil && sp.Cookie.Name != nil {
			return *sp.Cookie.Name, p.Child("cookie", "name")
		}
		return "", p.Child("cookie")
	}
	v1 := func() (string, *field.Path) {
		if sp.SessionName != nil {
			return *sp.SessionName, p.Child("sessionName")
		}
		return "", p
	}
	switch s {
	case apis.ShapeV2:
		return v2()
	case apis.ShapeV1:
		return v1()
	}
	if n, np := v2(); n != "" {
		return n, np
	}
	return v1()
}

// lifetime is the cookie lifetimeType in shape s after defaulting
// (Session when the cookie/cookieConfig object is present), "" when unset,
// with the path to report it at.
func lifetime(sp *apis.SessionPersistence, s apis.PersistenceShape, p *field.Path) (string, *field.Path) {
	if sp.Cookie != nil && s != apis.ShapeV1 {
		if sp.Cookie.LifetimeType != nil {
			return *sp.Cookie.LifetimeType, p.Child("cookie", "lifetimeType")
		}
		return apis.LifetimeSession, p.Child("cookie")
	}
	if sp.CookieConfig != nil && s != apis.ShapeV2 {
		if sp.CookieConfig.LifetimeType != nil {
			return *sp.CookieConfig.LifetimeType, p.Child("cookieConfig", "lifetimeType")
		}
		return apis.LifetimeSession, p.Child("cookieConfig")
	}
	return "", p.Child("absoluteTimeout")
}

// bundleName names the installed bundle in messages.
func bundleName(b apis.GatewayBundle) string {
	if b.Version != "" {
		return clipTo(b.Version, 20)
	}
	return "installed"
}

// checkPersistence files the live rules about one sessionPersistence
// (GW-004, GW-007, GW-008, and GW-009 on routes).
func checkPersistence(f *findings, p *field.Path, sp *apis.SessionPersistence, b apis.GatewayBundle, route bool) {
	s := shapeOf(b, sp)
	if sp.IdleTimeout != nil && !idleTimeoutPruned(b) {
		f.warn(gw004, p.Child("idleTimeout"), clipValue(*sp.IdleTimeout),
			"no implementation honours idleTimeout; Envoy Gateway v1.2-v1.8 rejects the rule (UnsupportedValue)")
	}
	if spType(sp) != apis.PersistenceCookie {
		return
	}
	lt, ltPath := lifetime(sp, s, p)
	if sp.AbsoluteTimeout != nil {
		at := *sp.AbsoluteTimeout
		d, err := apis.ParseGatewayDuration(at)
		switch {
		case err != nil: // the CRD rejects it (GW-001)
		case lt == apis.LifetimePermanent:
			if d == 0 {
				f.warn(gw008, p.Child("absoluteTimeout"), clipValue(at),
					"a zero absoluteTimeout gives the Permanent cookie Max-Age=0: browsers drop it at once")
			}
		case lt == "":
			f.warn(gw007, ltPath, clipValue(at), "without lifetimeType Permanent: Envoy Gateway ignores it (session cookie), "+
				"kgateway and NGF set Max-Age")
		case lt == apis.LifetimeSession:
			f.warn(gw007, ltPath, lt, "a Session cookie gets no Expires/Max-Age; whether the gateway enforces absoluteTimeout varies")
		}
	}
	if route && s != apis.ShapeV2 && preV17(b, sp) {
		if name, _ := cookieName(sp, apis.ShapeV1, p); name == "" {
			f.warn(gw009, p, nil, "no sessionName: Envoy Gateway derives a name per rule, kgateway uses "+
				"\"sessionPersistence\" for all, NGINX Gateway Fabric configures no persistence")
		}
	}
}

// validateRouteGateway holds the live sessionPersistence rules of a route.
func validateRouteGateway(r, _ *apis.Route, ctx *Context) (field.ErrorList, Warnings) {
	b := ctx.Related.Gateway.Bundle
	if installedShape(b) == apis.ShapeNone {
		return nil, nil
	}
	var f findings
	rules := field.NewPath("spec", "rules")
	var persistent []int
	for i := range r.Spec.Rules {
		if sp := r.Spec.Rules[i].SessionPersistence; sp != nil {
			persistent = append(persistent, i)
			checkPersistence(&f, rules.Index(i).Child("sessionPersistence"), sp, b, true)
		}
	}
	if len(persistent) > 0 && b.AtLeast(1, 7, 0) {
		detail := "deprecated since Gateway API v1.7.0: use the Backend resource for session persistence (GEP-4894)"
		if n := len(persistent); n > 1 {
			detail += "; " + strconv.Itoa(n) + " rules set it"
		}
		f.warn(gw011, rules.Index(persistent[0]).Child("sessionPersistence"), nil, detail)
	}
	routeCookieClashes(&f, r, ctx)
	routeZeroWeights(&f, r, b)
	routeBackendPolicies(&f, r, ctx)
	routeServiceAffinity(&f, r, ctx)
	return f.result()
}

// validateRouteGatewayOffline holds what the API server rejects or drops
// before admission (GW-001, GW-002, GW-003, GW-005, GW-006).
func validateRouteGatewayOffline(r, _ *apis.Route, ctx *Context) (field.ErrorList, Warnings) {
	b := ctx.Related.Gateway.Bundle
	var f findings
	rules := field.NewPath("spec", "rules")
	for i := range r.Spec.Rules {
		if sp := r.Spec.Rules[i].SessionPersistence; sp != nil {
			checkPersistenceAPI(&f, rules.Index(i).Child("sessionPersistence"), sp, b, true)
		}
	}
	return f.result()
}

// validateBackendPolicyGateway holds the live sessionPersistence rules of
// an XBackendTrafficPolicy or BackendLBPolicy.
func validateBackendPolicyGateway(p, _ *apis.BackendPolicy, ctx *Context) (field.ErrorList, Warnings) {
	b := ctx.Related.Gateway.Bundle
	sp := p.Spec.SessionPersistence
	if sp == nil || installedShape(b) == apis.ShapeNone {
		return nil, nil
	}
	var f findings
	path := field.NewPath("spec", "sessionPersistence")
	checkPersistence(&f, path, sp, b, false)
	if b.AtLeast(1, 7, 0) {
		f.warn(gw011, path, nil, "deprecated since Gateway API v1.7.0: use the Backend resource for session persistence (GEP-4894)")
	}
	policyRouteChecks(&f, p, ctx)
	return f.result()
}

// validateBackendPolicyGatewayOffline is validateRouteGatewayOffline for a
// policy's spec.sessionPersistence.
func validateBackendPolicyGatewayOffline(p, _ *apis.BackendPolicy, ctx *Context) (field.ErrorList, Warnings) {
	sp := p.Spec.SessionPersistence
	if sp == nil {
		return nil, nil
	}
	var f findings
	checkPersistenceAPI(&f, field.NewPath("spec", "sessionPersistence"), sp, ctx.Related.Gateway.Bundle, false)
	return f.result()
}

// checkPersistenceAPI files what the installed CRDs make of one
// sessionPersistence: a field they lack (GW-002, GW-003, GW-005), then
// their OpenAPI and CEL checks (GW-001, GW-006).
func checkPersistenceAPI(f *findings, p *field.Path, sp *apis.SessionPersistence, b apis.GatewayBundle, route bool) {
	inst := installedShape(b)
	if inst == apis.ShapeNone {
		if !route {
			return
		}
		detail := "not in the installed standard-channel CRDs (" + bundleName(b) + "): dropped (kubectl: rejected), so no stickiness"
		if b.Channel != apis.ChannelStandard {
			detail = "not in Gateway API " + bundleName(b) + " CRDs (added in v1.1.0, experimental channel): dropped (kubectl: rejected)"
		}
		f.forbidden(gw002, p, detail)
		return
	}
	if sp.IdleTimeout != nil && idleTimeoutPruned(b) {
		f.forbidden(gw003, p.Child("idleTimeout"), "removed in Gateway API v1.6.0: the installed "+bundleName(b)+
			" CRDs drop it (kubectl: rejected), and no implementation honours it")
	}
	checkShapeMismatch(f, p, sp, b, inst)
	before := len(f.errs)
	checkPersistenceSchema(f, p, sp, b, inst)
	if len(f.errs) == before {
		checkPersistenceCEL(f, p, sp, b)
	}
}

// checkShapeMismatch files GW-005: keys of the other shape than the
// installed one (a warning when the installed shape is unknown and the
// manifest mixes both).
func checkShapeMismatch(f *findings, p *field.Path, sp *apis.SessionPersistence, b apis.GatewayBundle, inst apis.PersistenceShape) {
	switch inst {
	case apis.ShapeV1:
		for _, k := range []struct {
			set  bool
			name string
		}{{sp.Cookie != nil, "cookie"}, {sp.Header != nil, "header"}} {
			if k.set {
				f.forbidden(gw005, p.Child(k.name), "a v1.7 field: the installed "+bundleName(b)+
					" CRDs (sessionName shape) drop it (kubectl: rejected)")
			}
		}
	case apis.ShapeV2:
		for _, k := range []struct {
			set        bool
			name, repl string
		}{{sp.SessionName != nil, "sessionName", "cookie.name/header.name"}, {sp.CookieConfig != nil, "cookieConfig", "cookie"}} {
			if k.set {
				f.forbidden(gw005, p.Child(k.name), "replaced by "+k.repl+" in v1.7: the installed "+
					bundleName(b)+" CRDs drop it (kubectl: rejected)")
			}
		}
	case apis.ShapeUnknown:
		if sp.HasV1Keys() && sp.HasV2Keys() {
			f.warn(gw005, p, nil, "mixes v1.6 keys (sessionName/cookieConfig) and v1.7 keys (cookie/header); the CRDs keep one set")
		}
	}
}

// checkPersistenceSchema mirrors the OpenAPI checks of every field the
// installed CRDs keep (both shapes' fields while the shape is unknown: a
// bad value is rejected where its field exists and dropped elsewhere).
func checkPersistenceSchema(f *findings, p *field.Path, sp *apis.SessionPersistence, b apis.GatewayBundle, inst apis.PersistenceShape) {
	if sp.Type != nil && *sp.Type != apis.PersistenceCookie && *sp.Type != apis.PersistenceHeader {
		f.notSupported(gw001, p.Child("type"), clipValue(*sp.Type), []string{apis.PersistenceCookie, apis.PersistenceHeader},
			`type must be "Cookie" or "Header"`)
	}
	gwDuration(f, p.Child("absoluteTimeout"), sp.AbsoluteTimeout)
	if inst == apis.ShapeV1 || inst == apis.ShapeUnknown {
		if !idleTimeoutPruned(b) {
			gwDuration(f, p.Child("idleTimeout"), sp.IdleTimeout)
		}
		if sp.SessionName != nil {
			gwMaxLen(f, p.Child("sessionName"), *sp.SessionName, gwSessionNameMax)
		}
		if sp.CookieConfig != nil {
			gwLifetimeEnum(f, p.Child("cookieConfig", "lifetimeType"), sp.CookieConfig.LifetimeType)
		}
	}
	if inst == apis.ShapeV2 || inst == apis.ShapeUnknown {
		if c := sp.Cookie; c != nil {
			if c.Name != nil {
				gwToken(f, p.Child("cookie", "name"), *c.Name)
			}
			if c.Path != nil {
				gwMaxLen(f, p.Child("cookie", "path"), *c.Path, gwCookiePathMax)
			}
			gwLifetimeEnum(f, p.Child("cookie", "lifetimeType"), c.LifetimeType)
		}
		if h := sp.Header; h != nil {
			if h.Name == nil {
				f.required(gw001, p.Child("header", "name"), "header.name is required when header is set")
			} else {
				gwToken(f, p.Child("header", "name"), *h.Name)
			}
		}
	}
}

// checkPersistenceCEL mirrors the CRD's x-kubernetes-validations, evaluated
// after defaulting (type Cookie, lifetimeType Session). They need the
// experimental channel's shape for certain (Bundle.Shape).
func checkPersistenceCEL(f *findings, p *field.Path, sp *apis.SessionPersistence, b apis.GatewayBundle) {
	const permanentMsg = "AbsoluteTimeout must be specified when cookie lifetimeType is Permanent"
	typ := spType(sp)
	switch b.Shape {
	case apis.ShapeV1:
		maj, min, patch, _ := apis.ParseBundleVersion(b.Version)
		if maj == 1 && min == 1 && patch == 0 && sp.CookieConfig == nil && sp.AbsoluteTimeout == nil {
			f.forbidden(gw006, p, "v1.1.0 CEL bug: no cookieConfig is rejected as \""+permanentMsg+"\"")
		}
		if c := sp.CookieConfig; c != nil && c.LifetimeType != nil && *c.LifetimeType == apis.LifetimePermanent && sp.AbsoluteTimeout == nil {
			f.invalid(gw001, p, "object", permanentMsg)
		}
		if sp.CookieConfig != nil && typ != apis.PersistenceCookie && b.AtLeast(1, 5, 0) {
			f.invalid(gw001, p, "object", "cookieConfig can only be set with type Cookie")
		}
	case apis.ShapeV2:
		if lt, _ := lifetime(sp, apis.ShapeV2, p); lt == apis.LifetimePermanent && sp.AbsoluteTimeout == nil {
			f.invalid(gw001, p, "object", permanentMsg)
		}
		switch {
		case sp.Cookie != nil && typ != apis.PersistenceCookie:
			f.invalid(gw001, p, "object", "cookie must be nil if type is not Cookie")
		case sp.Cookie == nil && typ == apis.PersistenceCookie:
			f.invalid(gw001, p, "object", "cookie must be specified for Cookie type (type defaults to Cookie; cookie: {} will do)")
		}
		switch {
		case sp.Header != nil && typ != apis.PersistenceHeader:
			f.invalid(gw001, p, "object", "header must be nil if type is not Header (type defaults to Cookie)")
		case sp.Header == nil && typ == apis.PersistenceHeader:
			f.invalid(gw001, p, "object", "header must be specified for Header type")
		}
	}
}

func gwDuration(f *findings, p *field.Path, v *string) {
	if v == nil {
		return
	}
	if _, err := apis.ParseGatewayDuration(*v); err != nil {
		f.invalid(gw001, p, clipValue(*v), "must match "+apis.GatewayDurationPattern+" (GEP-2257 duration, e.g. 10s or 1h30m)")
	}
}

func gwLifetimeEnum(f *findings, p *field.Path, v *string) {
	if v != nil && *v != apis.LifetimePermanent && *v != apis.LifetimeSession {
		f.notSupported(gw001, p, clipValue(*v), []string{apis.LifetimePermanent, apis.LifetimeSession},
			`lifetimeType must be "Permanent" or "Session"`)
	}
}

// gwMaxLen is an OpenAPI maxLength check (counted in characters).
func gwMaxLen(f *findings, p *field.Path, v string, limit int) {
	if n := utf8.RuneCountInString(v); n > limit {
		f.report(gw001, p, nil, fmt.Sprintf("may not be more than %d characters (has %d)", limit, n),
			func(msg string) *field.Error {
				e := field.TooLongCharacters(p, v, limit)
				e.Detail = msg
				return e
			})
	}
}

// gwToken checks a v1.7 CookieName/HeaderName: 1–256 token characters.
func gwToken(f *findings, p *field.Path, v string) {
	switch {
	case v == "":
		f.invalid(gw001, p, v, "must be at least 1 character long")
	case utf8.RuneCountInString(v) > gwNameMax:
		gwMaxLen(f, p, v, gwNameMax)
	case !apis.IsGatewayToken(v):
		f.invalid(gw001, p, clipValue(v), "must be a token: letters, digits and !#$%&'*+-.^_`|~ only (no space, /, :, =, ;)")
	}
}
