package policy

// APIVersion and Kind identify a policy document.
const (
	APIVersion = "stickyguard.io/v1alpha1"
	Kind       = "Policy"
)

// Defaults the policy falls back to.
const (
	// DefaultClientIPTimeout is the Kubernetes default for
	// sessionAffinityConfig.clientIP.timeoutSeconds.
	DefaultClientIPTimeout int32 = 10800
	// DefaultMinTimeout is the value below which SVC-007 warns.
	DefaultMinTimeout int32 = 60
	// MaxAPITimeout is the largest timeout the API server accepts.
	MaxAPITimeout int32 = 86400
	// DefaultAntiAffinityWeight is the weight of the injected preferred term.
	DefaultAntiAffinityWeight int32 = 100
)

// AntiAffinityMode says how DEP-001 spreads the pods of a sticky backend.
type AntiAffinityMode string

// Anti-affinity modes.
const (
	AntiAffinityPreferred AntiAffinityMode = "preferred"
	AntiAffinityRequired  AntiAffinityMode = "required"
	AntiAffinityDisabled  AntiAffinityMode = "disabled"
)

// Override changes one rule's severity.
type Override string

// Rule overrides.
const (
	OverrideDeny     Override = "deny"
	OverrideWarn     Override = "warn"
	OverrideDisabled Override = "disabled"
)

// CCEFlavor is the Huawei CCE cluster type, which no object shows.
type CCEFlavor string

// CCE cluster flavours.
const (
	CCEStandard CCEFlavor = "standard"
	CCETurbo    CCEFlavor = "turbo"
)

// Policy is the whole configuration of the rule engine.
type Policy struct {
	APIVersion   string              `json:"apiVersion" yaml:"apiVersion"`
	Kind         string              `json:"kind" yaml:"kind"`
	Service      ServicePolicy       `json:"service" yaml:"service"`
	AntiAffinity AntiAffinity        `json:"antiAffinity" yaml:"antiAffinity"`
	Ingress      IngressPolicy       `json:"ingress" yaml:"ingress"`
	Cluster      ClusterFacts        `json:"cluster" yaml:"cluster"`
	Rules        map[string]Override `json:"rules,omitempty" yaml:"rules,omitempty"`
}

// ServicePolicy configures the core Service rules and defaults.
type ServicePolicy struct {
	// ClientIPTimeout is the timeoutSeconds stickyguard fills in (SVC-008)
	// and the range outside which SVC-007 warns.
	ClientIPTimeout TimeoutPolicy `json:"clientIPTimeout" yaml:"clientIPTimeout"`
	// SetExternalTrafficPolicyLocal enables the SVC-005/CCE-008 default.
	SetExternalTrafficPolicyLocal *bool `json:"setExternalTrafficPolicyLocal,omitempty" yaml:"setExternalTrafficPolicyLocal,omitempty"`
}

// TimeoutPolicy holds the ClientIP timeout default and bounds, in seconds.
type TimeoutPolicy struct {
	Default int32 `json:"default" yaml:"default"`
	Min     int32 `json:"min" yaml:"min"`
	Max     int32 `json:"max" yaml:"max"`
}

// AntiAffinity configures the DEP-001 default.
type AntiAffinity struct {
	Mode   AntiAffinityMode `json:"mode" yaml:"mode"`
	Weight int32            `json:"weight" yaml:"weight"`
}

// IngressPolicy configures ingress class resolution.
type IngressPolicy struct {
	// ClassControllers maps an ingress class name to its controller string
	// (IngressClass spec.controller), used when the IngressClass object is not
	// known. Entries are merged over the built-in map.
	ClassControllers map[string]string `json:"classControllers,omitempty" yaml:"classControllers,omitempty"`
	// DefaultController is the controller of Ingresses without any class
	// when the cluster has no default IngressClass; empty means "unknown".
	DefaultController string `json:"defaultController,omitempty" yaml:"defaultController,omitempty"`
}

