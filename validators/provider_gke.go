package validators

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// GKE (ingress-gce) rules: BackendConfig spec.sessionAffinity, the Service's
// backend-config annotation, and nginx-style affinity on GCE Ingresses.

const (
	gkeFamily           = "GKE"
	annGKEBackendConfig = "cloud.google.com/backend-config"
	annGKEBackendBeta   = "beta.cloud.google.com/backend-config"

	gkeNone            = "NONE"
	gkeClientIP        = "CLIENT_IP"
	gkeGeneratedCookie = "GENERATED_COOKIE"
	gkeMaxCookieTTL    = 86400
)

var (
	gke001 = &Rule{ID: "GKE-001", Severity: Deny, Kinds: []string{KindBackendConfig}, Family: gkeFamily,
		Title:  "BackendConfig sessionAffinity.affinityType is not NONE, CLIENT_IP or GENERATED_COOKIE",
		Fix:    "use NONE, CLIENT_IP or GENERATED_COOKIE (exact uppercase)",
		Source: "kubernetes/ingress-gce pkg/backendconfig/validation.go supportedAffinities (fails only at Ingress sync)"}
	gke002 = &Rule{ID: "GKE-002", Severity: Deny, Kinds: []string{KindBackendConfig}, Family: gkeFamily,
		Title:  "BackendConfig sessionAffinity.affinityCookieTtlSec is outside 0-86400",
		Fix:    "set spec.sessionAffinity.affinityCookieTtlSec to 0-86400 seconds",
		Source: "kubernetes/ingress-gce pkg/backendconfig/validation.go (\"should be between 0 and 86400\")"}
	gke003 = &Rule{ID: "GKE-003", Severity: Warn, Kinds: []string{KindBackendConfig}, Family: gkeFamily,
		Title:  "BackendConfig affinityCookieTtlSec set while affinityType is not GENERATED_COOKIE",
		Fix:    "remove affinityCookieTtlSec or set affinityType: GENERATED_COOKIE",
		Source: "kubernetes/ingress-gce pkg/backends/features/affinity.go"}
	gke004 = &Rule{ID: "GKE-004", Severity: Deny, Kinds: []string{KindService}, Family: gkeFamily,
		Title:  "cloud.google.com/backend-config is not JSON or names no BackendConfig (no non-empty default or ports)",
		Fix:    `write '{"default":"<backendconfig>"}' or '{"ports":{"<port name or number>":"<backendconfig>"}}'`,
		Source: "kubernetes/ingress-gce pkg/annotations/service.go GetBackendConfigs (ErrBackendConfigInvalidJSON, ErrBackendConfigNoneFound)"}
	gke005 = &Rule{ID: "GKE-005", Severity: Warn, Kinds: []string{KindService}, Family: gkeFamily,
		Title:  "backend-config ports key matches no spec.ports[].name or spec.ports[].port",
		Fix:    "key backend-config ports by the Service port's name or its port number (not targetPort or nodePort)",
		Source: "kubernetes/ingress-gce pkg/backendconfig/utils.go BackendConfigName"}
	gke006 = &Rule{ID: "GKE-006", Severity: Warn, Kinds: []string{KindService}, Family: gkeFamily,
		Title:  "backend-config references a BackendConfig that does not exist in the Service's namespace",
		Fix:    "create the BackendConfig in the Service's namespace or fix the name",
		Source: "kubernetes/ingress-gce pkg/backendconfig/backendconfig.go GetBackendConfigForServicePort (lister lookup in svc.Namespace)"}
	gke008 = &Rule{ID: "GKE-008", Severity: Warn, Kinds: []string{KindService}, Family: gkeFamily,
		Title: "BackendConfig CLIENT_IP/GENERATED_COOKIE affinity on a NodePort/LoadBalancer Service without NEG: unless the cluster is VPC-native, the load balancer pins a node, not a pod",
		Fix:   `use NEG (cloud.google.com/neg: '{"ingress": true}'), or externalTrafficPolicy Local`,
		Explain: "NEG (container-native load balancing) is the default for Ingress backends on VPC-native GKE clusters from " +
			"1.17.6-gke.7, so the warning is conditional. ClusterIP Services are skipped: they can only be Ingress backends " +
			"through NEG. Without NEG the backends are instance groups: the load balancer's affinity pins a node and kube-proxy " +
			"re-balances across pods unless externalTrafficPolicy is Local with one pod per node.",
		Source: "kubernetes/ingress-gce#516 discussion; pkg/negannotation/negannotation.go; GKE container-native load balancing docs (NEG default on VPC-native clusters)"}
	gke009 = &Rule{ID: "GKE-009", Severity: Warn, Kinds: []string{KindIngress}, Family: gkeFamily,
		Title:  "ingress-nginx affinity annotations on a GCE Ingress, which the GKE Ingress controller ignores",
		Fix:    "use BackendConfig spec.sessionAffinity via the Service's backend-config",
		Source: "kubernetes/kubernetes#51711; kubernetes-retired/contrib#2631"}
)

var gkeRules = []*Rule{gke001, gke002, gke003, gke004, gke005, gke006, gke008, gke009}

// gkeBackendConfigs mirrors ingress-gce's BackendConfigs annotation type.
type gkeBackendConfigs struct {
	Default string            `json:"default,omitempty"`
	Ports   map[string]string `json:"ports,omitempty"`
}

// ReferencesBackendConfig reports whether a Service carries a GKE
// backend-config annotation: only then do the rules read the BackendConfigs
// of its namespace (Related.BackendConfigs).
func ReferencesBackendConfig(svc *corev1.Service) bool {
	_, ok := svc.Annotations[annGKEBackendConfig]
	_, beta := svc.Annotations[annGKEBackendBeta]
	return ok || beta
}

