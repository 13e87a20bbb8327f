package engine

import (
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/stickyguard/stickyguard/validators"
)

// Index is an in-memory Lookup over a set of objects: the input files of
// `stickyguard check`, or what `stickyguard audit` listed from a cluster.
// Put replaces an object with the same namespace and name. It is not safe
// for concurrent writes.
type Index struct {
	classes     map[string]*networkingv1.IngressClass
	services    map[string]map[string]*corev1.Service
	deployments map[string]map[string]*appsv1.Deployment
	sets        map[string]map[string]*appsv1.StatefulSet
	ingresses   map[string]map[string]*networkingv1.Ingress
	backends    map[string]map[string]*validators.BackendConfig
	gateways    gatewayIndex

	// Per-namespace views built on first use and dropped when an object of
	// that kind in that namespace is Put, so a batch of lookups between
	// writes costs one sort, not one per lookup.
	svcViews  map[string][]*corev1.Service
	depViews  map[string][]*appsv1.Deployment
	setViews  map[string][]*appsv1.StatefulSet
	ingViews  map[string]map[string][]*networkingv1.Ingress // namespace -> Service name -> Ingresses
	hostViews map[string]map[string][]*networkingv1.Ingress // namespace -> host -> Ingresses
}

var _ Lookup = (*Index)(nil)

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{
		classes:     map[string]*networkingv1.IngressClass{},
		services:    map[string]map[string]*corev1.Service{},
		deployments: map[string]map[string]*appsv1.Deployment{},
		sets:        map[string]map[string]*appsv1.StatefulSet{},
		ingresses:   map[string]map[string]*networkingv1.Ingress{},
		backends:    map[string]map[string]*validators.BackendConfig{},
		svcViews:    map[string][]*corev1.Service{},
		depViews:    map[string][]*appsv1.Deployment{},
		setViews:    map[string][]*appsv1.StatefulSet{},
		ingViews:    map[string]map[string][]*networkingv1.Ingress{},
		hostViews:   map[string]map[string][]*networkingv1.Ingress{},
		gateways:    newGatewayIndex(),
	}
}

func put[T any](m map[string]map[string]T, ns, name string, v T) {
	if m[ns] == nil {
		m[ns] = map[string]T{}
	}
	m[ns][name] = v
}

// sorted returns a namespace's objects ordered by name, for stable output.
func sorted[T any](m map[string]T) []T {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]T, 0, len(m))
	for _, n := range names {
		out = append(out, m[n])
	}
	return out
}

// Put adds or replaces an object of a kind the rules look up; other kinds
// are ignored and reported false.
func (x *Index) Put(obj any) bool {
	switch o := obj.(type) {
	case *networkingv1.IngressClass:
		x.classes[o.Name] = o
	case *corev1.Service:
		put(x.services, o.Namespace, o.Name, o)
		delete(x.svcViews, o.Namespace)
	case *appsv1.Deployment:
		put(x.deployments, o.Namespace, o.Name, o)
		delete(x.depViews, o.Namespace)
	case *appsv1.StatefulSet:
		put(x.sets, o.Namespace, o.Name, o)
		delete(x.setViews, o.Namespace)
	case *networkingv1.Ingress:
		put(x.ingresses, o.Namespace, o.Name, o)
		delete(x.ingViews, o.Namespace)
		delete(x.hostViews, o.Namespace)
	case *validators.BackendConfig:
		put(x.backends, o.Namespace, o.Name, o)
	default:
		return x.gateways.put(obj)
	}
	return true
}

// IngressClass implements Lookup.
func (x *Index) IngressClass(name string) (*networkingv1.IngressClass, error) {
	return x.classes[name], nil
}

// DefaultIngressClass implements Lookup.
func (x *Index) DefaultIngressClass() (*networkingv1.IngressClass, error) {
	for _, ic := range sorted(x.classes) {
		if ic.Annotations[networkingv1.AnnotationIsDefaultIngressClass] == "true" {
			return ic, nil
		}
	}
	return nil, nil
}

// Service implements Lookup.
func (x *Index) Service(ns, name string) (*corev1.Service, error) {
	return x.services[ns][name], nil
}

// ServicesSelecting implements Lookup.
func (x *Index) ServicesSelecting(ns string, podLabels map[string]string) ([]*corev1.Service, error) {
	var out []*corev1.Service
	view, ok := x.svcViews[ns]
	if !ok {
		view = sorted(x.services[ns])
		x.svcViews[ns] = view
	}
	for _, s := range view {
		if validators.SelectorMatches(s.Spec.Selector, podLabels) {
			out = append(out, s)
		}
	}
	return out, nil
}

// DeploymentsSelectedBy implements Lookup.
func (x *Index) DeploymentsSelectedBy(ns string, selector map[string]string) ([]*appsv1.Deployment, error) {
	return selectedBy(x.deployments, x.depViews, ns, selector, func(d *appsv1.Deployment) map[string]string { return d.Spec.Template.Labels }), nil
}

// StatefulSetsSelectedBy implements Lookup.
func (x *Index) StatefulSetsSelectedBy(ns string, selector map[string]string) ([]*appsv1.StatefulSet, error) {
	return selectedBy(x.sets, x.setViews, ns, selector, func(s *appsv1.StatefulSet) map[string]string { return s.Spec.Template.Labels }), nil
}

// selectedBy returns the workloads of a namespace, by name, whose pod
// template labels (podLabels) the Service selector selects.
func selectedBy[T any](objs map[string]map[string]T, views map[string][]T, ns string, selector map[string]string, podLabels func(T) map[string]string) []T {
	var out []T
	view, ok := views[ns]
	if !ok {
		view = sorted(objs[ns])
		views[ns] = view
	}
	for _, w := range view {
		if validators.SelectorMatches(selector, podLabels(w)) {
			out = append(out, w)
		}
	}
	return out
}

// IngressesForService implements Lookup.
func (x *Index) IngressesForService(ns, service string) ([]*networkingv1.Ingress, error) {
	bySvc, ok := x.ingViews[ns]
	if !ok {
		bySvc = map[string][]*networkingv1.Ingress{}
		for _, ing := range sorted(x.ingresses[ns]) {
			for _, n := range BackendServiceNames(ing) {
				bySvc[n] = append(bySvc[n], ing)
			}
		}
		x.ingViews[ns] = bySvc
	}
	return bySvc[service], nil
}

// IngressesForHost implements Lookup.
func (x *Index) IngressesForHost(ns, host string) ([]*networkingv1.Ingress, error) {
	byHost, ok := x.hostViews[ns]
	if !ok {
		byHost = map[string][]*networkingv1.Ingress{}
		for _, ing := range sorted(x.ingresses[ns]) {
			for _, h := range IngressHosts(ing) {
				byHost[h] = append(byHost[h], ing)
			}
		}
		x.hostViews[ns] = byHost
	}
	return byHost[host], nil
}

// BackendConfigs implements Lookup. Offline, BackendConfigs are tracked only
// when the input holds at least one, so a check of Services alone does not
// report every reference as missing.
func (x *Index) BackendConfigs(ns string) (map[string]*validators.BackendConfig, error) {
	if len(x.backends) == 0 {
		return nil, nil
	}
	m := x.backends[ns]
	if m == nil {
		m = map[string]*validators.BackendConfig{}
	}
	return m, nil
}
