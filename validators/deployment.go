package validators

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/mutators"
)

// Deployment rules (STICKY-FACTS A.4).
var (
	dep001 = &Rule{
		ID: "DEP-001", Severity: Warn, Kinds: []string{KindDeployment}, Family: "Deployment", Default: true,
		Title:  "pods selected by a Local or LB-sticky Service are not spread one per node (stickyguard adds hostname pod anti-affinity unless disabled)",
		Fix:    "add podAntiAffinity on kubernetes.io/hostname, or remove stickyguard.io/anti-affinity: disabled",
		Source: "Huawei CCE best practice (anti-affinity prerequisite); create-external-load-balancer.md caveats",
	}
	dep002 = &Rule{
		ID: "DEP-002", Severity: Warn, Kinds: []string{KindDeployment}, Family: "Deployment",
		Title:  "stickyguard changed the pod template on UPDATE, which starts a rollout; required anti-affinity with more replicas than nodes leaves pods Pending",
		Fix:    "expect a rollout; with required anti-affinity keep replicas <= schedulable nodes (or use preferred)",
		Source: "Deployment semantics: any template change creates a new ReplicaSet",
	}
	dep003 = &Rule{
		ID: "DEP-003", Severity: Warn, Kinds: []string{KindDeployment}, Family: "Deployment",
		Title:  "the pods of a Local Service are pinned to a single node, so all load balancer traffic lands on one node",
		Fix:    "drop nodeName / the single-host nodeSelector or node affinity, or spread the pods",
		Source: "kubernetes#97147",
	}
)

var deploymentRules = []*Rule{dep001, dep002, dep003}

// TemplateChangeWarning is the DEP-002 warning the engine attaches when it
// injects anti-affinity on UPDATE.
func TemplateChangeWarning() Warning {
	return Warning{Rule: dep002.ID, Field: field.NewPath("spec", "template"), Message: message(dep002, "")}
}

func validateDeployment(d, _ *appsv1.Deployment, ctx *Context) (field.ErrorList, Warnings) {
	var f findings
	var sticky, local *corev1.Service
	for _, s := range ctx.Related.Services {
		if sticky == nil && NeedsSpread(s, ctx.Policy) {
			sticky = s
		}
		if local == nil && TrafficPolicy(s) == corev1.ServiceExternalTrafficPolicyLocal {
			local = s
		}
	}
	pod := &d.Spec.Template.Spec
	podPath := field.NewPath("spec", "template", "spec")
	if sticky != nil && !mutators.SpreadsByHostname(pod) {
		f.warn(dep001, podPath.Child("affinity"), nil, fmt.Sprintf("Service %s needs at most one pod per node", sticky.Name))
	}
	if local != nil {
		if p, ok := pinnedToOneNode(pod, podPath); ok {
			f.warn(dep003, p, nil, fmt.Sprintf("Service %s is Local", local.Name))
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
