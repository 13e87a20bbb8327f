package apis

import (
	"encoding/json"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "sigs.k8s.io/json"
)

// deepCopy copies a JSON-shaped object through its JSON form. The kinds here
// are small and copied rarely (the informer cache hands out shared objects),
// so generated deep-copy code is not worth its maintenance.
func deepCopy[T any](in *T) *T {
	if in == nil {
		return nil
	}
	b, err := json.Marshal(in)
	if err != nil {
		panic("apis: cannot copy object: " + err.Error())
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		panic("apis: cannot copy object: " + err.Error())
	}
	return out
}

// Group names.
const (
	GroupGateway       = "gateway.networking.k8s.io"
	GroupGatewayX      = "gateway.networking.x-k8s.io"
	GroupEnvoyGateway  = "gateway.envoyproxy.io"
	GroupIstio         = "networking.istio.io"
	GroupGKENetworking = "networking.gke.io"
)

// Kind names.
const (
	KindHTTPRoute                 = "HTTPRoute"
	KindGRPCRoute                 = "GRPCRoute"
	KindGateway                   = "Gateway"
	KindGatewayClass              = "GatewayClass"
	KindXBackendTrafficPolicy     = "XBackendTrafficPolicy"
	KindBackendLBPolicy           = "BackendLBPolicy"
	KindEnvoyBackendTrafficPolicy = "BackendTrafficPolicy"
	KindDestinationRule           = "DestinationRule"
	KindGCPBackendPolicy          = "GCPBackendPolicy"
	KindCustomResourceDefinition  = "CustomResourceDefinition"
)

// GVKs that the engine decodes into the types of this package, by
// "apiVersion/kind". Versions are every one a supported release serves.
var kinds = map[string]func() runtime.Object{
	GroupGateway + "/v1/HTTPRoute":                       func() runtime.Object { return &Route{} },
	GroupGateway + "/v1beta1/HTTPRoute":                  func() runtime.Object { return &Route{} },
	GroupGateway + "/v1/GRPCRoute":                       func() runtime.Object { return &Route{} },
	GroupGateway + "/v1alpha2/GRPCRoute":                 func() runtime.Object { return &Route{} },
	GroupGateway + "/v1/Gateway":                         func() runtime.Object { return &Gateway{} },
	GroupGateway + "/v1beta1/Gateway":                    func() runtime.Object { return &Gateway{} },
	GroupGateway + "/v1/GatewayClass":                    func() runtime.Object { return &GatewayClass{} },
	GroupGateway + "/v1beta1/GatewayClass":               func() runtime.Object { return &GatewayClass{} },
	GroupGatewayX + "/v1alpha1/XBackendTrafficPolicy":    func() runtime.Object { return &BackendPolicy{} },
	GroupGateway + "/v1alpha2/BackendLBPolicy":           func() runtime.Object { return &BackendPolicy{} },
	GroupEnvoyGateway + "/v1alpha1/BackendTrafficPolicy": func() runtime.Object { return &EnvoyBackendTrafficPolicy{} },
	GroupIstio + "/v1/DestinationRule":                   func() runtime.Object { return &DestinationRule{} },
	GroupIstio + "/v1beta1/DestinationRule":              func() runtime.Object { return &DestinationRule{} },
	GroupIstio + "/v1alpha3/DestinationRule":             func() runtime.Object { return &DestinationRule{} },
	GroupGKENetworking + "/v1/GCPBackendPolicy":          func() runtime.Object { return &GCPBackendPolicy{} },
	"apiextensions.k8s.io/v1/CustomResourceDefinition":   func() runtime.Object { return &CRD{} },
}

// New returns an empty object of the type this package decodes
// apiVersion/kind into, or nil when the kind is not one of them.
func New(apiVersion, kind string) runtime.Object {
	if mk, ok := kinds[apiVersion+"/"+kind]; ok {
		return mk()
	}
	return nil
}

// Decode decodes JSON into the type for apiVersion/kind (unknown fields
// ignored). It returns nil, nil when the kind is not one of this package's.
func Decode(apiVersion, kind string, js []byte) (runtime.Object, error) {
	obj := New(apiVersion, kind)
	if obj == nil {
		return nil, nil
	}
	// As the API server decodes: field names are case-sensitive, the last
	// of duplicate keys wins, integers stay integers.
	if err := kjson.UnmarshalCaseSensitivePreserveInts(js, obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// GVK returns the group, version and kind an object was decoded as.
func GVK(obj runtime.Object) schema.GroupVersionKind {
	return obj.GetObjectKind().GroupVersionKind()
}
