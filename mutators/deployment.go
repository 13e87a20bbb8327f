package mutators

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stickyguard/stickyguard/internal/sticky"
)

// AntiAffinity adds a hostname pod anti-affinity term for a workload's own
// pods to its pod template: preferred with weight or, when required is set,
// requiredDuringScheduling. sel is the workload's spec.selector (a
// Deployment's or a StatefulSet's), which the term copies. A template that
// already has any pod anti-affinity, or a topology spread constraint over
// hostname, is left alone; so is a workload without a selector. Applying it
// twice changes nothing.
func AntiAffinity(tpl *corev1.PodTemplateSpec, sel *metav1.LabelSelector, required bool, weight int32) (changed bool) {
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		return false
	}
	spec := &tpl.Spec
	if sticky.SpreadsByHostname(spec) {
		return false
	}
	if spec.Affinity == nil {
		spec.Affinity = &corev1.Affinity{}
	}
	if spec.Affinity.PodAntiAffinity == nil {
		spec.Affinity.PodAntiAffinity = &corev1.PodAntiAffinity{}
	}
	term := corev1.PodAffinityTerm{
		LabelSelector: selectorFor(sel),
		TopologyKey:   sticky.HostnameTopologyKey,
	}
	paa := spec.Affinity.PodAntiAffinity
	if required {
		paa.RequiredDuringSchedulingIgnoredDuringExecution = append(paa.RequiredDuringSchedulingIgnoredDuringExecution, term)
	} else {
		paa.PreferredDuringSchedulingIgnoredDuringExecution = append(paa.PreferredDuringSchedulingIgnoredDuringExecution,
			corev1.WeightedPodAffinityTerm{Weight: weight, PodAffinityTerm: term})
	}
	return true
}

// selectorFor copies the workload selector: matchLabels when present
// (the common case), otherwise the whole selector.
func selectorFor(sel *metav1.LabelSelector) *metav1.LabelSelector {
	if len(sel.MatchLabels) > 0 {
		ml := make(map[string]string, len(sel.MatchLabels))
		for k, v := range sel.MatchLabels {
			ml[k] = v
		}
		return &metav1.LabelSelector{MatchLabels: ml}
	}
	return sel.DeepCopy()
}
