package migrate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/validators"
)

// serviceWriter writes one object per backend Service: an Istio
// DestinationRule, a GKE GCPBackendPolicy, or Traefik annotations on the
// Service. Like ingress-nginx's upstream (one per Service port), a Service
// takes its settings from the first Ingress that routes to it.
type serviceWriter struct {
	m       *migration
	col     Column
	entries []*svcEntry
	by      map[string]*svcEntry
	build   func(w *serviceWriter, e *svcEntry) (Object, bool)
	// noNamespace: a DestinationRule host assumed namespace default.
	noNamespace bool
}

// svcEntry is one Service and the Ingress whose settings it gets.
type svcEntry struct {
	ns, name string
	owner    *ingress
	paths    []string // cookie paths of the owner's locations on it
}

func newIstioWriter(m *migration) writer {
	return &serviceWriter{m: m, col: ColIstio, by: map[string]*svcEntry{}, build: (*serviceWriter).destinationRule}
}

func newGKEWriter(m *migration) writer {
	return &serviceWriter{m: m, col: ColGKE, by: map[string]*svcEntry{}, build: (*serviceWriter).gcpPolicy}
}

func newTraefikWriter(m *migration) writer {
	return &serviceWriter{m: m, col: ColTraefik, by: map[string]*svcEntry{}, build: (*serviceWriter).traefikService}
}

func (w *serviceWriter) column(*nginxConf) Column { return w.col }

func (w *serviceWriter) add(in *ingress, sites []*site, _ Column) {
	for _, s := range sites {
		w.use(in, s.service, in.conf.cookiePath(s.path))
		if cs := s.canary; cs != nil && !cs.legacy && in.conf.Cookie() {
			w.use(in, cs.service, in.conf.cookiePath(s.path))
		}
	}
}

// use records that the Ingress routes a location to a Service.
func (w *serviceWriter) use(in *ingress, svc, path string) {
	key := in.ing.Namespace + "/" + svc
	e := w.by[key]
	if e == nil {
		e = &svcEntry{ns: in.ing.Namespace, name: svc, owner: in}
		w.by[key] = e
		w.entries = append(w.entries, e)
	}
	if e.owner != in {
		if e.owner.conf.differs(in.conf) && !in.shared {
			in.shared = true
			in.rep.demote(fmt.Sprintf("Service %s holds the settings of Ingress %s (ingress-nginx also kept one config per Service, NGX-023)", svc, e.owner.ing.Name))
		}
		return
	}
	if !slices.Contains(e.paths, path) {
		e.paths = append(e.paths, path)
	}
}

func (w *serviceWriter) objects() []Object {
	var out []Object
	for _, e := range w.entries {
		if o, ok := w.build(w, e); ok {
			out = append(out, o)
			e.owner.rep.Outputs = append(e.owner.rep.Outputs, str(o.Body, "kind")+"/"+qualified(e.ns, str(o.Body, "metadata", "name")))
		}
	}
	if w.noNamespace {
		w.m.rep.Notes = append(w.m.rep.Notes, Note{Message: "Ingresses without a namespace: DestinationRule hosts name namespace default (<service>.default.svc.cluster.local); apply them there or edit the host."})
	}
	return out
}

// path is the one cookie Path a per-Service object can hold: the common
// prefix of the owner's locations on the Service.
func (w *serviceWriter) path(e *svcEntry) string {
	p := validators.NginxCommonPrefix(e.paths)
	if len(e.paths) > 1 {
		e.owner.rep.refine(pathAspect(e.owner), Approximate, fmt.Sprintf("Service %s is reached by paths %s: one Path for all, their common prefix %s", e.name, strings.Join(e.paths, ", "), p))
	}
	return p
}

// destinationRule is the Istio DestinationRule for a Service.
func (w *serviceWriter) destinationRule(e *svcEntry) (Object, bool) {
	c := e.owner.conf
	ch := map[string]any{}
	if c.Cookie() {
		ttl := "0s"
		if n, ok := c.lifetime(); ok {
			ttl = strconv.FormatInt(n, 10) + "s"
		}
		cookie := map[string]any{"name": c.Name, "path": w.path(e), "ttl": ttl}
		var attrs []any
		if c.SameSite != "" {
			attrs = append(attrs, map[string]any{"name": "SameSite", "value": sameSite(c.SameSite)})
		}
		if c.Secure {
			attrs = append(attrs, map[string]any{"name": "Secure"})
		}
		if c.Domain != "" {
			attrs = append(attrs, map[string]any{"name": "Domain", "value": c.Domain})
		}
		if len(attrs) > 0 {
			cookie["attributes"] = attrs
		}
		ch["httpCookie"] = cookie
	} else {
		kind, name, ok := hashKey(c.hashBy)
		if !ok {
			e.owner.rep.hashLost(c.hashBy, "Istio")
			return Object{}, false
		}
		field := "useSourceIp"
		switch kind {
		case hashHeader:
			field, ch["httpHeaderName"] = "httpHeaderName", name
		case hashCookie:
			field, ch["httpCookie"] = "httpCookie", map[string]any{"name": name}
		case hashQuery:
			field, ch["httpQueryParameterName"] = "httpQueryParameterName", name
		default:
			ch["useSourceIp"] = true
		}
		e.owner.rep.refine(AspHashBy, Exact, "consistentHash."+field+hashWhat(kind, name))
	}
	ns := e.ns
	if ns == "" {
		ns = "default"
		w.noNamespace = true
	}
	return Object{Body: map[string]any{
		"apiVersion": apis.GroupIstio + "/v1", "kind": apis.KindDestinationRule,
		"metadata": meta(e.ns, e.name),
		"spec": map[string]any{
			"host":          e.name + "." + ns + ".svc.cluster.local",
			"trafficPolicy": map[string]any{"loadBalancer": map[string]any{"consistentHash": ch}},
		},
	}}, true
}

