package mutators

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/stickyguard/stickyguard/policy"
)

// ClientIPTimeout fills spec.sessionAffinityConfig.clientIP.timeoutSeconds
// on a ClientIP Service with timeout seconds. It sets the value when it is
// missing (a raw manifest) and replaces the API server's default
// (policy.DefaultClientIPTimeout, 10800) when the organisation's default
// differs (SVC-008: by the time a webhook sees the object the API server has
// already written 10800, so "omitted" and "10800" look the same). A missing
// value is left to the API server when the organisation's default is its
// default: the stored object is the same, and `check` then reports what serve
// reports (nothing). Other values and None Services are left alone.
func ClientIPTimeout(svc *corev1.Service, timeout int32) (changed bool) {
	if svc.Spec.SessionAffinity != corev1.ServiceAffinityClientIP {
		return false
	}
	var cur *int32
	if c := svc.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil {
		cur = c.ClientIP.TimeoutSeconds
	}
	switch {
	case cur == nil && timeout == policy.DefaultClientIPTimeout:
		return false
	case cur != nil && (*cur != policy.DefaultClientIPTimeout || timeout == policy.DefaultClientIPTimeout):
		return false
	}
	if svc.Spec.SessionAffinityConfig == nil {
		svc.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{}
	}
	if svc.Spec.SessionAffinityConfig.ClientIP == nil {
		svc.Spec.SessionAffinityConfig.ClientIP = &corev1.ClientIPConfig{}
	}
	t := timeout
	svc.Spec.SessionAffinityConfig.ClientIP.TimeoutSeconds = &t
	return true
}

// LocalTrafficPolicy sets spec.externalTrafficPolicy to Local on a NodePort
// or LoadBalancer Service unless it is Local already. The caller decides
// (validators.LocalDefault) that the load balancer's own stickiness pins
// clients to nodes (SVC-005, CCE-008), that nothing keeps the default off,
// and that the author did not write Cluster visibly.
func LocalTrafficPolicy(svc *corev1.Service) (changed bool) {
	if svc.Spec.Type != corev1.ServiceTypeNodePort && svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return false
	}
	if svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal {
		return false
	}
	svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	return true
}
