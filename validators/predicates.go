package validators

import (
	"encoding/json"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/stickyguard/stickyguard/validators/policy"
)

// Annotation keys shared by several families and by the predicates below.
const (
	AnnKeepTrafficPolicy = "stickyguard.io/keep-traffic-policy"
	AnnAntiAffinity      = "stickyguard.io/anti-affinity"
	AnnIgnore            = "stickyguard.io/ignore"

	annCCEMode      = "kubernetes.io/elb.session-affinity-mode"
	annCCEOption    = "kubernetes.io/elb.session-affinity-option"
	annCCEFlag      = "kubernetes.io/elb.session-affinity-flag"
	annCCEClass     = "kubernetes.io/elb.class"
	annCCEAlgorithm = "kubernetes.io/elb.lb-algorithm"

	ackPrefix       = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-"
	ackLegacyPrefix = "service.beta.kubernetes.io/alicloud-loadbalancer-"
	annACKBackend   = "service.beta.kubernetes.io/backend-type"

	annAWSNLBAttrs      = "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes"
	annAWSNLBTargetType = "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"
	annAWSALBAttrs      = "alb.ingress.kubernetes.io/target-group-attributes"
	annAWSALBTargetType = "alb.ingress.kubernetes.io/target-type"

	annGKENEG = "cloud.google.com/neg"

	annTKEDirect = "service.cloud.tencent.com/direct-access"
)

// ExternallyAccessible mirrors the API server's notion: LoadBalancer,
// NodePort, or ClusterIP with externalIPs.
func ExternallyAccessible(svc *corev1.Service) bool {
	switch svc.Spec.Type {
	case corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeNodePort:
		return true
	case corev1.ServiceTypeClusterIP, "":
		return len(svc.Spec.ExternalIPs) > 0
	}
	return false
}

// Affinity is spec.sessionAffinity as the API server defaults it.
func Affinity(svc *corev1.Service) corev1.ServiceAffinity {
	if svc.Spec.SessionAffinity == "" {
		return corev1.ServiceAffinityNone
	}
	return svc.Spec.SessionAffinity
}

// ClientIPTimeout is the effective ClientIP timeout (10800 when unset).
func ClientIPTimeout(svc *corev1.Service) int32 {
	c := svc.Spec.SessionAffinityConfig
	if c == nil || c.ClientIP == nil || c.ClientIP.TimeoutSeconds == nil {
		return policy.DefaultClientIPTimeout
	}
	return *c.ClientIP.TimeoutSeconds
}

// TrafficPolicy is spec.externalTrafficPolicy as the API server defaults it
// ("" for Services that are not externally accessible).
func TrafficPolicy(svc *corev1.Service) corev1.ServiceExternalTrafficPolicy {
	if svc.Spec.ExternalTrafficPolicy == "" && ExternallyAccessible(svc) {
		return corev1.ServiceExternalTrafficPolicyCluster
	}
	return svc.Spec.ExternalTrafficPolicy
}

// ann returns an annotation and whether it is present.
func ann(m map[string]string, key string) (string, bool) {
	v, ok := m[key]
	return v, ok
}

// ackAnn reads an ACK annotation under the current or the legacy prefix.
func ackAnn(m map[string]string, suffix string) (key, value string, ok bool) {
	if len(m) == 0 {
		return "", "", false
	}
	keys, known := ackKeys[suffix]
	if !known {
		keys = [2]string{ackPrefix + suffix, ackLegacyPrefix + suffix}
	}
	for _, k := range keys {
		if v, ok := m[k]; ok {
			return k, v, true
		}
	}
	return "", "", false
}

// ackKeys holds the full current and legacy keys of the ACK annotations the
// rules read, so lookups do not build strings on every request.
var ackKeys = func() map[string][2]string {
	m := map[string][2]string{}
	for _, s := range []string{"persistence-timeout", "sticky-session", "sticky-session-type", "cookie-timeout", "cookie", "protocol-port", "scheduler"} {
		m[s] = [2]string{ackPrefix + s, ackLegacyPrefix + s}
	}
	return m
}()

// StickyReason explains why a Service relies on source-IP stickiness at a
// load balancer that delivers to nodes (the X-002 predicate); "" when it
// does not.
func StickyReason(svc *corev1.Service) string {
	if !ExternallyAccessible(svc) {
		return ""
	}
	a := svc.Annotations
	if v, _ := ann(a, annCCEMode); v == "SOURCE_IP" && svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		return "CCE ELB session-affinity-mode SOURCE_IP"
	}
	if _, v, ok := ackAnn(a, "persistence-timeout"); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
			return "ACK CLB persistence-timeout " + strconv.Itoa(n)
		}
	}
	if v, ok := ann(a, annAWSNLBAttrs); ok {
		if m, err := ParseAWSStringMap(v); err == nil && m["stickiness.enabled"] == "true" && m["stickiness.type"] == "source_ip" {
			return "AWS NLB source_ip stickiness"
		}
	}
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer && Affinity(svc) == corev1.ServiceAffinityClientIP {
		return "sessionAffinity ClientIP on a cloud load balancer (mapped to source-IP distribution)"
	}
	return ""
}

