package migrate

import (
	"regexp"
	"slices"
	"strings"

	"github.com/stickyguard/stickyguard/apis"
)

// hashKey reads an upstream-hash-by value that is one nginx variable a
// target can hash on: $http_<h>, $cookie_<c>, $arg_<q>, $remote_addr or
// $binary_remote_addr (braces allowed).
var hashKeyRe = regexp.MustCompile(`^\$(?:(http|cookie|arg)_([A-Za-z0-9_\-]+)|(binary_remote_addr|remote_addr))$`)

// hashKey kinds.
const (
	hashHeader = "header"
	hashCookie = "cookie"
	hashQuery  = "query"
	hashIP     = "ip"
)

// hashKey returns what the value hashes on, or ok false for keys (such
// as $request_uri, $host or several variables) no target can hash on.
func hashKey(v string) (kind, name string, ok bool) {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "${") && strings.HasSuffix(v, "}") {
		v = "$" + v[2:len(v)-1]
	}
	m := hashKeyRe.FindStringSubmatch(v)
	if m == nil {
		return "", "", false
	}
	switch m[1] {
	case "http":
		// nginx $http_x_user_id reads the header X-User-Id.
		return hashHeader, strings.ReplaceAll(strings.ToLower(m[2]), "_", "-"), true
	case "cookie":
		return hashCookie, m[2], true
	case "arg":
		return hashQuery, m[2], true
	}
	return hashIP, "", true
}

// hashWhat names what is hashed, for the report.
func hashWhat(kind, name string) string {
	switch kind {
	case hashHeader:
		return " on header " + name
	case hashCookie:
		return " on the application's cookie " + name + " (no ttl: the application sets it)"
	case hashQuery:
		return " on query parameter " + name
	}
	return " on the client address"
}

// sameSite writes a SameSite value the way browsers spell it.
func sameSite(v string) string {
	switch strings.ToLower(v) {
	case "none":
		return "None"
	case "lax":
		return "Lax"
	}
	return "Strict"
}

// envoyLoadBalancer is the BackendTrafficPolicy loadBalancer for an
// Ingress, or ok false when nothing can be hashed (the items say why).
func envoyLoadBalancer(in *ingress) (map[string]any, bool) {
	c := in.conf
	ch := map[string]any{}
	if c.Cookie() {
		ttl := "0s"
		if n, ok := c.lifetime(); ok {
			d, exactD := apis.FormatGatewayDuration(n)
			if !exactD {
				in.rep.refine(ttlAspect(c), Approximate, "longer than the largest GEP-2257 duration: ttl is "+d)
			}
			ttl = d
		}
		cookie := map[string]any{"name": c.Name, "ttl": ttl}
		attrs := map[string]any{}
		if c.SameSite != "" {
			attrs["SameSite"] = sameSite(c.SameSite)
		}
		if c.Secure {
			attrs["Secure"] = ""
		}
		if c.Domain != "" {
			attrs["Domain"] = c.Domain
		}
		if len(attrs) > 0 {
			cookie["attributes"] = attrs
		}
		ch["type"], ch["cookie"] = "Cookie", cookie
	} else {
		kind, name, ok := hashKey(c.hashBy)
		if !ok {
			in.rep.hashLost(c.hashBy, "Envoy Gateway")
			return nil, false
		}
		switch kind {
		case hashHeader:
			ch["type"], ch["headers"] = "Headers", []any{map[string]any{"name": name}}
		case hashCookie:
			ch["type"], ch["cookie"] = "Cookie", map[string]any{"name": name}
		case hashQuery:
			ch["type"], ch["queryParams"] = "QueryParams", []any{map[string]any{"name": name}}
		default:
			ch["type"] = "SourceIP"
		}
		in.rep.refine(AspHashBy, Exact, "ConsistentHash "+ch["type"].(string)+hashWhat(kind, name))
	}
	return map[string]any{"type": "ConsistentHash", "consistentHash": ch}, true
}

// addPolicy writes a BackendTrafficPolicy for each route that serves the
// Ingress (the --onto routes, or the routes ingress2gateway would name).
func (w *routeWriter) addPolicy(in *ingress, sites []*site) {
	lb, ok := envoyLoadBalancer(in)
	if !ok {
		return
	}
	type target struct{ kind, ns, name string }
	var targets []target
	for _, s := range sites {
		t := target{apis.KindHTTPRoute, in.ing.Namespace, routeName(in.ing.Name, s.host)}
		if in.conf.grpc {
			t.kind = apis.KindGRPCRoute
		}
		if w.m.opts.OntoSet {
			r, _, reason := w.match(s)
			if r == nil {
				w.unmatched(s, reason)
				continue
			}
			t = target{r.route.Kind, r.route.Namespace, r.route.Name}
			if others := w.otherRules(r, sites); others > 0 {
				in.rep.refine(AspAffinity, Approximate, "ConsistentHash over a generated cookie, for the whole route "+r.route.Name+": its rules that routed no path of this Ingress are hashed too")
			}
		}
		if !slices.Contains(targets, t) {
			targets = append(targets, t)
		}
	}
	for _, t := range targets {
		key := t.ns + "/" + t.kind + "/" + t.name
		if owner := w.btpFor[key]; owner != "" {
			in.rep.refine(AspAffinity, Approximate, "route "+t.name+" already has the policy written for Ingress "+owner+": its settings were kept")
			continue
		}
		w.btpFor[key] = in.ing.Name
		w.btps = append(w.btps, Object{Body: map[string]any{
			"apiVersion": apis.GroupEnvoyGateway + "/v1alpha1", "kind": apis.KindEnvoyBackendTrafficPolicy,
			"metadata": meta(t.ns, t.name),
			"spec": map[string]any{
				"targetRefs":   []any{map[string]any{"group": apis.GroupGateway, "kind": t.kind, "name": t.name}},
				"loadBalancer": lb,
			},
		}})
		in.rep.Outputs = append(in.rep.Outputs, apis.KindEnvoyBackendTrafficPolicy+"/"+qualified(t.ns, t.name))
	}
}

// otherRules counts the rules of an --onto route that route none of the
// sites.
func (w *routeWriter) otherRules(r *ontoRoute, sites []*site) int {
	n := 0
	for _, rule := range r.route.Spec.Rules {
		mine := false
		for _, s := range sites {
			if hasBackend(rule, s) && (s.in.conf.grpc || hasPath(rule, s)) {
				mine = true
				break
			}
		}
		if !mine {
			n++
		}
	}
	return n
}
