package migrate

// Verdict says how much of an ingress-nginx setting a target keeps.
type Verdict string

// Verdicts.
const (
	// Exact: users see the same behaviour.
	Exact Verdict = "exact"
	// Approximate: the setting is carried, and the note says what changes.
	Approximate Verdict = "approximate"
	// Lost: the target cannot express it; the note says why and the
	// nearest workaround.
	Lost Verdict = "lost"
)

// Column is one mechanism a target carries stickiness with. Envoy Gateway
// has two: route sessionPersistence for affinity-mode persistent on HTTP
// backends, a BackendTrafficPolicy otherwise.
type Column string

// Columns of the mapping table.
const (
	ColGatewayV1   Column = "gateway-api v1.1–v1.6"
	ColGatewayV2   Column = "gateway-api v1.7"
	ColEnvoyRoute  Column = "envoy-gateway route"
	ColEnvoyPolicy Column = "envoy-gateway policy"
	ColIstio       Column = "istio"
	ColGKE         Column = "gke"
	ColTraefik     Column = "traefik"
)

// Columns lists the table's columns in order.
func Columns() []Column {
	return []Column{ColGatewayV1, ColGatewayV2, ColEnvoyRoute, ColEnvoyPolicy, ColIstio, ColGKE, ColTraefik}
}

// Describe says what a column writes.
func (c Column) Describe() string {
	switch c {
	case ColGatewayV1:
		return "HTTPRoute rules with `sessionPersistence.sessionName` / `cookieConfig` (Gateway API v1.1–v1.6 experimental CRDs)"
	case ColGatewayV2:
		return "HTTPRoute rules with `sessionPersistence.cookie.{name,path,lifetimeType}` (Gateway API v1.7 experimental CRDs; the default)"
	case ColEnvoyRoute:
		return "`--to envoy-gateway`, affinity-mode persistent on HTTP backends: HTTPRoute `sessionPersistence` (Envoy stateful session; v1.6 shape, the Gateway API CRDs Envoy Gateway v1.9 installs)"
	case ColEnvoyPolicy:
		return "`--to envoy-gateway`, affinity-mode balanced, gRPC backends and upstream-hash-by: a BackendTrafficPolicy (ConsistentHash) targeting the route"
	case ColIstio:
		return "a DestinationRule per Service (`consistentHash.httpCookie`); Istio ignores route sessionPersistence"
	case ColGKE:
		return "a GCPBackendPolicy per Service (`sessionAffinity.type: GENERATED_COOKIE`)"
	case ColTraefik:
		return "`traefik.ingress.kubernetes.io/service.sticky.cookie*` annotations on each Service (Traefik's Kubernetes Ingress provider)"
	}
	return string(c)
}

// Aspect is one row of the table: an annotation, a value of one, or a
// behaviour ingress-nginx derives without an annotation.
type Aspect string

// Aspects, in table order.
const (
	AspAffinity        Aspect = "affinity: cookie"
	AspBalanced        Aspect = "affinity-mode: balanced (the default)"
	AspPersistent      Aspect = "affinity-mode: persistent"
	AspCanarySticky    Aspect = "affinity-canary-behavior: sticky (the default)"
	AspCanaryLegacy    Aspect = "affinity-canary-behavior: legacy"
	AspName            Aspect = "session-cookie-name"
	AspPath            Aspect = "session-cookie-path"
	AspDefaultPath     Aspect = "cookie Path without session-cookie-path (the Ingress path)"
	AspRegexPath       Aspect = "regex path without session-cookie-path (use-regex)"
	AspDomain          Aspect = "session-cookie-domain"
	AspSameSite        Aspect = "session-cookie-samesite"
	AspConditional     Aspect = "session-cookie-conditional-samesite-none"
	AspSecure          Aspect = "session-cookie-secure"
	AspMaxAge          Aspect = "session-cookie-max-age"
	AspExpires         Aspect = "session-cookie-expires (without max-age)"
	AspNoExpiry        Aspect = "neither expires nor max-age (session cookie)"
	AspChangeOnFailure Aspect = "session-cookie-change-on-failure"
	AspHashBy          Aspect = "upstream-hash-by"
	AspHashBySubset    Aspect = "upstream-hash-by-subset"
)

// Aspects lists the rows in order.
func Aspects() []Aspect {
	return []Aspect{AspAffinity, AspBalanced, AspPersistent, AspCanarySticky, AspCanaryLegacy, AspName, AspPath,
		AspDefaultPath, AspRegexPath, AspDomain, AspSameSite, AspConditional, AspSecure, AspMaxAge, AspExpires,
		AspNoExpiry, AspChangeOnFailure, AspHashBy, AspHashBySubset}
}

