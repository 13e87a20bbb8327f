package migrate

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/validators"
)

func decodeRoute(obj map[string]any) (*apis.Route, error) {
	js, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	o, err := apis.Decode(str(obj, "apiVersion"), str(obj, "kind"), js)
	if err != nil {
		return nil, err
	}
	r, ok := o.(*apis.Route)
	if !ok {
		return nil, fmt.Errorf("not a route")
	}
	return r, nil
}

// ruleRef is one rule of an --onto route.
type ruleRef struct {
	r   *ontoRoute
	idx int
}

// addOnto adds sessionPersistence to the --onto rules that route the
// Ingress's paths: the rule whose route has the host, whose matches have
// the path (type and value) and whose backendRefs have the Service port.
func (w *routeWriter) addOnto(in *ingress, sites []*site, col Column) {
	groups := map[ruleRef][]*site{}
	var order []ruleRef
	for _, s := range sites {
		r, idx, reason := w.match(s)
		if r == nil {
			w.unmatched(s, reason)
			continue
		}
		k := ruleRef{r, idx}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], s)
	}
	for _, k := range order {
		key := k.r.raw.Source + "/" + strconv.Itoa(k.idx)
		if owner := w.ruleFor[key]; owner != "" {
			in.rep.refine(AspAffinity, Approximate, "a rule of "+k.r.route.Name+" also routes Ingress "+owner+"'s path: that Ingress's settings were kept")
			continue
		}
		w.ruleFor[key] = in.ing.Name
		ss := groups[k]
		var paths []string
		for _, s := range ss {
			if p := in.conf.cookiePath(s.path); !slices.Contains(paths, p) {
				paths = append(paths, p)
			}
		}
		path := validators.NginxCommonPrefix(paths)
		if len(paths) > 1 && col == ColGatewayV2 {
			in.rep.refine(pathAspect(in), Approximate, fmt.Sprintf("one rule of %s routes paths %v: cookie.path is their common prefix %s", k.r.route.Name, paths, path))
		}
		rules, _ := dig(k.r.raw.Object, "spec", "rules").([]any)
		rule, _ := rules[k.idx].(map[string]any)
		if rule["sessionPersistence"] != nil {
			in.rep.refine(AspAffinity, Approximate, "rule "+strconv.Itoa(k.idx)+" of "+k.r.route.Name+" had a sessionPersistence: replaced")
		}
		name := w.uniqueName(in, ss[0].host, in.conf.Name, col)
		rule["sessionPersistence"] = w.persistence(in, col, name, path)
		out := k.r.route.Kind + "/" + qualified(k.r.route.Namespace, k.r.route.Name)
		if !slices.Contains(in.rep.Outputs, out) {
			in.rep.Outputs = append(in.rep.Outputs, out)
		}
	}
}

// pathAspect is the item that says where the Ingress's cookie Path came
// from.
func pathAspect(in *ingress) Aspect {
	if in.conf.Path != "" {
		return AspPath
	}
	for _, it := range in.rep.Items {
		if it.Aspect == AspRegexPath {
			return AspRegexPath
		}
	}
	return AspDefaultPath
}

// match finds the --onto rule of a site, or says why there is none.
func (w *routeWriter) match(s *site) (*ontoRoute, int, string) {
	kind := apis.KindHTTPRoute
	if s.in.conf.grpc {
		kind = apis.KindGRPCRoute
	}
	reason := "no " + kind + " in --onto has hostname " + strconv.Quote(s.host)
	if s.host == "" {
		reason = "no " + kind + " in --onto without hostnames"
	}
	for _, r := range w.onto {
		rt := r.route
		if rt.Kind != kind || (rt.Namespace != "" && s.in.ing.Namespace != "" && rt.Namespace != s.in.ing.Namespace) || !hostMatch(rt, s.host) {
			continue
		}
		reason = kind + " " + rt.Name + " has no rule with this path and backend " + backendName(s)
		for idx, rule := range rt.Spec.Rules {
			if hasBackend(rule, s) && (kind == apis.KindGRPCRoute || hasPath(rule, s)) {
				return r, idx, ""
			}
		}
	}
	return nil, -1, reason
}

func hostMatch(r *apis.Route, host string) bool {
	if host == "" {
		return len(r.Spec.Hostnames) == 0
	}
	return slices.Contains(r.Spec.Hostnames, host)
}

// hasPath: a match with the site's path type and value; a rule without
// matches matches PathPrefix "/".
func hasPath(rule apis.RouteRule, s *site) bool {
	want := matchType(s)
	if len(rule.Matches) == 0 {
		return want == "PathPrefix" && s.path == "/"
	}
	for _, m := range rule.Matches {
		typ, val := "PathPrefix", "/"
		if m.Path != nil {
			if m.Path.Type != nil {
				typ = *m.Path.Type
			}
			if m.Path.Value != nil {
				val = *m.Path.Value
			}
		}
		if typ == want && val == s.path {
			return true
		}
	}
	return false
}

// hasBackend: a Service backendRef with the site's Service (and port, when
// the site's port number is known).
func hasBackend(rule apis.RouteRule, s *site) bool {
	for _, b := range rule.BackendRefs {
		if !b.IsService() || b.Name != s.service {
			continue
		}
		if b.Namespace != nil && *b.Namespace != s.in.ing.Namespace {
			continue
		}
		if s.port == 0 || b.Port == nil || *b.Port == s.port {
			return true
		}
	}
	return false
}
