package apis

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Route is a Gateway API HTTPRoute or GRPCRoute (TypeMeta.Kind tells which):
// the parts that decide where a rule's traffic goes and how it sticks.
type Route struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              RouteSpec `json:"spec"`
}

// IsGRPC reports whether the route is a GRPCRoute.
func (r *Route) IsGRPC() bool { return r.Kind == KindGRPCRoute }

// RouteSpec is the common part of HTTPRouteSpec and GRPCRouteSpec.
type RouteSpec struct {
	ParentRefs []ParentReference `json:"parentRefs,omitempty"`
	Hostnames  []string          `json:"hostnames,omitempty"`
	Rules      []RouteRule       `json:"rules,omitempty"`
}

// ParentReference is a route's parentRefs[] entry: a Gateway (the default
// kind), a ListenerSet, or a Service for a mesh (GAMMA) route.
type ParentReference struct {
	Group       *string `json:"group,omitempty"`
	Kind        *string `json:"kind,omitempty"`
	Namespace   *string `json:"namespace,omitempty"`
	Name        string  `json:"name"`
	SectionName *string `json:"sectionName,omitempty"`
	Port        *int32  `json:"port,omitempty"`
}

// IsService reports whether the parent is a Service (a mesh route, GAMMA).
func (p ParentReference) IsService() bool {
	return p.Kind != nil && *p.Kind == "Service" && (p.Group == nil || *p.Group == "" || *p.Group == "core")
}

// RouteRule is an HTTPRouteRule or GRPCRouteRule.
type RouteRule struct {
	Name               *string             `json:"name,omitempty"`
	Matches            []RouteMatch        `json:"matches,omitempty"`
	BackendRefs        []BackendRef        `json:"backendRefs,omitempty"`
	SessionPersistence *SessionPersistence `json:"sessionPersistence,omitempty"`
}

// RouteMatch is an HTTPRouteMatch (Path) or GRPCRouteMatch (Method).
type RouteMatch struct {
	Path    *PathMatch    `json:"path,omitempty"`
	Method  *GRPCMethod   `json:"method,omitempty"`
	Headers []HeaderMatch `json:"headers,omitempty"`
}

// PathMatch is HTTPPathMatch: type Exact, PathPrefix (the default) or
// RegularExpression.
type PathMatch struct {
	Type  *string `json:"type,omitempty"`
	Value *string `json:"value,omitempty"`
}

// GRPCMethod is GRPCMethodMatch.
type GRPCMethod struct {
	Type    *string `json:"type,omitempty"`
	Service *string `json:"service,omitempty"`
	Method  *string `json:"method,omitempty"`
}

// HeaderMatch is an HTTPHeaderMatch / GRPCHeaderMatch.
type HeaderMatch struct {
	Type  *string `json:"type,omitempty"`
	Name  string  `json:"name"`
	Value string  `json:"value"`
}

// BackendRef is an HTTPBackendRef / GRPCBackendRef: a Service by default.
type BackendRef struct {
	Group     *string `json:"group,omitempty"`
	Kind      *string `json:"kind,omitempty"`
	Name      string  `json:"name"`
	Namespace *string `json:"namespace,omitempty"`
	Port      *int32  `json:"port,omitempty"`
	Weight    *int32  `json:"weight,omitempty"`
}

// IsService reports whether the backend is a core Service (the default).
func (b BackendRef) IsService() bool {
	return (b.Kind == nil || *b.Kind == "Service") && (b.Group == nil || *b.Group == "" || *b.Group == "core")
}

// SessionPersistence is the union of every shape the field has had:
//   - v1.1–v1.6: sessionName, absoluteTimeout, idleTimeout (v1.1–v1.5 only),
//     type, cookieConfig.lifetimeType;
//   - v1.7: absoluteTimeout, type, cookie.{name,path,lifetimeType},
//     header.name.
//
// Unknown lists keys that no shape has (they would be pruned or rejected).
type SessionPersistence struct {
	SessionName     *string       `json:"sessionName,omitempty"`
	AbsoluteTimeout *string       `json:"absoluteTimeout,omitempty"`
	IdleTimeout     *string       `json:"idleTimeout,omitempty"`
	Type            *string       `json:"type,omitempty"`
	CookieConfig    *CookieConfig `json:"cookieConfig,omitempty"`
	Cookie          *Cookie       `json:"cookie,omitempty"`
	Header          *HeaderConfig `json:"header,omitempty"`
}

// Session persistence types and cookie lifetimes.
const (
	PersistenceCookie = "Cookie"
	PersistenceHeader = "Header"
	LifetimePermanent = "Permanent"
	LifetimeSession   = "Session"
)

// CookieConfig is the v1.1–v1.6 sessionPersistence.cookieConfig.
type CookieConfig struct {
	LifetimeType *string `json:"lifetimeType,omitempty"`
}

// Cookie is the v1.7 sessionPersistence.cookie.
type Cookie struct {
	Name         *string `json:"name,omitempty"`
	Path         *string `json:"path,omitempty"`
	LifetimeType *string `json:"lifetimeType,omitempty"`
}

// HeaderConfig is the v1.7 sessionPersistence.header.
type HeaderConfig struct {
	Name *string `json:"name,omitempty"`
}

