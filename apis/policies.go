package apis

import (
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// EnvoyBackendTrafficPolicy is Envoy Gateway's BackendTrafficPolicy
// (gateway.envoyproxy.io/v1alpha1): the targets and the load balancer.
type EnvoyBackendTrafficPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              EnvoyBTPSpec `json:"spec"`
}

// EnvoyBTPSpec is the part of BackendTrafficPolicySpec the rules read.
type EnvoyBTPSpec struct {
	TargetRef       *PolicyTargetReference  `json:"targetRef,omitempty"`
	TargetRefs      []PolicyTargetReference `json:"targetRefs,omitempty"`
	TargetSelectors []map[string]any        `json:"targetSelectors,omitempty"`
	LoadBalancer    *EnvoyLoadBalancer      `json:"loadBalancer,omitempty"`
}

// EnvoyLoadBalancer is spec.loadBalancer.
type EnvoyLoadBalancer struct {
	Type           string               `json:"type"`
	ConsistentHash *EnvoyConsistentHash `json:"consistentHash,omitempty"`
	// SlowStart is kept raw: only its presence matters (an empty object
	// survives a deep copy, an empty map would not).
	SlowStart json.RawMessage `json:"slowStart,omitempty"`
	ZoneAware map[string]any  `json:"zoneAware,omitempty"`
}

// EnvoyConsistentHash is spec.loadBalancer.consistentHash.
type EnvoyConsistentHash struct {
	Type        string       `json:"type"`
	Header      *EnvoyNamed  `json:"header,omitempty"`
	Headers     []EnvoyNamed `json:"headers,omitempty"`
	Cookie      *EnvoyCookie `json:"cookie,omitempty"`
	QueryParams []EnvoyNamed `json:"queryParams,omitempty"`
	TableSize   *uint64      `json:"tableSize,omitempty"`
}

// EnvoyNamed is a header or query parameter to hash.
type EnvoyNamed struct {
	Name string `json:"name"`
}