// gcpPolicy is the GKE GCPBackendPolicy for a Service.
func (w *serviceWriter) gcpPolicy(e *svcEntry) (Object, bool) {
	c := e.owner.conf
	sa := map[string]any{}
	if c.Cookie() {
		ttl, _ := c.lifetime()
		if ttl < 0 {
			ttl = 0
		}
		if ttl > validators.GCPMaxCookieTTL {
			e.owner.rep.refine(ttlAspect(c), Approximate, fmt.Sprintf("%d s is over GKE's cookieTtlSec maximum: clamped to %d (14 days); the API server rejects more (GGW-004)", ttl, validators.GCPMaxCookieTTL))
			ttl = validators.GCPMaxCookieTTL
		}
		sa["type"], sa["cookieTtlSec"] = "GENERATED_COOKIE", ttl
	} else {
		kind, _, ok := hashKey(c.hashBy)
		if !ok || kind != hashIP {
			e.owner.rep.refine(AspHashBy, Lost, "key "+c.hashBy+" has no GKE equivalent: only the client address (CLIENT_IP) maps")
			return Object{}, false
		}
		e.owner.rep.refine(AspHashBy, Approximate, "sessionAffinity CLIENT_IP: the client address the load balancer sees")
		sa["type"] = "CLIENT_IP"
	}
	return Object{Body: map[string]any{
		"apiVersion": apis.GroupGKENetworking + "/v1", "kind": apis.KindGCPBackendPolicy,
		"metadata": meta(e.ns, e.name),
		"spec": map[string]any{
			"targetRef": map[string]any{"group": "", "kind": "Service", "name": e.name},
			"default":   map[string]any{"sessionAffinity": sa},
		},
	}}, true
}

// traefikPrefix is the Traefik Ingress provider's sticky-cookie annotation
// on a Service.
const traefikPrefix = "traefik.ingress.kubernetes.io/service.sticky.cookie"

// traefikService is the Service with Traefik's sticky annotations: the
// input's Service when it has one, else a metadata-only object.
func (w *serviceWriter) traefikService(e *svcEntry) (Object, bool) {
	c := e.owner.conf
	if !c.Cookie() {
		return Object{}, false // upstream-hash-by: lost (the items say so)
	}
	ann := map[string]any{traefikPrefix: "true", traefikPrefix + ".httponly": "true", traefikPrefix + ".path": w.path(e)}
	name := token(c.Name)
	if name != c.Name {
		e.owner.rep.refine(AspName, Approximate, fmt.Sprintf("renamed %s to %s: / and : are not allowed in a cookie name", c.Name, name))
	}
	ann[traefikPrefix+".name"] = name
	if c.Secure {
		ann[traefikPrefix+".secure"] = "true"
	}
	if c.SameSite != "" {
		ann[traefikPrefix+".samesite"] = strings.ToLower(c.SameSite)
	}
	if n, ok := c.lifetime(); ok {
		ann[traefikPrefix+".maxage"] = strconv.FormatInt(n, 10)
	}
	if c.Domain != "" {
		ann[traefikPrefix+".domain"] = c.Domain
	}
	body := w.inputService(e)
	comment := ""
	if body == nil {
		body = map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": meta(e.ns, e.name)}
		comment = "Service " + e.name + " is not in the input: apply with kubectl apply --server-side (merges these annotations)"
	}
	annotations := child(child(body, "metadata"), "annotations")
	for k, v := range ann {
		annotations[k] = v
	}
	return Object{Comment: comment, Body: body}, true
}

// inputService copies the input's Service without what the API server
// sets (status, resourceVersion, uid, managedFields, ...).
func (w *serviceWriter) inputService(e *svcEntry) map[string]any {
	for _, r := range w.m.in.Raw {
		if str(r.Object, "apiVersion") != "v1" || str(r.Object, "kind") != "Service" ||
			str(r.Object, "metadata", "name") != e.name || str(r.Object, "metadata", "namespace") != e.ns {
			continue
		}
		body := deepCopyMap(r.Object)
		delete(body, "status")
		md := child(body, "metadata")
		for _, k := range []string{"resourceVersion", "uid", "creationTimestamp", "managedFields", "generation", "selfLink"} {
			delete(md, k)
		}
		return body
	}
	return nil
}

func deepCopyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = deepCopyValue(v)
	}
	return out
}

func deepCopyValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return deepCopyMap(t)
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = deepCopyValue(x)
		}
		return out
	}
	return v
}