// ClusterFacts are facts about the cluster that objects cannot show.
type ClusterFacts struct {
	// CCE is the Huawei CCE cluster flavour: standard (default) or turbo.
	CCE CCEFlavor `json:"cce,omitempty" yaml:"cce,omitempty"`
	// GatewayAPI is the installed Gateway API bundle, for `check` without
	// the CRDs in its input (live, the CRDs in the cluster say it).
	GatewayAPI GatewayAPIFacts `json:"gatewayAPI,omitempty" yaml:"gatewayAPI,omitempty"`
	// Istio holds istiod settings no object shows.
	Istio IstioFacts `json:"istio,omitempty" yaml:"istio,omitempty"`
	// NginxGatewayFabric holds NGINX Gateway Fabric deployment flags.
	NginxGatewayFabric NGFFacts `json:"nginxGatewayFabric,omitempty" yaml:"nginxGatewayFabric,omitempty"`
}

// GatewayAPIFacts name the installed Gateway API bundle.
type GatewayAPIFacts struct {
	// Version is a release ("v1.6.3"); empty means unknown.
	Version string `json:"version,omitempty" yaml:"version,omitempty"`
	// Channel is "standard" or "experimental"; empty means unknown.
	Channel string `json:"channel,omitempty" yaml:"channel,omitempty"`
}

// IstioFacts are istiod settings.
type IstioFacts struct {
	// PersistentSessionFilter is istiod's PILOT_ENABLE_PERSISTENT_SESSION_FILTER
	// (default false); nil means unknown.
	PersistentSessionFilter *bool `json:"persistentSessionFilter,omitempty" yaml:"persistentSessionFilter,omitempty"`
}

// NGFFacts are NGINX Gateway Fabric flags (OSS and Plus share one
// controllerName, so only the deployment tells them apart).
type NGFFacts struct {
	// Plus is true for NGINX Plus; nil means unknown.
	Plus *bool `json:"plus,omitempty" yaml:"plus,omitempty"`
	// Experimental is --gateway-api-experimental-features; nil means unknown.
	Experimental *bool `json:"experimental,omitempty" yaml:"experimental,omitempty"`
}

// BuiltinClassControllers maps each controller's usual class names to its
// controller string.
func BuiltinClassControllers() map[string]string {
	return map[string]string{
		"nginx":                     "k8s.io/ingress-nginx",
		"alb":                       "ingress.k8s.aws/alb",
		"gce":                       "k8s.io/ingress-gce",
		"gce-internal":              "k8s.io/ingress-gce",
		"traefik":                   "traefik.io/ingress-controller",
		"azure-application-gateway": "azure/application-gateway",
		"haproxy":                   "haproxy-ingress.github.io/controller",
	}
}

// Default returns the built-in policy used when no file is given.
func Default() *Policy {
	t := true
	return &Policy{
		APIVersion: APIVersion,
		Kind:       Kind,
		Service: ServicePolicy{
			ClientIPTimeout: TimeoutPolicy{
				Default: DefaultClientIPTimeout,
				Min:     DefaultMinTimeout,
				Max:     MaxAPITimeout,
			},
			SetExternalTrafficPolicyLocal: &t,
		},
		AntiAffinity: AntiAffinity{Mode: AntiAffinityPreferred, Weight: DefaultAntiAffinityWeight},
		Ingress:      IngressPolicy{ClassControllers: BuiltinClassControllers()},
		Cluster:      ClusterFacts{CCE: CCEStandard},
		Rules:        map[string]Override{},
	}
}

// SetLocal reports whether the externalTrafficPolicy Local default is on.
func (p *Policy) SetLocal() bool {
	return p.Service.SetExternalTrafficPolicyLocal == nil || *p.Service.SetExternalTrafficPolicyLocal
}

// ControllerForClass returns the controller string of an ingress class name
// from the policy map, or "" when the class is not mapped.
func (p *Policy) ControllerForClass(class string) string {
	return p.Ingress.ClassControllers[class]
}

// Override returns the override for a rule ID, or "" when there is none.
func (p *Policy) Override(ruleID string) Override {
	return p.Rules[ruleID]
}
