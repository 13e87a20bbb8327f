package migrate

import (
	"fmt"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/validators"
)

// routeWriter writes Gateway API route rules with sessionPersistence, and
// for Envoy Gateway BackendTrafficPolicies, on generated routes or on the
// --onto routes.
type routeWriter struct {
	m       *migration
	shapeV2 bool
	routes  []*genRoute
	byName  map[string]*genRoute
	onto    []*ontoRoute
	btps    []Object
	btpFor  map[string]string // target ns/kind/name -> the Ingress whose config it holds
	names   map[string]bool   // ns/host/cookie name in use
	ruleFor map[string]string // onto route rule -> the Ingress whose config it holds
}

// genRoute is a route this migration writes.
type genRoute struct {
	kind, ns, name string
	host           string
	rules          []any
}

// ontoRoute is a route of the --onto file.
type ontoRoute struct {
	raw   *RawObject
	route *apis.Route
}

func newRouteWriter(m *migration) *routeWriter {
	w := &routeWriter{m: m, byName: map[string]*genRoute{}, btpFor: map[string]string{}, names: map[string]bool{},
		ruleFor: map[string]string{}}
	w.shapeV2 = m.bundle.shape == apis.ShapeV2 && (m.opts.Target == GatewayAPI || m.bundle.explicit)
	for i := range m.opts.Onto {
		r := &m.opts.Onto[i]
		kind := str(r.Object, "kind")
		if !strings.HasPrefix(str(r.Object, "apiVersion"), apis.GroupGateway+"/") || (kind != apis.KindHTTPRoute && kind != apis.KindGRPCRoute) {
			continue
		}
		route, err := decodeRoute(r.Object)
		if err != nil {
			continue
		}
		w.onto = append(w.onto, &ontoRoute{raw: r, route: route})
		w.reserveNames(route)
	}
	return w
}

// reserveNames records the cookie names --onto routes already use.
func (w *routeWriter) reserveNames(r *apis.Route) {
	for _, rule := range r.Spec.Rules {
		sp := rule.SessionPersistence
		if sp == nil {
			continue
		}
		for _, n := range []*string{sp.SessionName, cookieName(sp)} {
			if n != nil {
				for _, h := range hostsOf(r) {
					w.names[r.Namespace+"/"+h+"/"+*n] = true
				}
			}
		}
	}
}

func cookieName(sp *apis.SessionPersistence) *string {
	if sp.Cookie == nil {
		return nil
	}
	return sp.Cookie.Name
}

func hostsOf(r *apis.Route) []string {
	if len(r.Spec.Hostnames) == 0 {
		return []string{""}
	}
	return r.Spec.Hostnames
}

func (w *routeWriter) column(c *nginxConf) Column {
	if w.m.opts.Target == EnvoyGateway {
		if c.Cookie() && c.Mode == "persistent" && !c.grpc {
			return ColEnvoyRoute
		}
		return ColEnvoyPolicy
	}
	if w.shapeV2 {
		return ColGatewayV2
	}
	return ColGatewayV1
}

func (w *routeWriter) add(in *ingress, sites []*site, col Column) {
	if col == ColEnvoyPolicy {
		w.addPolicy(in, sites)
		return
	}
	if !in.conf.Cookie() {
		return // upstream-hash-by: lost on Gateway API (the items say so)
	}
	if w.m.bundle.shape == apis.ShapeNone {
		for i := range in.rep.Items {
			in.rep.Items[i].Verdict, in.rep.Items[i].Rule = Lost, mig002.ID
			in.rep.Items[i].Note = "the installed HTTPRoute CRD is standard-channel: sessionPersistence would be pruned"
			in.rep.Items[i].Workaround = "install the experimental-channel CRDs"
		}
		return
	}
	if col == ColEnvoyRoute && w.shapeV2 {
		in.rep.refine(AspName, Exact, "cookie.name (the v1.7 shape chosen with --gateway-api; Envoy Gateway v1.9 reads the v1.6 shape, so check your release reads cookie.name)")
	}
	if in.conf.grpc && col != ColEnvoyRoute {
		in.rep.refine(AspAffinity, Exact, Lookup(AspAffinity, col).Note+"; on a GRPCRoute, which Envoy Gateway ignores (--to envoy-gateway writes a policy instead)")
	}
	if w.m.opts.OntoSet {
		w.addOnto(in, sites, col)
		return
	}
	for _, s := range sites {
		w.addGenerated(s, col)
	}
}

