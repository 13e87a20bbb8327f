package apis

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

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
// Keys that no shape has are dropped by the decode; which of these keys the
// installed CRDs keep is a rule's business (GatewayBundle.Shape).
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

// HasV1Keys reports whether sp sets a field only the v1.1–v1.6 shape has
// (sessionName, cookieConfig, idleTimeout).
func (sp *SessionPersistence) HasV1Keys() bool {
	return sp != nil && (sp.SessionName != nil || sp.CookieConfig != nil || sp.IdleTimeout != nil)
}

// HasV2Keys reports whether sp sets a field only the v1.7 shape has
// (cookie, header).
func (sp *SessionPersistence) HasV2Keys() bool {
	return sp != nil && (sp.Cookie != nil || sp.Header != nil)
}

// ParseBundleVersion parses a bundle-version annotation ("v1.6.3", or a
// pre-release such as "v1.7.0-rc.1") into its numbers. ok is false for
// anything else, including "v0.0.0-dev" (builds of main), whose shape only
// the schema tells.
func ParseBundleVersion(v string) (major, minor, patch int, ok bool) {
	rest, found := strings.CutPrefix(v, "v")
	if !found {
		return 0, 0, 0, false
	}
	if i := strings.IndexAny(rest, "-+"); i >= 0 {
		rest = rest[:i]
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 {
		return 0, 0, 0, false
	}
	var n [3]int
	for i, p := range parts {
		x, err := strconv.Atoi(p)
		if err != nil || x < 0 || p == "" || (len(p) > 1 && p[0] == '0') {
			return 0, 0, 0, false
		}
		n[i] = x
	}
	if n == [3]int{} {
		return 0, 0, 0, false
	}
	return n[0], n[1], n[2], true
}

// release returns the bundle's version as major*1e6+minor*1e3+patch, or
// -1 when it is not a known release.
func (b GatewayBundle) release() int {
	maj, min, patch, ok := ParseBundleVersion(b.Version)
	if !ok {
		return -1
	}
	return maj*1_000_000 + min*1_000 + patch
}

// AtLeast reports whether the bundle is a known release at or after
// v<major>.<minor>.<patch>.
func (b GatewayBundle) AtLeast(major, minor, patch int) bool {
	r := b.release()
	return r >= 0 && r >= major*1_000_000+minor*1_000+patch
}

// Before reports whether the bundle is a known release before
// v<major>.<minor>.<patch>.
func (b GatewayBundle) Before(major, minor, patch int) bool {
	r := b.release()
	return r >= 0 && r < major*1_000_000+minor*1_000+patch
}

// ExperimentalShape is the route sessionPersistence shape of the
// experimental channel of a release, as read from the CRDs of every release
// v1.0.0–v1.7.0: none in v1.0.x, the sessionName shape in v1.1.x–v1.6.x
// (idleTimeout up to v1.5.x), the cookie shape in v1.7.x. ok is false for
// dev builds and for later releases (the field is deprecated in v1.7 and
// may change or go).
func ExperimentalShape(version string) (shape PersistenceShape, idleTimeout, ok bool) {
	maj, min, _, known := ParseBundleVersion(version)
	switch {
	case !known || maj != 1 || min > 7:
		return ShapeUnknown, false, false
	case min == 0:
		return ShapeNone, false, true
	case min <= 6:
		return ShapeV1, min <= 5, true
	}
	return ShapeV2, false, true
}

// BundleFor derives what a bundle version and channel say of the route
// sessionPersistence schema, for when only the annotations (or a policy
// setting) are known: the standard channel has no sessionPersistence; the
// experimental channel has ExperimentalShape. With the channel unknown, or
// a version ExperimentalShape does not know, the shape stays unknown.
func BundleFor(version, channel, source string) GatewayBundle {
	b := GatewayBundle{Version: version, Channel: channel, Source: source}
	switch channel {
	case ChannelStandard:
		b.Shape = ShapeNone
	case ChannelExperimental:
		b.Shape, b.IdleTimeout, _ = ExperimentalShape(version)
	}
	return b
}

// Bundle reads what a Gateway API CRD says of the installed bundle: its
// bundle-version and channel annotations and, for the CRDs that carry
// sessionPersistence (HTTPRoute, GRPCRoute, XBackendTrafficPolicy,
// BackendLBPolicy) when the schema was read, the field's shape and whether
// it has idleTimeout. The schema wins over what the version implies (a
// dev build of main says v0.0.0-dev). Without a schema (a metadata-only
// read) it is BundleFor of the annotations.
func (c *CRD) Bundle() GatewayBundle {
	b := BundleFor(c.Annotations[AnnBundleVersion], c.Annotations[AnnChannel], "CRD "+c.Name)
	props, read := c.persistenceSchema()
	if !read {
		return b
	}
	switch {
	case props == nil:
		b.Shape = ShapeNone
	case props["cookie"] != nil || props["header"] != nil:
		b.Shape = ShapeV2
	case props["sessionName"] != nil || props["cookieConfig"] != nil:
		b.Shape = ShapeV1
	}
	b.IdleTimeout = props["idleTimeout"] != nil
	return b
}

// persistenceSchema returns the properties of sessionPersistence in the
// CRD's storage version (else its first version with a schema): nil when
// the schema has no such field. read is false when the CRD is not a kind
// with sessionPersistence or carries no schema.
func (c *CRD) persistenceSchema() (props map[string]any, read bool) {
	var path []string
	switch c.Spec.Names.Kind {
	case KindHTTPRoute, KindGRPCRoute:
		path = []string{"openAPIV3Schema", "properties", "spec", "properties", "rules", "items", "properties", "sessionPersistence", "properties"}
	case KindXBackendTrafficPolicy, KindBackendLBPolicy:
		path = []string{"openAPIV3Schema", "properties", "spec", "properties", "sessionPersistence", "properties"}
	default:
		return nil, false
	}
	var schema map[string]any
	for _, v := range c.Spec.Versions {
		if v.Schema == nil {
			continue
		}
		if schema == nil || v.Storage {
			schema = v.Schema
		}
	}
	if schema == nil {
		return nil, false
	}
	node := schema
	for _, key := range path {
		next, _ := node[key].(map[string]any)
		if next == nil {
			return nil, true
		}
		node = next
	}
	return node, true
}

// GatewayDurationPattern is the pattern every Gateway API Duration field
// has in the CRDs (GEP-2257).
const GatewayDurationPattern = `^([0-9]{1,5}(h|m|s|ms)){1,4}$`

var gatewayDurationRe = regexp.MustCompile(GatewayDurationPattern)

// ParseGatewayDuration parses a GEP-2257 Duration: 1–4 components of 1–5
// digits, each with unit h, m, s or ms ("1h30m", "0s", "500ms"). It fails
// for what the CRD pattern rejects ("1", "1d", "1.5h", "-1s", "").
func ParseGatewayDuration(s string) (time.Duration, error) {
	if !gatewayDurationRe.MatchString(s) {
		return 0, fmt.Errorf("%q does not match %s (GEP-2257)", s, GatewayDurationPattern)
	}
	return time.ParseDuration(s)
}

// gatewayDurationMax is the largest number a GEP-2257 component holds.
const gatewayDurationMax = 99999

// FormatGatewayDuration writes whole seconds as a GEP-2257 Duration that
// ParseGatewayDuration reads back: "<n>s" up to 99999 seconds, else hours,
// minutes and seconds ("48h", "27h46m40s"). exact is false when the value
// cannot be written: more than 99999 hours is clamped to "99999h", a
// negative value to "0s".
func FormatGatewayDuration(seconds int64) (d string, exact bool) {
	switch {
	case seconds < 0:
		return "0s", false
	case seconds <= gatewayDurationMax:
		return strconv.FormatInt(seconds, 10) + "s", true
	}
	h, m, s := seconds/3600, seconds%3600/60, seconds%60
	if h > gatewayDurationMax {
		return strconv.Itoa(gatewayDurationMax) + "h", false
	}
	d = strconv.FormatInt(h, 10) + "h"
	if m > 0 {
		d += strconv.FormatInt(m, 10) + "m"
	}
	if s > 0 {
		d += strconv.FormatInt(s, 10) + "s"
	}
	return d, true
}

// GatewayTokenPattern is the pattern of the v1.7 CookieName and HeaderName
// (sessionPersistence cookie.name and header.name): an RFC 7230 token.
const GatewayTokenPattern = "^[A-Za-z0-9!#$%&'*+\\-.^_`|~]+$"

var gatewayTokenRe = regexp.MustCompile(GatewayTokenPattern)

// IsGatewayToken reports whether s matches GatewayTokenPattern (the
// length limits are the schema's maxLength, checked apart).
func IsGatewayToken(s string) bool { return gatewayTokenRe.MatchString(s) }
