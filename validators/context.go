package validators

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/policy"
)

// Context is what a rule may know besides the object itself.
type Context struct {
	// Policy is the effective policy; never nil (use policy.Default()).
	Policy *policy.Policy
	// Offline is true in `stickyguard check`: decode-level and (dup) rules
	// that the API server already enforces live run as well.
	Offline bool
	// Related holds the cross-object facts the engine fetched for this object.
	Related Related
}

// Related is the pre-fetched cross-object view of one object. The engine fills
// it through its lookup (an informer cache live, the input files offline);
// rules only read it. Slices never include the object under review itself.
type Related struct {
	// For an Ingress under review: its resolved controller and class name.
	Controller Controller
	Class      string
	// ClassShared is true when only a class name several controllers use by
	// default ("nginx": ingress-nginx and F5 NGINX; "haproxy": both HAProxy
	// controllers) says which controller serves the Ingress: no IngressClass
	// object, or the legacy kubernetes.io/ingress.class annotation. Controller
	// is then the name's usual owner, and rules must not tell the user that
	// annotations belong to the other controller of that name.
	ClassShared bool
	// For an Ingress: the Services it routes to that exist.
	BackendServices []*corev1.Service
	// For an Ingress: the other Ingresses of its namespace routing to any of
	// its backend Services or serving any of its hosts.
	// For a Service: the Ingresses routing to it.
	Ingresses []RelatedIngress
	// For a Service: the Deployments whose pod template its selector selects.
	Deployments []*appsv1.Deployment
	// For a Service: the StatefulSets whose pod template its selector selects.
	StatefulSets []*appsv1.StatefulSet
	// For a Deployment or StatefulSet: the Services whose selector selects
	// its pod template.
	Services []*corev1.Service
	// For a Service: the GKE BackendConfigs of its namespace, by name; nil
	// when they are not tracked (live), so GKE-006 cannot tell.
	BackendConfigs map[string]*BackendConfig
	// Gateway is the Gateway API and mesh view, for routes and policies.
	Gateway GatewayRelated
}

// GatewayRelated is the cross-object view of a Gateway API route or of a
// policy (XBackendTrafficPolicy, Envoy Gateway BackendTrafficPolicy, Istio
// DestinationRule, GKE GCPBackendPolicy). The engine fills what the kind
// needs; the zero value means nothing is known.
type GatewayRelated struct {
	// Bundle is the installed Gateway API bundle (zero when unknown).
	Bundle apis.GatewayBundle
	// For a Route: each spec.parentRefs entry resolved, in order.
	Parents []RouteParent
	// For a Route: the other routes (HTTPRoutes and GRPCRoutes, any
	// namespace) attached to one of its parent Gateways or Services.
	SiblingRoutes []*apis.Route
	// For a Route: XBackendTrafficPolicies (and BackendLBPolicies) of its
	// namespace that target one of its backend Services.
	BackendPolicies []*apis.BackendPolicy
	// For a Route: Envoy Gateway BackendTrafficPolicies of its namespace
	// that target it or one of its parent Gateways.
	EnvoyPolicies []*apis.EnvoyBackendTrafficPolicy
	// For a policy: the routes it targets (Envoy Gateway BTP), or the routes
	// of its namespace whose rules send traffic to a Service it targets
	// (XBackendTrafficPolicy, DestinationRule, GCPBackendPolicy).
	Routes []*apis.Route
	// For a policy: the Services it targets (or, for a DestinationRule, the
	// Service its host names) that exist.
	Services []*corev1.Service
	// For a policy whose targets' parents matter (XBackendTrafficPolicy,
	// Envoy Gateway BTP): the parents of Routes, resolved, in Routes order.
	RouteParents [][]RouteParent
}

// RouteParent is a route's parentRef with what it resolves to.
type RouteParent struct {
	Ref apis.ParentReference
	// Gateway is nil for a Service parent (mesh) or a Gateway not found.
	Gateway *apis.Gateway
	// Class is the Gateway's GatewayClass; nil when not found.
	Class *apis.GatewayClass
}

// ControllerName is the parent's GatewayClass spec.controllerName ("" when
// not known).
func (p RouteParent) ControllerName() string {
	if p.Class == nil {
		return ""
	}
	return p.Class.Spec.ControllerName
}

// RelatedIngress is an Ingress with its resolved controller.
type RelatedIngress struct {
	Ingress    *networkingv1.Ingress
	Controller Controller
}

// BackendConfig is the part of a GKE BackendConfig (cloud.google.com/v1) the
// rules read. It is decoded from unstructured input; the CRD's Go types are
// not a dependency.
type BackendConfig struct {
	Namespace       string
	Name            string
	SessionAffinity *BackendConfigAffinity
	// Path to spec.sessionAffinity in the source document.
}

// BackendConfigAffinity is BackendConfig spec.sessionAffinity.
type BackendConfigAffinity struct {
	AffinityType         string
	AffinityCookieTTLSec *int64
	// TTLSet is true when affinityCookieTtlSec was present.
	TTLSet bool
}

// Controller identifies an ingress controller family.
type Controller string

// Ingress controllers stickyguard has rules for.
const (
	ControllerUnknown     Controller = ""
	ControllerNginx       Controller = "ingress-nginx"
	ControllerAWS         Controller = "aws-load-balancer-controller"
	ControllerGCE         Controller = "ingress-gce"
	ControllerTraefik     Controller = "traefik"
	ControllerAGIC        Controller = "azure-application-gateway"
	ControllerHAProxy     Controller = "haproxy-ingress"
	ControllerHAProxyTech Controller = "haproxy-technologies"
	ControllerCCE         Controller = "huawei-cce-elb"
	// ControllerOther is a known class whose controller has no rules here.
	ControllerOther Controller = "other"
)

// ControllerFromString maps an IngressClass spec.controller to a Controller.
func ControllerFromString(s string) Controller {
	switch {
	case s == "":
		return ControllerUnknown
	case s == "k8s.io/ingress-nginx":
		return ControllerNginx
	case s == "ingress.k8s.aws/alb":
		return ControllerAWS
	case s == "k8s.io/ingress-gce" || s == "networking.gke.io/ingress-gce":
		return ControllerGCE
	case s == "traefik.io/ingress-controller":
		return ControllerTraefik
	case s == "azure/application-gateway":
		return ControllerAGIC
	case s == "haproxy-ingress.github.io/controller":
		return ControllerHAProxy
	case len(s) >= len("haproxy.org/") && s[:len("haproxy.org/")] == "haproxy.org/":
		return ControllerHAProxyTech
	case s == "cce" || s == "kubernetes.io/elb" || s == "cce.huaweicloud.com/elb":
		return ControllerCCE
	}
	return ControllerOther
}

// appliesTo reports whether rules of controller c run on an Ingress whose
// resolved controller is ctrl. With an unknown controller the annotations
// themselves reveal the intent, so every family's rules run.
func appliesTo(ctrl, c Controller) bool {
	return ctrl == ControllerUnknown || ctrl == c
}