// CCECookieSticky reports a CCE HTTP_COOKIE/APP_COOKIE Service that backs an
// ELB Ingress (CCE-008's L7 case).
func CCECookieSticky(svc *corev1.Service) bool {
	v, _ := ann(svc.Annotations, annCCEMode)
	return (v == "HTTP_COOKIE" || v == "APP_COOKIE") && ExternallyAccessible(svc)
}

// PodDirect reports whether the Service's load balancer sends traffic to pod
// IPs directly (the X-003 predicate), so externalTrafficPolicy and pod spread
// do not matter for stickiness.
func PodDirect(svc *corev1.Service, pol *policy.Policy) bool {
	a := svc.Annotations
	if v, _ := ann(a, annAWSNLBTargetType); strings.TrimSpace(v) == "ip" {
		return true
	}
	if v, _ := ann(a, annAWSALBTargetType); strings.TrimSpace(v) == "ip" {
		return true
	}
	if v, ok := ann(a, annGKENEG); ok && NEGIngress(v) {
		return true
	}
	if v, _ := ann(a, annACKBackend); strings.TrimSpace(v) == "eni" {
		return true
	}
	if v, _ := ann(a, annTKEDirect); strings.TrimSpace(v) == "true" {
		return true
	}
	if _, ok := ann(a, annCCEMode); ok && pol.Cluster.CCE == policy.CCETurbo {
		if cls, _ := ann(a, annCCEClass); cls == "performance" {
			return true
		}
	}
	return false
}

// NEGIngress reports whether a cloud.google.com/neg value enables NEGs for
// Ingress ('{"ingress": true}').
func NEGIngress(v string) bool {
	var neg struct {
		Ingress bool `json:"ingress"`
	}
	return json.Unmarshal([]byte(v), &neg) == nil && neg.Ingress
}

// NeedsLocal reports whether stickyguard would set externalTrafficPolicy
// Local on this Service (SVC-005, CCE-008, X-002/X-003), with the reason.
func NeedsLocal(svc *corev1.Service, pol *policy.Policy) (string, bool) {
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer && svc.Spec.Type != corev1.ServiceTypeNodePort {
		return "", false
	}
	if PodDirect(svc, pol) {
		return "", false
	}
	if r := StickyReason(svc); r != "" {
		return r, true
	}
	if CCECookieSticky(svc) && pol.Cluster.CCE != policy.CCETurbo {
		return "CCE ELB cookie stickiness in a CCE standard cluster", true
	}
	return "", false
}

// NeedsSpread reports whether the pods behind this Service should run at
// most one per node (DEP-001): the Service is Local or relies on source-IP
// stickiness at a node-delivering load balancer.
func NeedsSpread(svc *corev1.Service, pol *policy.Policy) bool {
	if !ExternallyAccessible(svc) || len(svc.Spec.Selector) == 0 || PodDirect(svc, pol) {
		return false
	}
	if svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal {
		return true
	}
	_, needs := NeedsLocal(svc, pol)
	return needs
}

// KeepsTrafficPolicy reports the stickyguard.io/keep-traffic-policy opt-out.
func KeepsTrafficPolicy(svc *corev1.Service) bool {
	v, _ := ann(svc.Annotations, AnnKeepTrafficPolicy)
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	return err == nil && b
}

// SelectorMatches reports whether a Service-style selector selects labels.
// An empty selector selects nothing (Services without selectors have no
// automatic endpoints).
func SelectorMatches(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if lv, ok := labels[k]; !ok || lv != v {
			return false
		}
	}
	return true
}

// ParseAWSStringMap parses an AWS Load Balancer Controller stringMap
// annotation: "k=v[,k=v]*", a backslash escapes a literal comma, spaces
// around keys and values are trimmed.
func ParseAWSStringMap(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, pair := range splitEscapedCommas(s) {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			return nil, &stringMapError{pair: pair}
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

type stringMapError struct{ pair string }

func (e *stringMapError) Error() string {
	return "failed to parse stringMap annotation: " + strconv.Quote(e.pair) + " is not key=value"
}

func splitEscapedCommas(s string) []string {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == ',':
			cur.WriteByte(',')
			i++
		case s[i] == ',':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(s[i])
		}
	}
	return append(parts, cur.String())
}

// parseBool mirrors strconv.ParseBool, the parser every controller here uses.
func parseBool(v string) (bool, bool) {
	b, err := strconv.ParseBool(v)
	return b, err == nil
}
