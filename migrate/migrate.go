package migrate

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/engine"
	"github.com/stickyguard/stickyguard/policy"
	"github.com/stickyguard/stickyguard/validators"
)

// Target is where the sticky sessions go.
type Target string

// Targets.
const (
	GatewayAPI   Target = "gateway-api"
	EnvoyGateway Target = "envoy-gateway"
	Istio        Target = "istio"
	GKE          Target = "gke"
	Traefik      Target = "traefik"
)

// Targets lists the targets.
func Targets() []Target { return []Target{GatewayAPI, EnvoyGateway, Istio, GKE, Traefik} }

// Options configure a migration.
type Options struct {
	Target Target
	// GatewayAPI is the Gateway API version whose sessionPersistence shape
	// to write ("v1.6.3", "v1.7"); "" means the one the Gateway API CRDs in
	// the input describe, else the target's default.
	GatewayAPI string
	// Onto are the routes (and whatever else) another converter wrote; when
	// set, route-based targets add sessionPersistence to their rules.
	Onto []RawObject
	// OntoSet says --onto was given (an empty file is still --onto).
	OntoSet bool
}

// Input is what was read: the documents as `check` reads them and the same
// documents as raw objects (to find CRDs and copy Services).
type Input struct {
	Docs []engine.Document
	Raw  []RawObject
}

// Result is the migration's output objects and its report.
type Result struct {
	Objects []Object
	Report  *Report
}

// Object is one output object; Comment (optional) is written above it in
// YAML.
type Object struct {
	Comment string
	Body    map[string]any
}

// ingress is one input Ingress with what ingress-nginx makes of it.
type ingress struct {
	ing    *networkingv1.Ingress
	conf   *nginxConf
	source string
	rep    *ObjectReport
	shared bool // a Service it routes to holds another Ingress's settings
}

// site is one Ingress path with affinity: where a rule or policy goes.
type site struct {
	in       *ingress
	host     string
	path     string
	pathType networkingv1.PathType
	service  string
	port     int32  // 0 when only a name is known
	portName string // the Ingress's port name, if it used one
	canary   *canarySite
}

// canarySite is a canary Ingress's backend for the same host and path.
type canarySite struct {
	in      *ingress
	service string
	port    int32
	weight  *int64 // nil for a header or cookie canary
	total   int64
	legacy  bool
}

// Run migrates the Ingresses of in to opts.Target.
func Run(in Input, opts Options) (*Result, error) {
	if !slices.Contains(Targets(), opts.Target) {
		return nil, fmt.Errorf("unknown target %q (want one of %s)", opts.Target, joinTargets())
	}
	if opts.OntoSet && opts.Target != GatewayAPI && opts.Target != EnvoyGateway {
		return nil, fmt.Errorf("--onto applies to route-based targets (gateway-api, envoy-gateway), not %s", opts.Target)
	}
	m, err := newMigration(in, opts)
	if err != nil {
		return nil, err
	}
	return m.run()
}

func joinTargets() string {
	s := make([]string, 0, len(Targets()))
	for _, t := range Targets() {
		s = append(s, string(t))
	}
	return strings.Join(s, ", ")
}

type migration struct {
	opts     Options
	in       Input
	idx      *engine.Index
	pol      *policy.Policy
	services map[string]*corev1.Service // ns/name
	bundle   bundle
	rep      *Report
	ings     []*ingress
	canaries []*ingress
	w        writer
}

// writer builds one target's objects.
type writer interface {
	// column is the mechanism an Ingress is carried with.
	column(c *nginxConf) Column
	// add writes what the Ingress's sites need and refines its items.
	add(in *ingress, sites []*site, col Column)
	// objects returns what was written, in order.
	objects() []Object
}

func newMigration(in Input, opts Options) (*migration, error) {
	m := &migration{opts: opts, in: in, idx: engine.NewIndex(), pol: policy.Default(),
		services: map[string]*corev1.Service{}, rep: &Report{Target: string(opts.Target)}}
	for i := range in.Docs {
		d := &in.Docs[i]
		if d.Object == nil {
			continue
		}
		m.idx.Put(d.Object)
		if svc, ok := d.Object.(*corev1.Service); ok {
			m.services[svc.Namespace+"/"+svc.Name] = svc
		}
	}
	b, err := chooseBundle(opts, in.Docs)
	if err != nil {
		return nil, err
	}
	m.bundle = b
	return m, nil
}

func (m *migration) run() (*Result, error) {
	if err := m.collect(); err != nil {
		return nil, err
	}
	switch m.opts.Target {
	case GatewayAPI, EnvoyGateway:
		m.w = newRouteWriter(m)
	case Istio:
		m.w = newIstioWriter(m)
	case GKE:
		m.w = newGKEWriter(m)
	case Traefik:
		m.w = newTraefikWriter(m)
	}
	sticky := false
	for _, in := range m.ings {
		if in.rep.Skipped != "" {
			continue
		}
		col := m.w.column(in.conf)
		in.rep.Mechanism = col
		in.rep.Items = m.items(in, col)
		sites := m.sites(in)
		m.w.add(in, sites, col)
		sticky = sticky || in.conf.Cookie()
	}
	objs := m.w.objects() // before notes: building them refines the items
	m.notes(sticky)
	m.rep.finish()
	return &Result{Objects: objs, Report: m.rep}, nil
}

