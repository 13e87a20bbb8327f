package engine

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"slices"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/policy"
	"github.com/stickyguard/stickyguard/validators"
)

// Lookup answers the cross-object questions the rules need. Live it is
// backed by an informer cache, offline by the input objects (Index). Results
// are shared and must not be modified. A nil object with a nil error means
// "does not exist"; an error means the answer is unknown (500, not a denial).
type Lookup interface {
	// IngressClass returns the named IngressClass.
	IngressClass(name string) (*networkingv1.IngressClass, error)
	// DefaultIngressClass returns the cluster's default IngressClass.
	DefaultIngressClass() (*networkingv1.IngressClass, error)
	// Service returns a Service by namespace and name.
	Service(namespace, name string) (*corev1.Service, error)
	// ServicesSelecting returns the Services whose selector selects podLabels.
	ServicesSelecting(namespace string, podLabels map[string]string) ([]*corev1.Service, error)
	// DeploymentsSelectedBy returns the Deployments whose pod template labels
	// the Service selector selects.
	DeploymentsSelectedBy(namespace string, selector map[string]string) ([]*appsv1.Deployment, error)
	// StatefulSetsSelectedBy returns the StatefulSets whose pod template
	// labels the Service selector selects.
	StatefulSetsSelectedBy(namespace string, selector map[string]string) ([]*appsv1.StatefulSet, error)
	// IngressesForService returns the Ingresses that route to the Service.
	IngressesForService(namespace, service string) ([]*networkingv1.Ingress, error)
	// IngressesForHost returns the Ingresses of a namespace with an HTTP
	// rule for the host ("" is a rule without a host).
	IngressesForHost(namespace, host string) ([]*networkingv1.Ingress, error)
	// BackendConfigs returns the GKE BackendConfigs of a namespace by name,
	// or nil when BackendConfigs are not tracked.
	BackendConfigs(namespace string) (map[string]*validators.BackendConfig, error)

	// Gateway API and mesh custom resources. Where a kind is not tracked
	// (its CRD is not installed, or serve may not watch it) the answers are
	// empty, as for a kind with no objects.

	// GatewayBundle is what is known of the installed Gateway API CRDs
	// (the zero value: nothing).
	GatewayBundle() (apis.GatewayBundle, error)
	// GatewayClass returns the named GatewayClass.
	GatewayClass(name string) (*apis.GatewayClass, error)
	// Gateway returns a Gateway by namespace and name.
	Gateway(namespace, name string) (*apis.Gateway, error)
	// Routes returns the HTTPRoutes and GRPCRoutes of a namespace.
	Routes(namespace string) ([]*apis.Route, error)
	// RoutesForParent returns the routes, of any namespace, with a
	// parentRef to the parent (see RouteParentKeys).
	RoutesForParent(parent ParentKey) ([]*apis.Route, error)
	// RoutesForBackend returns the routes, of any namespace, with a
	// backendRef to the Service (see RouteBackendServices).
	RoutesForBackend(namespace, service string) ([]*apis.Route, error)
	// BackendPolicies returns the XBackendTrafficPolicies and
	// BackendLBPolicies of a namespace.
	BackendPolicies(namespace string) ([]*apis.BackendPolicy, error)
	// EnvoyPolicies returns the Envoy Gateway BackendTrafficPolicies of a
	// namespace.
	EnvoyPolicies(namespace string) ([]*apis.EnvoyBackendTrafficPolicy, error)
}

// Routes, policies and other lists of the Lookup come sorted: routes by
// SortRoutes, policies by namespace, kind and name.

// annIngressClass is the legacy class annotation.
const annIngressClass = "kubernetes.io/ingress.class"

// ResolveController finds an Ingress's controller and class name; see
// ResolveIngressClass.
func ResolveController(ing *networkingv1.Ingress, lk Lookup, pol *policy.Policy) (validators.Controller, string, error) {
	r, err := ResolveIngressClass(ing, lk, pol)
	return r.Controller, r.Class, err
}

// IngressClassResolution is how an Ingress's controller was found.
type IngressClassResolution struct {
	Controller validators.Controller
	Class      string
	// Shared: only a class name that several controllers use by default
	// says which controller it is (validators.Related.ClassShared).
	Shared bool
}

// sharedClassNames are class names that more than one controller uses by
// default: "nginx" (ingress-nginx and F5 NGINX Ingress Controller) and
// "haproxy" (HAProxy Ingress and the HAProxy Technologies controller).
var sharedClassNames = map[string]bool{"nginx": true, "haproxy": true}

// ResolveIngressClass finds an Ingress's controller: spec.ingressClassName
// or the legacy annotation, through the IngressClass object when it exists
// and the policy's class map otherwise; without a class, the default
// IngressClass, then the policy's default controller. Unknown classes give
// ControllerUnknown, which runs every family on the annotations present.
//
// The result is Shared when a shared class name is all there is to go by:
// no IngressClass object and no policy entry of the user's own (only the
// built-in map), or the legacy annotation, which each controller matches
// against its own --ingress-class flag whatever IngressClass objects exist.
func ResolveIngressClass(ing *networkingv1.Ingress, lk Lookup, pol *policy.Policy) (IngressClassResolution, error) {
	class, legacy := "", false
	if ing.Spec.IngressClassName != nil && *ing.Spec.IngressClassName != "" {
		class = *ing.Spec.IngressClassName
	} else if a := ing.Annotations[annIngressClass]; a != "" {
		class, legacy = a, true
	}
	if class == "" {
		ic, err := lk.DefaultIngressClass()
		if err != nil {
			return IngressClassResolution{}, err
		}
		if ic == nil {
			return IngressClassResolution{Controller: validators.ControllerFromString(pol.Ingress.DefaultController)}, nil
		}
		return IngressClassResolution{Controller: validators.ControllerFromString(ic.Spec.Controller), Class: ic.Name}, nil
	}
	r := IngressClassResolution{Class: class}
	ic, err := lk.IngressClass(class)
	switch {
	case err != nil:
		return r, err
	case ic != nil:
		r.Controller = validators.ControllerFromString(ic.Spec.Controller)
		r.Shared = legacy && sharedClassNames[class]
	default:
		c := pol.ControllerForClass(class)
		r.Controller = validators.ControllerFromString(c)
		r.Shared = c != "" && sharedClassNames[class] && (legacy || c == policy.BuiltinClassControllers()[class])
	}
	return r, nil
}

// BackendServiceNames lists the distinct Service names an Ingress routes to.
func BackendServiceNames(ing *networkingv1.Ingress) []string {
	seen := map[string]bool{}
	var out []string
	add := func(b *networkingv1.IngressBackend) {
		if b == nil || b.Service == nil || b.Service.Name == "" || seen[b.Service.Name] {
			return
		}
		seen[b.Service.Name] = true
		out = append(out, b.Service.Name)
	}
	add(ing.Spec.DefaultBackend)
	for _, r := range ing.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for i := range r.HTTP.Paths {
			add(&r.HTTP.Paths[i].Backend)
		}
	}
	return out
}

// IngressHosts lists, once each and in order, the hosts of an Ingress's
// HTTP rules ("" for a rule without a host).
func IngressHosts(ing *networkingv1.Ingress) []string {
	var out []string
	for _, r := range ing.Spec.Rules {
		if r.HTTP != nil && !slices.Contains(out, r.Host) {
			out = append(out, r.Host)
		}
	}
	return out
}