// Cell is the table's answer for an aspect on a column.
type Cell struct {
	Verdict Verdict `json:"verdict"`
	// Note says what the target writes and, when not exact, what changes
	// for users.
	Note string `json:"note"`
	// Workaround is the nearest way to keep what is lost (lost only).
	Workaround string `json:"workaround,omitempty"`
}

func exact(note string) Cell      { return Cell{Verdict: Exact, Note: note} }
func approx(note string) Cell     { return Cell{Verdict: Approximate, Note: note} }
func lost(note, work string) Cell { return Cell{Verdict: Lost, Note: note, Workaround: work} }
func row(cells ...Cell) []Cell    { return cells }

// sameForRoutes is the one cell of the three route-based columns (Gateway
// API v1.6, v1.7 and Envoy Gateway's route), followed by the others.
func sameForRoutes(c Cell, others ...Cell) []Cell {
	return append([]Cell{c, c, c}, others...)
}

// Lookup returns the table's cell for an aspect on a column.
func Lookup(a Aspect, c Column) Cell {
	cells := table[a]
	for i, col := range Columns() {
		if col == c && i < len(cells) {
			return cells[i]
		}
	}
	return lost("not mapped", "")
}

const (
	noteHashBalanced  = "hash-based like balanced: adding or removing pods remaps about 1/n of clients (balanced remapped about (n-c)/n on scale-up)"
	noteNoAttrs       = "the API has no cookie attributes; the controller decides"
	workAttrs         = "set it in the application's own cookies, or use --to traefik / envoy-gateway / istio, which can set it"
	workCanaryTraefik = "a TraefikService (weighted, with sticky cookies) keeps users on the canary"
)

