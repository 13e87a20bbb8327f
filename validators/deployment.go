package validators

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/internal/sticky"
	"github.com/stickyguard/stickyguard/policy"
)

// Workload rules (STICKY-FACTS A.4): Deployments and StatefulSets, whose
// pods a sticky Service selects, are judged alike.
var (
	dep001 = &Rule{
		ID: "DEP-001", Severity: Warn, Kinds: []string{KindDeployment, KindStatefulSet}, Family: "Deployment", Default: true,
		Title:   "pods behind a sticky Service are not spread one per node (stickyguard adds hostname pod anti-affinity unless disabled)",
		Fix:     "add podAntiAffinity on kubernetes.io/hostname, or remove stickyguard.io/anti-affinity: disabled",
		Explain: "Applies to Deployments and StatefulSets alike: the term selects the workload's own pods by its spec.selector.",
		Source:  "Huawei CCE best practice (anti-affinity prerequisite); create-external-load-balancer.md caveats",
	}
	dep002 = &Rule{
		ID: "DEP-002", Severity: Warn, Kinds: []string{KindDeployment, KindStatefulSet}, Family: "Deployment",
		Title: "stickyguard changed the pod template on UPDATE, which starts a rollout",
		Fix:   "expect a rollout; with required anti-affinity keep replicas <= schedulable nodes",
		Explain: "Required anti-affinity with more replicas than schedulable nodes leaves pods Pending (use preferred to avoid it). A Deployment creates a new ReplicaSet; a StatefulSet with the default RollingUpdate strategy replaces its pods " +
			"one at a time from the highest ordinal (with OnDelete, only pods deleted later get the new template). With " +
			"OrderedReady pod management a Pending pod also stops the pods after it.",
		Source: "Deployment and StatefulSet semantics: a template change creates a new revision",
	}
	dep003 = &Rule{
		ID: "DEP-003", Severity: Warn, Kinds: []string{KindDeployment, KindStatefulSet}, Family: "Deployment",
		Title:  "the pods of a sticky Local Service are pinned to a single node, so one node takes all load balancer traffic",
		Fix:    "drop nodeName / the single-host nodeSelector or node affinity, or spread the pods",
		Source: "kubernetes#97147",
	}
)

var deploymentRules = []*Rule{dep001, dep002, dep003}

// SpreadDefault is the DEP-001 default (see defaults.go): hostname pod
// anti-affinity on the pods of a Service that needs them one per node.
var SpreadDefault = WorkloadDefault{
	Field:  field.NewPath("spec", "template", "spec", "affinity", "podAntiAffinity"),
	Decide: DecideSpread,
}

// DecideSpread is the DEP-001 decision for a workload whose pods svcs
// select: spread when one of them needs it (NeedsSpread), unless the policy
// disables DEP-001 or the anti-affinity mode (the workload's annotation, else
// the policy's) is disabled.
func DecideSpread(annotations map[string]string, svcs []*corev1.Service, pol *policy.Policy) Decision {
	svc := firstNeedingSpread(svcs, pol)
	if svc == nil {
		return Decision{}
	}
	mode := AntiAffinityMode(annotations, pol)
	d := Decision{Rule: dep001.ID, Reason: "Service " + svc.Name + " needs at most one pod per node",
		Value: string(mode) + " on " + sticky.HostnameTopologyKey,
		Why:   "Service " + svc.Name + " needs at most one pod per node for stickiness"}
	switch {
	case pol.Override(dep001.ID) == policy.OverrideDisabled:
		d.Blocked = blockedByPolicy(dep001.ID)
	case mode == policy.AntiAffinityDisabled:
		d.Blocked = "the anti-affinity mode is disabled"
	default:
		d.Set = true
	}
	return d
}

// AntiAffinityMode is the workload's stickyguard.io/anti-affinity annotation
// when valid, else the policy's mode. Invalid values are denied by SG-002.
func AntiAffinityMode(annotations map[string]string, pol *policy.Policy) policy.AntiAffinityMode {
	switch m := policy.AntiAffinityMode(annotations[sticky.AnnAntiAffinity]); m {
	case policy.AntiAffinityPreferred, policy.AntiAffinityRequired, policy.AntiAffinityDisabled:
		return m
	}
	return pol.AntiAffinity.Mode
}

// firstNeedingSpread returns the first Service whose stickiness needs the
// pods spread one per node, or nil.
func firstNeedingSpread(svcs []*corev1.Service, pol *policy.Policy) *corev1.Service {
	for _, s := range svcs {
		if NeedsSpread(s, pol) {
			return s
		}
	}
	return nil
}

// TemplateChangeWarning is the DEP-002 warning the engine attaches when it
// injects anti-affinity on UPDATE.
func TemplateChangeWarning() Warning {
	return Warning{Rule: dep002.ID, Field: field.NewPath("spec", "template"), Detail: message(dep002, "")}
}

func validateDeployment(d, _ *appsv1.Deployment, ctx *Context) (field.ErrorList, Warnings) {
	return validateWorkload(&d.Spec.Template.Spec, ctx)
}

func validateStatefulSet(s, _ *appsv1.StatefulSet, ctx *Context) (field.ErrorList, Warnings) {
	return validateWorkload(&s.Spec.Template.Spec, ctx)
}

// validateWorkload runs DEP-001 and DEP-003 on the pod template of a
// Deployment or StatefulSet, with the Services selecting its pods.
func validateWorkload(pod *corev1.PodSpec, ctx *Context) (field.ErrorList, Warnings) {
	var f findings
	// The same Service DecideSpread fills the default for.
	stickySvc := firstNeedingSpread(ctx.Related.Services, ctx.Policy)
	var local *corev1.Service
	for _, s := range ctx.Related.Services {
		// DEP-003 concerns sticky Services only: an ingress controller's
		// own Local Service pinned to one node is a deliberate choice.
		if local == nil && NeedsSpread(s, ctx.Policy) && EffectiveLocal(s, ctx.Policy, ctx.Offline) {
			local = s
		}
	}
	podPath := field.NewPath("spec", "template", "spec")
	if stickySvc != nil && !sticky.SpreadsByHostname(pod) {
		f.warn(dep001, podPath.Child("affinity"), nil, fmt.Sprintf("Service %s needs at most one pod per node", clipTo(stickySvc.Name, 40)))
	}
	if local != nil {
		if p, ok := pinnedToOneNode(pod, podPath); ok {
			f.warn(dep003, p, nil, fmt.Sprintf("Service %s is sticky and Local", clipTo(local.Name, 40)))
		}
	}
	return f.result()
}

// pinnedToOneNode reports a pod template that can only run on one node.
func pinnedToOneNode(pod *corev1.PodSpec, podPath *field.Path) (*field.Path, bool) {
	if pod.NodeName != "" {
		return podPath.Child("nodeName"), true
	}
	if _, ok := pod.NodeSelector[corev1.LabelHostname]; ok {
		return podPath.Child("nodeSelector").Key(corev1.LabelHostname), true
	}
	if a := pod.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		terms := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
		if len(terms) == 1 {
			for _, e := range terms[0].MatchExpressions {
				if e.Key == corev1.LabelHostname && e.Operator == corev1.NodeSelectorOpIn && len(e.Values) == 1 {
					return podPath.Child("affinity", "nodeAffinity"), true
				}
			}
		}
	}
	return nil, false
}
