package webhook

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/validators"
)

// Half says which of the two webhooks a handler serves.
type Half string

// Halves; the values are the "webhook" label of the duration histogram.
const (
	Mutating   Half = "mutate"
	Validating Half = "validate"
)

// kind describes one admitted kind.
type kind struct {
	Name string                  // "Service", as in the rule catalog
	GVK  schema.GroupVersionKind // what the path serves
	New  func() runtime.Object   // a fresh typed object to decode into
	// Custom is set for the custom resources of package apis: only
	// validated (no defaults), reviewed only where their CRD is installed,
	// and their related objects come from caches started on demand
	// (GatewayCache).
	Custom bool
}

// custom is a custom resource kind of package apis.
func custom(group, version, name string) kind {
	gvk := schema.GroupVersionKind{Group: group, Version: version, Kind: name}
	return kind{Name: name, GVK: gvk, Custom: true,
		New: func() runtime.Object { return apis.New(gvk.GroupVersion().String(), name) }}
}

func services() kind {
	return kind{validators.KindService, corev1.SchemeGroupVersion.WithKind("Service"),
		func() runtime.Object { return &corev1.Service{} }, false}
}

func ingresses() kind {
	return kind{validators.KindIngress, networkingv1.SchemeGroupVersion.WithKind("Ingress"),
		func() runtime.Object { return &networkingv1.Ingress{} }, false}
}

func deployments() kind {
	return kind{validators.KindDeployment, appsv1.SchemeGroupVersion.WithKind("Deployment"),
		func() runtime.Object { return &appsv1.Deployment{} }, false}
}

func statefulSets() kind {
	return kind{validators.KindStatefulSet, appsv1.SchemeGroupVersion.WithKind("StatefulSet"),
		func() runtime.Object { return &appsv1.StatefulSet{} }, false}
}

// Route is one row of the path table.
type Route struct {
	Path string
	Half Half
	kind kind
}

// Kind is the admitted kind's GroupVersionKind.
func (r Route) Kind() schema.GroupVersionKind { return r.kind.GVK }

// Routes is THE table that maps URL paths to handlers (kubebuilder-style
// paths: /<half>-<group with dots as dashes>-<version>-<lowercase kind>).
// manifests/base/webhook-configurations.yaml must list exactly these paths;
// a test checks it.
func Routes() []Route {
	return []Route{
		{"/mutate--v1-service", Mutating, services()},
		{"/validate--v1-service", Validating, services()},
		{"/mutate-networking-k8s-io-v1-ingress", Mutating, ingresses()},
		{"/validate-networking-k8s-io-v1-ingress", Validating, ingresses()},
		{"/mutate-apps-v1-deployment", Mutating, deployments()},
		{"/validate-apps-v1-deployment", Validating, deployments()},
		{"/mutate-apps-v1-statefulset", Mutating, statefulSets()},
		{"/validate-apps-v1-statefulset", Validating, statefulSets()},
		// Gateway API and mesh custom resources: validating only. The
		// webhook configurations use matchPolicy Equivalent, so v1beta1
		// HTTPRoutes and v1beta1/v1alpha3 DestinationRules arrive here
		// converted to v1.
		{"/validate-gateway-networking-k8s-io-v1-httproute", Validating, custom(apis.GroupGateway, "v1", apis.KindHTTPRoute)},
		{"/validate-gateway-networking-k8s-io-v1-grpcroute", Validating, custom(apis.GroupGateway, "v1", apis.KindGRPCRoute)},
		{"/validate-gateway-networking-x-k8s-io-v1alpha1-xbackendtrafficpolicy", Validating,
			custom(apis.GroupGatewayX, "v1alpha1", apis.KindXBackendTrafficPolicy)},
		{"/validate-gateway-envoyproxy-io-v1alpha1-backendtrafficpolicy", Validating,
			custom(apis.GroupEnvoyGateway, "v1alpha1", apis.KindEnvoyBackendTrafficPolicy)},
		{"/validate-networking-istio-io-v1-destinationrule", Validating, custom(apis.GroupIstio, "v1", apis.KindDestinationRule)},
		{"/validate-networking-gke-io-v1-gcpbackendpolicy", Validating, custom(apis.GroupGKENetworking, "v1", apis.KindGCPBackendPolicy)},
	}
}

// Paths lists the registered paths in table order.
func Paths() []string {
	rs := Routes()
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Path
	}
	return out
}