// table is the mapping, by aspect, in Columns() order. Every entry cites
// ../shared/GATEWAY-FACTS.md §F; the per-object mapping refines a cell
// (a renamed cookie, a clamped TTL) but never contradicts it.
var table = map[Aspect][]Cell{
	AspAffinity: row(
		exact("type: Cookie on each rule; needs the experimental-channel CRDs and a controller that implements route sessionPersistence"),
		exact("type: Cookie with cookie: {...}; needs the experimental-channel CRDs and a controller that implements route sessionPersistence"),
		exact("Envoy stateful session on the HTTPRoute rule (Envoy Gateway ignores it on GRPCRoute: gRPC backends get the policy instead)"),
		approx("loadBalancer ConsistentHash over a generated cookie: "+noteHashBalanced),
		approx("trafficPolicy.loadBalancer.consistentHash.httpCookie on the Service's host: "+noteHashBalanced),
		approx("sessionAffinity GENERATED_COOKIE: a load-balancer cookie whose name the load balancer chooses; hash-based like balanced"),
		exact("service.sticky.cookie: \"true\" and service.sticky.cookie.httponly: \"true\" (ingress-nginx always sets HttpOnly)"),
	),
	AspBalanced: sameForRoutes(approx("sessions become persistent: no rebalancing when pods are added (the API has no balanced mode)"),
		approx(noteHashBalanced),
		approx(noteHashBalanced),
		approx("GENERATED_COOKIE is hash-based like balanced; how many clients move on scale events is the load balancer's"),
		approx("Traefik's cookie names the server: sessions become persistent, no rebalancing when pods are added"),
	),
	AspPersistent: sameForRoutes(exact("Envoy-based controllers (Envoy Gateway, kgateway, Cilium) encode the chosen endpoint in the cookie, like persistent"),
		approx("used for gRPC backends only: hash-based, scale events remap some clients"),
		approx("hash-based: scale events remap some clients; for true persistence label the Service istio.io/persistent-session: <name> and run istiod with PILOT_ENABLE_PERSISTENT_SESSION_FILTER=true"),
		approx("hash-based; a GCPSessionAffinityPolicy with statefulGeneratedCookie gives true persistence"),
		exact("Traefik's cookie names the server: no rebalancing, like persistent"),
	),
	AspCanarySticky: sameForRoutes(exact("a weight canary becomes weighted backendRefs of one rule; GEP-1619 keeps the session across them, weight 0 included. A header or cookie canary is a rule of its own: approximate"),
		approx("Envoy Gateway hashes a rule's backends as one cluster; whether users stay on the canary, and whether the weights still hold under ConsistentHash (check warns EGW-007), is not documented: test the canary share"),
		lost("the weighted split is chosen per request before hashing: users move between primary and canary", "a VirtualService routing by a header or cookie to the canary instead of by weight"),
		approx("one policy per Service; whether users stay on the canary across the weighted split is not documented: test it"),
		lost("Service annotations stick within each Service only", workCanaryTraefik),
	),
	AspCanaryLegacy: sameForRoutes(lost("rule sessionPersistence covers every backendRef: the canary cannot be left out", "send canary traffic through a rule of its own (a header match) without sessionPersistence"),
		lost("the policy covers every backend of the route: the canary cannot be left out", "route the canary through a route of its own"),
		approx("only the primary Service gets a DestinationRule, so canary requests are not hashed (as legacy)"),
		approx("only the primary Service gets a policy, so canary requests are not sticky (as legacy)"),
		approx("only the primary Service gets the annotations, so canary requests are not sticky (as legacy)"),
	),
	AspName: row(
		exact("sessionName (up to 128 characters)"),
		exact("cookie.name; names with / or : are not RFC 6265 tokens and are renamed (GW-010)"),
		exact("sessionName (Envoy Gateway v1.9 reads the v1.6 shape)"),
		exact("consistentHash.cookie.name"),
		exact("httpCookie.name"),
		lost("the load balancer names its cookie", "change clients or apps that read the cookie by name"),
		exact("service.sticky.cookie.name; names with / or : are renamed"),
	),
	AspPath: row(
		lost("v1.6 has no cookie path; the controller derives it (Envoy Gateway: the route match; kgateway: /)", "install the v1.7 CRDs (cookie.path)"),
		exact("cookie.path"),
		lost("Envoy Gateway derives the Path from the route match (PathPrefix value, or / in later releases)", "make the route match the path you need"),
		lost("BackendTrafficPolicy has no cookie path", "use --to istio or traefik, which set a Path"),
		exact("httpCookie.path"),
		lost("the load balancer sets the Path", "none on GKE"),
		exact("service.sticky.cookie.path"),
	),
	AspDefaultPath: row(
		approx("the controller chooses (Envoy Gateway: the match value; kgateway and the v1.7 GEP: /)"),
		exact("cookie.path set to the Ingress path"),
		approx("Envoy Gateway derives it from the PathPrefix match (the Ingress path); later releases use /"),
		approx("no Path attribute: browsers scope the cookie to the request's directory"),
		exact("httpCookie.path set to the Ingress path (the common prefix when a Service has several)"),
		approx("the load balancer sets the Path"),
		exact("service.sticky.cookie.path set to the Ingress path (the common prefix when a Service has several)"),
	),
	AspRegexPath: row(
		approx("ingress-nginx made the regex the cookie Path, which browsers never send back; the controller's Path (often /) makes affinity work, for a broader scope"),
		approx("ingress-nginx made the regex the cookie Path, which browsers never send back; cookie.path is the regex's literal prefix: affinity now works"),
		approx("ingress-nginx made the regex the cookie Path, which browsers never send back; Envoy Gateway uses the literal prefix or /: affinity now works"),
		approx("ingress-nginx made the regex the cookie Path, which browsers never send back; without a Path the cookie now returns"),
		approx("ingress-nginx made the regex the cookie Path, which browsers never send back; httpCookie.path is the literal prefix: affinity now works"),
		approx("ingress-nginx made the regex the cookie Path, which browsers never send back; the load balancer's cookie now returns"),
		approx("ingress-nginx made the regex the cookie Path, which browsers never send back; the Path is the literal prefix: affinity now works"),
	),
	AspDomain: sameForRoutes(lost("no cookie Domain in the API", workAttrs),
		approx("cookie.attributes Domain"),
		approx("httpCookie.attributes Domain (Istio 1.28+)"),
		lost("the load balancer sets the cookie", "none on GKE"),
		exact("service.sticky.cookie.domain"),
	),
	AspSameSite: sameForRoutes(lost("no SameSite in the API; GEP-1619 recommends controllers default to Strict", workAttrs),
		approx("cookie.attributes SameSite"),
		approx("httpCookie.attributes SameSite (Istio 1.28+)"),
		lost("the load balancer sets the cookie", "none on GKE"),
		exact("service.sticky.cookie.samesite (lower case)"),
	),
	AspConditional: sameForRoutes(lost("no target omits SameSite=None for user agents that reject it", "drop support for those user agents, or use SameSite=Lax"),
		lost("no target omits SameSite=None for user agents that reject it", "drop support for those user agents, or use SameSite=Lax"),
		lost("no target omits SameSite=None for user agents that reject it", "drop support for those user agents, or use SameSite=Lax"),
		lost("no target omits SameSite=None for user agents that reject it", "drop support for those user agents, or use SameSite=Lax"),
		lost("no target omits SameSite=None for user agents that reject it", "drop support for those user agents, or use SameSite=Lax"),
	),
	AspSecure: sameForRoutes(lost("no Secure flag in the API; GEP-1619 recommends controllers set Secure by default", workAttrs),
		approx("cookie.attributes Secure with an empty value: check that Set-Cookie carries Secure"),
		approx("httpCookie.attributes Secure (Istio 1.28+)"),
		lost("the load balancer sets the cookie", "none on GKE"),
		exact("service.sticky.cookie.secure"),
	),
	AspMaxAge: row(
		exact("cookieConfig.lifetimeType: Permanent and absoluteTimeout (GEP-2257 duration)"),
		exact("cookie.lifetimeType: Permanent and absoluteTimeout (GEP-2257 duration)"),
		exact("cookieConfig.lifetimeType: Permanent and absoluteTimeout; Envoy Gateway sets Max-Age"),
		exact("cookie.ttl (Max-Age)"),
		exact("httpCookie.ttl as seconds (\"<N>s\")"),
		exact("cookieTtlSec, at most 1209600 (14 days): longer values are clamped (approximate)"),
		exact("service.sticky.cookie.maxage"),
	),
	AspExpires: row(
		approx("Permanent with absoluteTimeout: whether the controller sends Max-Age or Expires is its choice"),
		approx("Permanent with absoluteTimeout: whether the controller sends Max-Age or Expires is its choice"),
		approx("Permanent with absoluteTimeout: Envoy Gateway sends Max-Age, not Expires"),
		approx("cookie.ttl: Max-Age, not Expires"),
		approx("httpCookie.ttl: Max-Age, not Expires"),
		approx("cookieTtlSec: the load balancer's attribute, not Expires"),
		approx("service.sticky.cookie.maxage: Max-Age, not Expires"),
	),
	AspNoExpiry: row(
		exact("cookieConfig.lifetimeType: Session"),
		exact("cookie.lifetimeType: Session"),
		exact("cookieConfig.lifetimeType: Session"),
		approx("cookie.ttl: 0s (a cookie is generated only with a ttl; 0s makes it a session cookie)"),
		approx("httpCookie.ttl: 0s (a cookie is generated only with a ttl; 0s makes it a session cookie)"),
		exact("cookieTtlSec: 0 (a session cookie)"),
		exact("no maxage: a session cookie"),
	),
	AspChangeOnFailure: sameForRoutes(approx("Envoy's stateful session falls back to another endpoint when the pinned one is unavailable; re-pinning after a failed request, and a strict mode, are not in the API"),
		lost("true: the hash is unchanged, so the next request returns to the same endpoint (false, the default, is exact)", "retries (BackendTrafficPolicy retry) to reach another endpoint for that request"),
		lost("true: the hash is unchanged, so the next request returns to the same endpoint (false, the default, is exact)", "a VirtualService retry policy for that request"),
		lost("no setting", "none on GKE"),
		lost("no setting", "none with Service annotations"),
	),
	AspHashBy: sameForRoutes(lost("GEP-1619 has no hash affinity", "--to envoy-gateway or --to istio, which hash by header, cookie, query parameter or client IP"),
		exact("$http_<h>, $cookie_<c>, $arg_<q>, $remote_addr map to ConsistentHash Headers, Cookie, QueryParams, SourceIP; other keys are lost"),
		exact("$http_<h>, $cookie_<c>, $arg_<q>, $remote_addr map to httpHeaderName, httpCookie, httpQueryParameterName, useSourceIp; other keys are lost"),
		approx("$remote_addr maps to CLIENT_IP (the client address the load balancer sees); other keys are lost"),
		lost("Service annotations have no hash balancing", "Traefik's kubernetesIngressNGINX provider reads upstream-hash-by"),
	),
	AspHashBySubset: sameForRoutes(lost("no subset hashing", "none"),
		lost("no subset hashing: the whole Service is hashed", "none"),
		lost("no subset hashing: the whole Service is hashed", "none"),
		lost("no subset hashing", "none"),
		lost("no subset hashing", "none"),
	),
}
