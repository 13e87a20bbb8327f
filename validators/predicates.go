package validators

import (
	"encoding/json"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/stickyguard/stickyguard/internal/sticky"
	"github.com/stickyguard/stickyguard/policy"
)

// Annotation keys shared by several families and by the predicates below.
const (
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
	annAWSLBType        = "service.beta.kubernetes.io/aws-load-balancer-type"

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

// nodeSticky reports the node-level stickiness of a Service (the X-002
// predicate): the load balancer's own stickiness pins each client to a node,
// so the node must not re-balance. It returns the rule of the Local default
// (SVC-005, or CCE-008 for CCE ELB stickiness) and the reason, or "" when
// the load balancer does not pin nodes: no provider stickiness, pod-direct
// backends, or a Service type that gets no provider load balancer.
// Plain sessionAffinity: ClientIP is not node-level stickiness.
func nodeSticky(svc *corev1.Service, pol *policy.Policy) (rule, reason string) {
	if PodDirect(svc, pol) {
		return "", ""
	}
	lb := svc.Spec.Type == corev1.ServiceTypeLoadBalancer
	if mode := svc.Annotations[annCCEMode]; pol.Cluster.CCE != policy.CCETurbo {
		switch {
		case mode == "SOURCE_IP" && lb:
			return cce008.ID, "CCE ELB SOURCE_IP stickiness"
		case (mode == "HTTP_COOKIE" || mode == "APP_COOKIE") && (lb || svc.Spec.Type == corev1.ServiceTypeNodePort):
			// The Service behind a CCE ELB Ingress (a NodePort in standard
			// clusters) carries the pool's cookie stickiness.
			return cce008.ID, "CCE ELB " + mode + " stickiness"
		}
	}
	if !lb {
		return "", ""
	}
	if r := ackNodeSticky(svc); r != "" {
		return svc005.ID, r
	}
	if _, ok := awsNLBSticky(svc.Annotations); ok {
		return svc005.ID, "AWS NLB source_ip stickiness on instance targets"
	}
	return "", ""
}

// ackNodeSticky names the ACK CLB stickiness that applies to the Service's
// listeners: persistence-timeout > 0 on TCP/UDP listeners, sticky-session on
// on HTTP/HTTPS listeners (a key the listeners ignore does not count).
func ackNodeSticky(svc *corev1.Service) string {
	a := svc.Annotations
	_, timeout, hasTimeout := ackAnn(a, "persistence-timeout")
	_, sticky, hasSticky := ackAnn(a, "sticky-session")
	if !hasTimeout && !hasSticky {
		return "" // the listeners need not be read
	}
	protos, known := ackListenerProtocols(svc)
	has := func(want ...string) bool {
		if !known {
			return true
		}
		for _, p := range protos {
			for _, w := range want {
				if p == w {
					return true
				}
			}
		}
		return false
	}
	if hasTimeout {
		if n, err := strconv.Atoi(strings.TrimSpace(timeout)); err == nil && n > 0 && has("tcp", "udp") {
			return "ACK CLB persistence-timeout"
		}
	}
	if hasSticky && strings.TrimSpace(sticky) == "on" && has("http", "https") {
		return "ACK CLB sticky-session"
	}
	return ""
}

// awsNLBSticky reports the first NLB target-group-attributes annotation
// (including the per-port .PORT keys) that enables stickiness (source_ip,
// the only NLB type; AWS-005 denies others). Target types are not checked.
func awsNLBSticky(a map[string]string) (string, bool) {
	for _, k := range keysWhere(a, isNLBAttrsKey) {
		m, err := ParseAWSStringMap(a[k])
		if err == nil && m["stickiness.enabled"] == "true" && (m["stickiness.type"] == "" || m["stickiness.type"] == "source_ip") {
			return k, true
		}
	}
	return "", false
}

// PodDirect reports whether the Service's load balancer sends traffic to pod
// IPs directly (the X-003 predicate), so externalTrafficPolicy and pod spread
// do not matter for stickiness.
func PodDirect(svc *corev1.Service, pol *policy.Policy) bool {
	a := svc.Annotations
	if v, _ := ann(a, annAWSNLBTargetType); strings.TrimSpace(v) == "ip" {
		return true
	}
	if v, _ := ann(a, annAWSLBType); strings.TrimSpace(v) == "nlb-ip" {
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

// DecideLocal is the one decision on the Local default: the engine fills the
// default when Set, and every rule that needs the Service's traffic policy
// after defaults asks it (EffectiveLocal), so a policy override, an opt-out
// or an explicit value changes the engine and the rules alike. asWritten
// means the object is as its author wrote it (offline, no API defaults): an
// explicit externalTrafficPolicy: Cluster is then visible and kept.
func DecideLocal(svc *corev1.Service, pol *policy.Policy, asWritten bool) Decision {
	rule, reason := nodeSticky(svc, pol)
	d := Decision{Rule: rule, Reason: reason, Value: string(corev1.ServiceExternalTrafficPolicyLocal),
		Why: reason + " pins clients to nodes; nodes must forward only to local pods (opt out: " + sticky.AnnKeepTrafficPolicy + ": \"true\")"}
	if rule == "" || svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal {
		return d
	}
	switch {
	case pol.Override(rule) == policy.OverrideDisabled:
		d.Blocked = blockedByPolicy(rule)
	case !pol.SetLocal():
		d.Blocked = "the policy turns the Local default off"
	case KeepsTrafficPolicy(svc):
		d.Blocked = sticky.AnnKeepTrafficPolicy + " keeps Cluster"
	case asWritten && svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyCluster:
		d.Blocked = "Cluster is written explicitly, so stickyguard keeps it"
	default:
		d.Set = true
	}
	return d
}

// EffectiveLocal reports whether the Service is Local once stickyguard's
// defaults apply: Local already, or DecideLocal sets it.
func EffectiveLocal(svc *corev1.Service, pol *policy.Policy, asWritten bool) bool {
	return svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal || DecideLocal(svc, pol, asWritten).Set
}

// SpreadReason says why the pods behind this Service should run at most one
// per node (DEP-001, SVC-012): node-level stickiness at the load balancer
// or ClientIP affinity with externalTrafficPolicy Local. A Service
// that is merely Local (an ingress controller's own Service) is not sticky
// and needs no spread. "" when none applies.
func SpreadReason(svc *corev1.Service, pol *policy.Policy) string {
	if !ExternallyAccessible(svc) || len(svc.Spec.Selector) == 0 || PodDirect(svc, pol) {
		return ""
	}
	if _, r := nodeSticky(svc, pol); r != "" {
		return r
	}
	if Affinity(svc) == corev1.ServiceAffinityClientIP && svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal {
		return "ClientIP affinity with externalTrafficPolicy Local"
	}
	return ""
}

// NeedsSpread reports whether the pods behind this Service should run at
// most one per node (see SpreadReason).
func NeedsSpread(svc *corev1.Service, pol *policy.Policy) bool {
	return SpreadReason(svc, pol) != ""
}

// KeepsTrafficPolicy reports the stickyguard.io/keep-traffic-policy opt-out.
func KeepsTrafficPolicy(svc *corev1.Service) bool {
	v, _ := ann(svc.Annotations, sticky.AnnKeepTrafficPolicy)
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
