package webhook

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/engine"
)

// cachedKind is a custom resource kind serve caches, where it is served and
// stickyguard may list and watch it, for the related objects of routes and
// policies: GatewayClasses, Gateways, HTTPRoutes, GRPCRoutes, the Gateway
// API backend policies and Envoy Gateway BackendTrafficPolicies.
// (DestinationRules and GCPBackendPolicies are reviewed but never looked
// up, so they are not cached.)
type cachedKind struct {
	gvr  schema.GroupVersionResource
	kind string
}

// name is the kind's CRD name, "httproutes.gateway.networking.k8s.io"; the
// stores are keyed by it.
func (k cachedKind) name() string { return k.gvr.Resource + "." + k.gvr.Group }

func (k cachedKind) gvk() schema.GroupVersionKind { return k.gvr.GroupVersion().WithKind(k.kind) }

// The cached kinds.
var (
	kindGatewayClasses = cachedKind{schema.GroupVersionResource{Group: apis.GroupGateway, Version: "v1", Resource: "gatewayclasses"}, apis.KindGatewayClass}
	kindGateways       = cachedKind{schema.GroupVersionResource{Group: apis.GroupGateway, Version: "v1", Resource: "gateways"}, apis.KindGateway}
	kindHTTPRoutes     = cachedKind{schema.GroupVersionResource{Group: apis.GroupGateway, Version: "v1", Resource: "httproutes"}, apis.KindHTTPRoute}
	kindGRPCRoutes     = cachedKind{schema.GroupVersionResource{Group: apis.GroupGateway, Version: "v1", Resource: "grpcroutes"}, apis.KindGRPCRoute}
	kindXBackendPols   = cachedKind{schema.GroupVersionResource{Group: apis.GroupGatewayX, Version: "v1alpha1", Resource: "xbackendtrafficpolicies"}, apis.KindXBackendTrafficPolicy}
	kindBackendLBPols  = cachedKind{schema.GroupVersionResource{Group: apis.GroupGateway, Version: "v1alpha2", Resource: "backendlbpolicies"}, apis.KindBackendLBPolicy}
	kindEnvoyPolicies  = cachedKind{schema.GroupVersionResource{Group: apis.GroupEnvoyGateway, Version: "v1alpha1", Resource: "backendtrafficpolicies"}, apis.KindEnvoyBackendTrafficPolicy}
)

// cachedKinds lists them in the order they are decided on and logged.
func cachedKinds() []cachedKind {
	return []cachedKind{kindGatewayClasses, kindGateways, kindHTTPRoutes, kindGRPCRoutes, kindXBackendPols, kindBackendLBPols, kindEnvoyPolicies}
}

// Indexes on the route stores (HTTPRoutes and GRPCRoutes each have their
// own informer); values as engine.Index keys them.
const (
	// A route under each parent it names, engine.ParentKey.String().
	indexRouteParent = "stickyguard.io/route-parent"
	// A route under each Service it sends traffic to, "namespace/name".
	indexRouteBackend = "stickyguard.io/route-backend-service"
)

// indexersFor returns the indexes of a cached kind's store.
func indexersFor(k cachedKind) toolscache.Indexers {
	ix := toolscache.Indexers{toolscache.NamespaceIndex: toolscache.MetaNamespaceIndexFunc}
	if k == kindHTTPRoutes || k == kindGRPCRoutes {
		ix[indexRouteParent] = routeIndex(func(r *apis.Route) []string {
			keys := engine.RouteParentKeys(r)
			out := make([]string, len(keys))
			for i, p := range keys {
				out[i] = p.String()
			}
			return out
		})
		ix[indexRouteBackend] = routeIndex(func(r *apis.Route) []string {
			svcs := engine.RouteBackendServices(r)
			out := make([]string, len(svcs))
			for i, n := range svcs {
				out[i] = n.String()
			}
			return out
		})
	}
	return ix
}

func routeIndex(keys func(*apis.Route) []string) toolscache.IndexFunc {
	return func(o any) ([]string, error) {
		if r, ok := o.(*apis.Route); ok {
			return keys(r), nil
		}
		return nil, nil
	}
}

// toCachedObject is the transform of the cached kinds' informers: the
// unstructured object the dynamic client lists becomes the apis type the
// rules read, which keeps only the fields they read (spec parts; no status).
// managedFields and kubectl's last-applied copy go too. An object that does
// not decode (its CRD may not enforce a schema) is kept with its metadata
// only: it exists. Never an error, which would stop the informer's list.
func toCachedObject(in any) (any, error) {
	u, ok := in.(*unstructured.Unstructured)
	if !ok {
		return in, nil
	}
	apiVersion, kind := u.GetAPIVersion(), u.GetKind()
	var obj gatewayObject
	if js, err := u.MarshalJSON(); err == nil {
		if o, err := apis.Decode(apiVersion, kind, js); err == nil && o != nil {
			obj, _ = o.(gatewayObject)
		}
	}
	if obj == nil {
		o, _ := apis.New(apiVersion, kind).(gatewayObject)
		if o == nil {
			return in, nil
		}
		obj = o
		obj.GetObjectKind().SetGroupVersionKind(u.GroupVersionKind())
		obj.SetNamespace(u.GetNamespace())
		obj.SetName(u.GetName())
		obj.SetUID(u.GetUID())
		obj.SetResourceVersion(u.GetResourceVersion())
		obj.SetLabels(u.GetLabels())
		obj.SetAnnotations(u.GetAnnotations())
	}
	obj.SetManagedFields(nil)
	if a := obj.GetAnnotations(); a != nil {
		delete(a, lastApplied)
	}
	return obj, nil
}

// gatewayObject is an object of package apis.
type gatewayObject interface {
	metav1.Object
	GetObjectKind() schema.ObjectKind
}

// crdGVR is the CustomResourceDefinition resource (read as metadata only).
var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// slimCRD is the transform of the CRD metadata informer: a CRD's name,
// resourceVersion and deletion timestamp, and for the Gateway API groups
// the bundle annotations.
// Nothing else of a CRD is read.
func slimCRD(in any) (any, error) {
	m, ok := in.(*metav1.PartialObjectMetadata)
	if !ok {
		return in, nil
	}
	out := &metav1.PartialObjectMetadata{TypeMeta: m.TypeMeta}
	out.Name, out.ResourceVersion, out.UID, out.DeletionTimestamp = m.Name, m.ResourceVersion, m.UID, m.DeletionTimestamp
	if isGatewayAPICRD(m.Name) {
		for _, k := range []string{apis.AnnBundleVersion, apis.AnnChannel} {
			if v, ok := m.Annotations[k]; ok {
				if out.Annotations == nil {
					out.Annotations = map[string]string{}
				}
				out.Annotations[k] = v
			}
		}
	}
	return out, nil
}

// isGatewayAPICRD reports whether a CRD name is of a Gateway API group.
func isGatewayAPICRD(name string) bool {
	return strings.HasSuffix(name, "."+apis.GroupGateway) || strings.HasSuffix(name, "."+apis.GroupGatewayX)
}