// addGenerated writes one rule for the site on the route named as
// ingress2gateway names it.
func (w *routeWriter) addGenerated(s *site, col Column) {
	in := s.in
	kind := apis.KindHTTPRoute
	if in.conf.grpc {
		kind = apis.KindGRPCRoute
	}
	rule := map[string]any{}
	if kind == apis.KindGRPCRoute {
		m, ok := grpcMatch(s.path)
		if !ok {
			w.unmatched(s, "a gRPC path that is not / or /<service>[/<method>]: GRPCRoute matches by method, write this rule by hand")
			return
		}
		if m != nil {
			rule["matches"] = []any{map[string]any{"method": m}}
		}
	} else {
		rule["matches"] = []any{map[string]any{"path": map[string]any{"type": matchType(s), "value": s.path}}}
	}
	if s.port == 0 {
		w.unmatched(s, "port "+strconv.Quote(s.portName)+" is a name and its Service is not in the input: the backendRef needs the number (add the Service to the input)")
		return
	}
	rule["backendRefs"] = w.backendRefs(s)
	name := w.uniqueName(in, s.host, in.conf.Name, col)
	rule["sessionPersistence"] = w.persistence(in, col, name, in.conf.cookiePath(s.path))
	rname := routeName(in.ing.Name, s.host)
	key := in.ing.Namespace + "/" + kind + "/" + rname
	r := w.byName[key]
	if r == nil {
		r = &genRoute{kind: kind, ns: in.ing.Namespace, name: rname, host: s.host}
		w.byName[key] = r
		w.routes = append(w.routes, r)
		in.rep.Outputs = append(in.rep.Outputs, kind+"/"+qualified(r.ns, rname))
	}
	r.rules = append(r.rules, rule)
}

// backendRefs are the site's Service, and its weight canary.
func (w *routeWriter) backendRefs(s *site) []any {
	main := map[string]any{"name": s.service, "port": int64(s.port)}
	cs := s.canary
	if cs == nil || cs.weight == nil {
		return []any{main}
	}
	if cs.port == 0 {
		s.in.rep.refine(AspCanarySticky, Approximate, "the canary Service's port is a name and the Service is not in the input: write the canary backendRef by hand")
		return []any{main}
	}
	main["weight"] = max(cs.total-*cs.weight, 0)
	return []any{main, map[string]any{"name": cs.service, "port": int64(cs.port), "weight": *cs.weight}}
}

func matchType(s *site) string {
	switch {
	case s.pathType == networkingv1.PathTypeExact:
		return "Exact"
	case s.pathType == networkingv1.PathTypeImplementationSpecific && validators.NginxRegexPath(s.path):
		return "RegularExpression"
	}
	return "PathPrefix"
}