// collect finds the ingress-nginx Ingresses with sticky annotations.
func (m *migration) collect() error {
	for i := range m.in.Docs {
		d := &m.in.Docs[i]
		ing, ok := d.Object.(*networkingv1.Ingress)
		if !ok {
			continue
		}
		ctrl, _, err := engine.ResolveController(ing, m.idx, m.pol)
		if err != nil {
			return fmt.Errorf("%s: resolving the class of Ingress %s: %w", d.Source, ing.Name, err)
		}
		in := &ingress{ing: ing, conf: readNginx(ing), source: d.Source}
		in.rep = &ObjectReport{Source: d.Source, Namespace: ing.Namespace, Name: ing.Name, Outputs: []string{}, Items: []Item{}}
		if in.conf.canary {
			m.canaries = append(m.canaries, in)
			continue
		}
		if !in.conf.Cookie() && in.conf.hashBy == "" {
			continue // nothing sticky: not reported
		}
		if ctrl != validators.ControllerUnknown && ctrl != validators.ControllerNginx {
			in.rep.Skipped = fmt.Sprintf("served by %s, not ingress-nginx: its nginx.ingress.kubernetes.io annotations have no effect", ctrl)
		}
		m.ings = append(m.ings, in)
	}
	return nil
}

// notes adds the global findings and copies the per-Ingress reports.
func (m *migration) notes(sticky bool) {
	for _, in := range m.ings {
		m.rep.Objects = append(m.rep.Objects, *in.rep)
	}
	if m.bundle.describe != "" && m.usesRoutes() {
		m.rep.GatewayAPI = m.bundle.describe
	}
	if sticky {
		m.rep.Notes = append(m.rep.Notes, Note{Rule: mig001.ID, Message: mig001.Title})
	}
	if m.usesRoutes() {
		m.rep.Notes = append(m.rep.Notes, Note{Rule: mig002.ID, Message: mig002.Title})
		if m.bundle.shape == apis.ShapeV2 {
			m.rep.Notes = append(m.rep.Notes, Note{Message: "Gateway API v1.7 marks route sessionPersistence deprecated in favour of the Backend resource (GEP-4894); controllers read the route field today, so it is what is written (check warns GW-011)."})
		}
	}
	switch m.opts.Target {
	case Istio:
		m.rep.Notes = append(m.rep.Notes, Note{Rule: mig003.ID, Message: "Istio accepts and ignores route sessionPersistence: DestinationRules are written. Istio keeps one DestinationRule per host: merge trafficPolicy.loadBalancer into an existing one."})
	case EnvoyGateway:
		m.rep.Notes = append(m.rep.Notes, Note{Rule: mig003.ID, Message: "Envoy Gateway ignores sessionPersistence on GRPCRoute: gRPC backends get a BackendTrafficPolicy. affinity-mode persistent on HTTP backends uses route sessionPersistence (Envoy stateful session, like persistent); balanced uses ConsistentHash (like balanced)."})
	case Traefik:
		m.rep.Notes = append(m.rep.Notes, Note{Message: "Services absent from the input are written as metadata-only objects: apply them with kubectl apply --server-side (a client-side apply would drop the Service's other fields)."})
	}
	if !m.opts.OntoSet && m.usesRoutes() {
		m.rep.Notes = append(m.rep.Notes, Note{Message: "Routes are written without parentRefs and hold only the sticky rules: merge them into the routes your converter writes, or pass those with --onto."})
	}
}

// usesRoutes reports whether any Ingress was written as route rules.
func (m *migration) usesRoutes() bool {
	for _, in := range m.ings {
		if c := in.rep.Mechanism; c == ColGatewayV1 || c == ColGatewayV2 || c == ColEnvoyRoute {
			return true
		}
	}
	return false
}

// sites lists an Ingress's HTTP paths (cookie affinity applies to all of
// them), each with its canary when one shares host and path.
func (m *migration) sites(in *ingress) []*site {
	var out []*site
	ing := in.ing
	for _, r := range ing.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for _, p := range r.HTTP.Paths {
			if p.Backend.Service == nil {
				continue // a resource backend: nothing to stick to
			}
			s := &site{in: in, host: r.Host, path: location(p), service: p.Backend.Service.Name}
			if p.PathType != nil {
				s.pathType = *p.PathType
			}
			s.port, s.portName = m.port(ing.Namespace, p.Backend.Service)
			s.canary = m.canaryFor(ing.Namespace, r.Host, s.path)
			out = append(out, s)
		}
	}
	return out
}

// location is an Ingress path as a location: "/" when empty.
func location(p networkingv1.HTTPIngressPath) string {
	if p.Path == "" {
		return "/"
	}
	return p.Path
}

// port resolves a backend's port number, through the Service for a named
// port (0 when the Service is not in the input).
func (m *migration) port(ns string, b *networkingv1.IngressServiceBackend) (int32, string) {
	if b.Port.Number != 0 {
		return b.Port.Number, ""
	}
	if svc := m.services[ns+"/"+b.Name]; svc != nil {
		for _, sp := range svc.Spec.Ports {
			if sp.Name == b.Port.Name {
				return sp.Port, b.Port.Name
			}
		}
	}
	return 0, b.Port.Name
}

// canaryFor finds the canary Ingress of a host and path (at most one per
// rule in ingress-nginx).
func (m *migration) canaryFor(ns, host, path string) *canarySite {
	for _, c := range m.canaries {
		if c.ing.Namespace != ns {
			continue
		}
		for _, r := range c.ing.Spec.Rules {
			if r.Host != host || r.HTTP == nil {
				continue
			}
			for _, p := range r.HTTP.Paths {
				if location(p) != path || p.Backend.Service == nil {
					continue
				}
				cs := &canarySite{in: c, service: p.Backend.Service.Name, total: c.conf.canaryTotal,
					legacy: c.conf.CanaryBehavior == "legacy"}
				cs.port, _ = m.port(ns, p.Backend.Service)
				if !c.conf.canaryByHeader {
					cs.weight = c.conf.canaryWeight
				}
				if cs.weight == nil && !c.conf.canaryByHeader {
					continue // a canary that receives no traffic
				}
				return cs
			}
		}
	}
	return nil
}
