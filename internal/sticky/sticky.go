package sticky

import corev1 "k8s.io/api/core/v1"

// LabelMode is the namespace label that opts a namespace in (enforce or
// audit): the webhook's mode and the audit's --opted-in both read it.
const LabelMode = "stickyguard.io/mode"

// stickyguard's own annotation keys.
const (
	// AnnKeepTrafficPolicy opts a Service out of the externalTrafficPolicy
	// Local default ("true").
	AnnKeepTrafficPolicy = "stickyguard.io/keep-traffic-policy"
	// AnnAntiAffinity overrides the policy's anti-affinity mode for one
	// workload (preferred, required, disabled).
	AnnAntiAffinity = "stickyguard.io/anti-affinity"
	// AnnIgnore exempts one object; its value is the (required) reason.
	AnnIgnore = "stickyguard.io/ignore"
)

// HostnameTopologyKey is the node label anti-affinity spreads over.
const HostnameTopologyKey = "kubernetes.io/hostname"

// SpreadsByHostname reports whether a pod template already has pod
// anti-affinity of any kind, or a topology spread constraint over hostname:
// the author made a spreading decision stickyguard leaves alone.
func SpreadsByHostname(spec *corev1.PodSpec) bool {
	if a := spec.Affinity; a != nil && a.PodAntiAffinity != nil {
		paa := a.PodAntiAffinity
		if len(paa.RequiredDuringSchedulingIgnoredDuringExecution) > 0 || len(paa.PreferredDuringSchedulingIgnoredDuringExecution) > 0 {
			return true
		}
	}
	for _, c := range spec.TopologySpreadConstraints {
		if c.TopologyKey == HostnameTopologyKey {
			return true
		}
	}
	return false
}