// grpcMatch maps an Ingress path of a gRPC backend to a GRPCRoute method
// match: "/" matches every method (nil), "/pkg.Service" a service,
// "/pkg.Service/Method" a method.
func grpcMatch(path string) (map[string]any, bool) {
	p := strings.Trim(path, "/")
	if p == "" {
		return nil, true
	}
	parts := strings.Split(p, "/")
	if len(parts) > 2 || validators.NginxRegexPath(p) || strings.Contains(p, `\`) {
		return nil, false
	}
	m := map[string]any{"type": "Exact", "service": parts[0]}
	if len(parts) == 2 {
		m["method"] = parts[1]
	}
	return m, true
}

// routeName is ingress2gateway's route name: the Ingress name and the host
// with dots as dashes.
func routeName(ingress, host string) string {
	switch {
	case host == "":
		host = "all-hosts"
	case strings.HasPrefix(host, "*."):
		host = "wildcard-" + host[2:]
	}
	return ingress + "-" + strings.ReplaceAll(host, ".", "-")
}

// uniqueName is the cookie name for a rule: an RFC 6265 token on the v1.7
// shape (GW-010), and one the host's other rules do not use (GEP-1619:
// rules must not share a session).
func (w *routeWriter) uniqueName(in *ingress, host, name string, col Column) string {
	base := name
	if col == ColGatewayV2 || w.shapeV2 {
		if t := token(name); t != name {
			in.rep.refine(AspName, Approximate, fmt.Sprintf("renamed %s to %s: cookie.name must be an RFC 6265 token, / and : are not allowed (GW-010)", name, t))
			base = t
		}
	}
	n := base
	for i := 2; w.names[in.ing.Namespace+"/"+host+"/"+n]; i++ {
		n = base + "-" + strconv.Itoa(i)
	}
	if n != base {
		in.rep.refine(AspName, Approximate, fmt.Sprintf("rules on host %q get cookies of their own (%s, %s, ...): GEP-1619 forbids rules sharing a session; ingress-nginx used one name with each location as Path", host, base, n))
	}
	w.names[in.ing.Namespace+"/"+host+"/"+n] = true
	return n
}

// persistence is the sessionPersistence of a rule in the chosen shape.
func (w *routeWriter) persistence(in *ingress, col Column, name, path string) map[string]any {
	sp := map[string]any{"type": apis.PersistenceCookie}
	lifetime := apis.LifetimeSession
	if n, ok := in.conf.lifetime(); ok {
		d, exactD := apis.FormatGatewayDuration(n)
		if !exactD {
			in.rep.refine(ttlAspect(in.conf), Approximate, "longer than the largest GEP-2257 duration: absoluteTimeout is "+d)
		}
		sp["absoluteTimeout"] = d
		lifetime = apis.LifetimePermanent
	}
	if col == ColGatewayV2 || w.shapeV2 {
		sp["cookie"] = map[string]any{"name": name, "path": path, "lifetimeType": lifetime}
		return sp
	}
	sp["sessionName"] = name
	sp["cookieConfig"] = map[string]any{"lifetimeType": lifetime}
	return sp
}

func ttlAspect(c *nginxConf) Aspect {
	if c.maxAge != nil {
		return AspMaxAge
	}
	return AspExpires
}

// token makes a cookie name a token (apis.GatewayTokenPattern, RFC 6265
// cookie-name): each other character becomes "-". Of what ingress-nginx
// allows (BasicCharsRegex) that is / and :.
func token(name string) string {
	return strings.Map(func(r rune) rune {
		if apis.IsGatewayToken(string(r)) {
			return r
		}
		return '-'
	}, name)
}

func (w *routeWriter) unmatched(s *site, reason string) {
	w.m.rep.Unmatched = append(w.m.rep.Unmatched, Unmatched{Namespace: s.in.ing.Namespace, Ingress: s.in.ing.Name,
		Host: s.host, Path: s.path, Backend: backendName(s), Reason: reason})
}

func backendName(s *site) string {
	if s.port != 0 {
		return s.service + ":" + strconv.Itoa(int(s.port))
	}
	if s.portName != "" {
		return s.service + ":" + s.portName
	}
	return s.service
}

func (w *routeWriter) objects() []Object {
	var out []Object
	if w.m.opts.OntoSet {
		for _, r := range w.m.opts.Onto {
			out = append(out, Object{Body: r.Object})
		}
	} else {
		for _, r := range w.routes {
			spec := map[string]any{"rules": r.rules}
			if r.host != "" {
				spec["hostnames"] = []any{r.host}
			}
			out = append(out, Object{Body: map[string]any{
				"apiVersion": apis.GroupGateway + "/v1", "kind": r.kind,
				"metadata": meta(r.ns, r.name), "spec": spec,
			}})
		}
	}
	return append(out, w.btps...)
}

// meta is metadata with a name and, when known, a namespace.
func meta(ns, name string) map[string]any {
	m := map[string]any{"name": name}
	if ns != "" {
		m["namespace"] = ns
	}
	return m
}