// BackendPolicy is an XBackendTrafficPolicy (gateway.networking.x-k8s.io
// v1alpha1, v1.3+) or its predecessor BackendLBPolicy (v1alpha2, v1.1–v1.2).
type BackendPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              BackendPolicySpec `json:"spec"`
}

// BackendPolicySpec is the policy's spec.
type BackendPolicySpec struct {
	TargetRefs         []PolicyTargetReference `json:"targetRefs,omitempty"`
	SessionPersistence *SessionPersistence     `json:"sessionPersistence,omitempty"`
}

// PolicyTargetReference is LocalPolicyTargetReference (plus the optional
// sectionName of the WithSectionName variant).
type PolicyTargetReference struct {
	Group       string  `json:"group"`
	Kind        string  `json:"kind"`
	Name        string  `json:"name"`
	SectionName *string `json:"sectionName,omitempty"`
}

// Gateway is the part of a Gateway the rules read.
type Gateway struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              GatewaySpec `json:"spec"`
}

// GatewaySpec is the Gateway's spec.
type GatewaySpec struct {
	GatewayClassName string     `json:"gatewayClassName"`
	Listeners        []Listener `json:"listeners,omitempty"`
}

// Listener is one Gateway listener.
type Listener struct {
	Name     string  `json:"name"`
	Hostname *string `json:"hostname,omitempty"`
	Port     int32   `json:"port"`
	Protocol string  `json:"protocol"`
}

// GatewayClass is the part of a GatewayClass the rules read: its controller.
type GatewayClass struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              GatewayClassSpec `json:"spec"`
}

// GatewayClassSpec is the GatewayClass's spec.
type GatewayClassSpec struct {
	ControllerName string `json:"controllerName"`
}

// CRD is the part of a CustomResourceDefinition stickyguard reads: its name
// and annotations (the Gateway API bundle version and channel), and whether
// a Gateway API route schema has sessionPersistence and in which shape.
type CRD struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              CRDSpec `json:"spec"`
}

// CRDSpec keeps the schema as raw JSON maps: only a few paths are read.
type CRDSpec struct {
	Group    string       `json:"group"`
	Names    CRDNames     `json:"names"`
	Versions []CRDVersion `json:"versions,omitempty"`
}

// CRDNames is spec.names.
type CRDNames struct {
	Kind   string `json:"kind"`
	Plural string `json:"plural"`
}

// CRDVersion is one spec.versions[] entry.
type CRDVersion struct {
	Name    string         `json:"name"`
	Served  bool           `json:"served"`
	Storage bool           `json:"storage"`
	Schema  map[string]any `json:"schema,omitempty"`
}

// Gateway API bundle annotations on its CRDs.
const (
	AnnBundleVersion    = "gateway.networking.k8s.io/bundle-version"
	AnnChannel          = "gateway.networking.k8s.io/channel"
	ChannelStandard     = "standard"
	ChannelExperimental = "experimental"
)

// PersistenceShape is the shape of sessionPersistence a bundle accepts.
type PersistenceShape string

// Shapes.
const (
	// ShapeUnknown: the installed bundle is not known (offline without CRDs,
	// policy or flag); version-dependent rules do not fire.
	ShapeUnknown PersistenceShape = ""
	// ShapeNone: the CRD has no sessionPersistence (standard channel).
	ShapeNone PersistenceShape = "none"
	// ShapeV1 is v1.1–v1.6: sessionName, cookieConfig (idleTimeout ≤ v1.5).
	ShapeV1 PersistenceShape = "sessionName"
	// ShapeV2 is v1.7+: cookie.{name,path,lifetimeType}, header.name.
	ShapeV2 PersistenceShape = "cookie"
)

// GatewayBundle is what is known of the installed Gateway API CRDs.
// The zero value means unknown.
type GatewayBundle struct {
	// Version is the bundle-version annotation ("v1.6.3"; "v0.0.0-dev" for
	// builds of main), "" when unknown.
	Version string
	// Channel is "standard" or "experimental", "" when unknown.
	Channel string
	// Shape is the HTTPRoute schema's sessionPersistence shape, read from
	// the schema when it was available and else derived from Version and
	// Channel.
	Shape PersistenceShape
	// IdleTimeout is true when the schema has sessionPersistence.idleTimeout
	// (v1.1–v1.5).
	IdleTimeout bool
	// Source says where this came from ("CRD httproutes.gateway.networking.k8s.io
	// in the cluster", "input file x.yaml#3", "policy", "--gateway-api flag").
	Source string
}

// Known reports whether anything is known about the bundle.
func (b GatewayBundle) Known() bool {
	return b.Version != "" || b.Channel != "" || b.Shape != ShapeUnknown
}

// DeepCopyObject implements runtime.Object.
func (r *Route) DeepCopyObject() runtime.Object { return deepCopy(r) }

// DeepCopyObject implements runtime.Object.
func (p *BackendPolicy) DeepCopyObject() runtime.Object { return deepCopy(p) }

// DeepCopyObject implements runtime.Object.
func (g *Gateway) DeepCopyObject() runtime.Object { return deepCopy(g) }

// DeepCopyObject implements runtime.Object.
func (c *GatewayClass) DeepCopyObject() runtime.Object { return deepCopy(c) }

// DeepCopyObject implements runtime.Object.
func (c *CRD) DeepCopyObject() runtime.Object { return deepCopy(c) }