func validateServiceGKE(svc, _ *corev1.Service, ctx *Context) (field.ErrorList, Warnings) {
	key := annGKEBackendConfig
	raw, ok := svc.Annotations[key]
	if !ok {
		key = annGKEBackendBeta
		if raw, ok = svc.Annotations[key]; !ok {
			return nil, nil
		}
	}
	var f findings
	p := annPath(key)
	var cfg gkeBackendConfigs
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		f.invalid(gke004, p, clipValue(raw), "not valid JSON for a BackendConfig reference; ingress-gce ignores it")
		return f.result()
	}
	if cfg.Default == "" && len(cfg.Ports) == 0 {
		f.invalid(gke004, p, clipValue(raw), "names no BackendConfig: needs a non-empty \"default\" or \"ports\"")
		return f.result()
	}
	for _, k := range slices.Sorted(maps.Keys(cfg.Ports)) {
		if !gkeMatchesPort(svc, k) {
			f.warn(gke005, p, clipValue(k), "ports key "+strconv.Quote(clipTo(k, 24))+" matches no Service port name or number")
		}
	}
	bcs := ctx.Related.BackendConfigs
	if bcs == nil {
		return f.result()
	}
	var sticky []string
	for _, name := range gkeReferencedNames(cfg) {
		bc, found := bcs[name]
		switch {
		case !found || bc == nil:
			f.warn(gke006, p, clipValue(name), "BackendConfig "+strconv.Quote(clipTo(name, 40))+" not found in this namespace")
		case bc.SessionAffinity != nil && (bc.SessionAffinity.AffinityType == gkeClientIP || bc.SessionAffinity.AffinityType == gkeGeneratedCookie):
			sticky = append(sticky, name)
		}
	}
	neg := false
	if v, ok := svc.Annotations[annGKENEG]; ok {
		neg = NEGIngress(v)
	}
	// A ClusterIP backend only works through NEG (the default on VPC-native
	// clusters), so only NodePort/LoadBalancer Services can be on instance
	// groups; whether the cluster is VPC-native is not visible here.
	nodeBackends := svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer
	if len(sticky) > 0 && !neg && nodeBackends && !EffectiveLocal(svc, ctx.Policy, ctx.Offline) {
		f.warn(gke008, p, nil, "BackendConfig "+clipTo(strings.Join(sticky, ", "), 24)+": if this cluster is not VPC-native, the LB pins nodes")
	}
	return f.result()
}

// gkeMatchesPort mirrors BackendConfigName: a ports key matches a port name
// or the port number as a string.
func gkeMatchesPort(svc *corev1.Service, key string) bool {
	for _, sp := range svc.Spec.Ports {
		if sp.Name == key || strconv.Itoa(int(sp.Port)) == key {
			return true
		}
	}
	return false
}

func gkeReferencedNames(cfg gkeBackendConfigs) []string {
	seen := map[string]bool{}
	if cfg.Default != "" {
		seen[cfg.Default] = true
	}
	for _, n := range cfg.Ports {
		if n != "" {
			seen[n] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

func validateIngressGKE(ing, _ *networkingv1.Ingress, ctx *Context) (field.ErrorList, Warnings) {
	if ctx.Related.Controller != ControllerGCE || len(ing.Annotations) == 0 {
		return nil, nil
	}
	var f findings
	for _, k := range slices.Sorted(maps.Keys(ing.Annotations)) {
		if gkeNginxAffinityKey(k) {
			f.warn(gke009, annPath(k), clipValue(ing.Annotations[k]), "the GKE Ingress controller ignores ingress-nginx annotations")
		}
	}
	return f.result()
}

func gkeNginxAffinityKey(k string) bool {
	name, ok := strings.CutPrefix(k, "nginx.ingress.kubernetes.io/")
	if !ok {
		return false
	}
	switch name {
	case "affinity", "affinity-mode", "affinity-canary-behavior",
		"upstream-hash-by", "upstream-hash-by-subset", "upstream-hash-by-subset-size":
		return true
	}
	return strings.HasPrefix(name, "session-cookie-")
}

func validateBackendConfigGKE(bc *BackendConfig, _ *Context) (field.ErrorList, Warnings) {
	if bc == nil || bc.SessionAffinity == nil {
		return nil, nil
	}
	var f findings
	sa := bc.SessionAffinity
	p := field.NewPath("spec", "sessionAffinity")
	switch sa.AffinityType {
	case "", gkeNone, gkeClientIP, gkeGeneratedCookie:
	default:
		f.notSupported(gke001, p.Child("affinityType"), clipValue(sa.AffinityType), []string{gkeNone, gkeClientIP, gkeGeneratedCookie},
			"ingress-gce rejects this BackendConfig when it syncs the Ingress")
	}
	if sa.AffinityCookieTTLSec != nil {
		if ttl := *sa.AffinityCookieTTLSec; ttl < 0 || ttl > gkeMaxCookieTTL {
			f.invalid(gke002, p.Child("affinityCookieTtlSec"), ttl, "must be between 0 and "+strconv.Itoa(gkeMaxCookieTTL)+" seconds")
		}
	}
	if (sa.TTLSet || sa.AffinityCookieTTLSec != nil) && sa.AffinityType != gkeGeneratedCookie {
		f.warn(gke003, p.Child("affinityCookieTtlSec"), nil, "the cookie TTL only applies to GENERATED_COOKIE affinity")
	}
	return f.result()
}