// EnvoyCookie is consistentHash.cookie.
type EnvoyCookie struct {
	Name       string            `json:"name"`
	TTL        *string           `json:"ttl,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// DestinationRule is Istio's DestinationRule (networking.istio.io v1,
// v1beta1, v1alpha3).
type DestinationRule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              DestinationRuleSpec `json:"spec"`
}

// DestinationRuleSpec is the part of the spec the rules read.
type DestinationRuleSpec struct {
	Host          string         `json:"host"`
	TrafficPolicy *TrafficPolicy `json:"trafficPolicy,omitempty"`
	Subsets       []Subset       `json:"subsets,omitempty"`
	ExportTo      []string       `json:"exportTo,omitempty"`
}

// Subset is a DestinationRule subset.
type Subset struct {
	Name          string            `json:"name"`
	Labels        map[string]string `json:"labels,omitempty"`
	TrafficPolicy *TrafficPolicy    `json:"trafficPolicy,omitempty"`
}

// TrafficPolicy is an Istio TrafficPolicy (top level or a subset's).
type TrafficPolicy struct {
	LoadBalancer      *IstioLoadBalancer  `json:"loadBalancer,omitempty"`
	PortLevelSettings []PortTrafficPolicy `json:"portLevelSettings,omitempty"`
}

// PortTrafficPolicy is one portLevelSettings entry. The entry replaces the
// whole policy for its port (nothing is inherited), so its other settings
// are kept too, opaque.
type PortTrafficPolicy struct {
	Port             *PortSelector      `json:"port,omitempty"`
	LoadBalancer     *IstioLoadBalancer `json:"loadBalancer,omitempty"`
	ConnectionPool   map[string]any     `json:"connectionPool,omitempty"`
	OutlierDetection map[string]any     `json:"outlierDetection,omitempty"`
	TLS              map[string]any     `json:"tls,omitempty"`
}

// PortSelector is portLevelSettings[].port.
type PortSelector struct {
	Number uint32 `json:"number,omitempty"`
}

// IstioLoadBalancer is LoadBalancerSettings.
type IstioLoadBalancer struct {
	Simple            *string              `json:"simple,omitempty"`
	ConsistentHash    *IstioConsistentHash `json:"consistentHash,omitempty"`
	LocalityLbSetting *LocalityLbSetting   `json:"localityLbSetting,omitempty"`
	Warmup            map[string]any       `json:"warmup,omitempty"`
	// BackendUtilization (Istio 1.32) is the third member of the
	// simple/consistentHash oneOf; kept raw, only its presence matters.
	BackendUtilization json.RawMessage `json:"backendUtilization,omitempty"`
}

// LocalityLbSetting is loadBalancer.localityLbSetting: whether it is on
// (enabled, or unset with a distribution or failover given).
type LocalityLbSetting struct {
	Enabled          *bool            `json:"enabled,omitempty"`
	Distribute       []map[string]any `json:"distribute,omitempty"`
	Failover         []map[string]any `json:"failover,omitempty"`
	FailoverPriority []string         `json:"failoverPriority,omitempty"`
}

// IstioConsistentHash is ConsistentHashLB.
type IstioConsistentHash struct {
	HTTPHeaderName         *string         `json:"httpHeaderName,omitempty"`
	HTTPCookie             *IstioCookie    `json:"httpCookie,omitempty"`
	UseSourceIP            *bool           `json:"useSourceIp,omitempty"`
	HTTPQueryParameterName *string         `json:"httpQueryParameterName,omitempty"`
	RingHash               json.RawMessage `json:"ringHash,omitempty"`
	Maglev                 *IstioMaglev    `json:"maglev,omitempty"`
	MinimumRingSize        *uint64         `json:"minimumRingSize,omitempty"`
}

// IstioCookie is ConsistentHashLB.HTTPCookie.
type IstioCookie struct {
	Name       string                 `json:"name"`
	Path       *string                `json:"path,omitempty"`
	TTL        *string                `json:"ttl,omitempty"`
	Attributes []IstioCookieAttribute `json:"attributes,omitempty"`
}

// IstioCookieAttribute is one httpCookie.attributes entry (Istio 1.28+).
type IstioCookieAttribute struct {
	Name  string  `json:"name"`
	Value *string `json:"value,omitempty"`
}

// IstioMaglev is consistentHash.maglev.
type IstioMaglev struct {
	TableSize *uint64 `json:"tableSize,omitempty"`
}

// GCPBackendPolicy is GKE's GCPBackendPolicy (networking.gke.io/v1).
type GCPBackendPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              GCPBackendPolicySpec `json:"spec"`
}

// GCPBackendPolicySpec is the part of the spec the rules read.
type GCPBackendPolicySpec struct {
	TargetRef GCPTargetRef            `json:"targetRef"`
	Default   *GCPBackendPolicyConfig `json:"default,omitempty"`
}

// GCPTargetRef is NamespacedPolicyTargetReference.
type GCPTargetRef struct {
	Group     string  `json:"group"`
	Kind      string  `json:"kind"`
	Name      string  `json:"name"`
	Namespace *string `json:"namespace,omitempty"`
}

// GCPBackendPolicyConfig is spec.default.
type GCPBackendPolicyConfig struct {
	SessionAffinity *GCPSessionAffinity `json:"sessionAffinity,omitempty"`
}

// GCPSessionAffinity is spec.default.sessionAffinity.
type GCPSessionAffinity struct {
	Type         *string `json:"type,omitempty"`
	CookieTTLSec *int64  `json:"cookieTtlSec,omitempty"`
}

// DeepCopyObject implements runtime.Object.
func (p *EnvoyBackendTrafficPolicy) DeepCopyObject() runtime.Object { return deepCopy(p) }

// DeepCopyObject implements runtime.Object.
func (d *DestinationRule) DeepCopyObject() runtime.Object { return deepCopy(d) }

// DeepCopyObject implements runtime.Object.
func (p *GCPBackendPolicy) DeepCopyObject() runtime.Object { return deepCopy(p) }
