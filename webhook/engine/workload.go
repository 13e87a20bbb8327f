package engine

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/internal/sticky"
	"github.com/stickyguard/stickyguard/mutators"
	"github.com/stickyguard/stickyguard/validators"
	"github.com/stickyguard/stickyguard/validators/policy"
)

// workload is the part of a Deployment or StatefulSet (a deep copy, which
// the engine mutates) that the spread default reads and writes, and the
// rule families that judge it.
type workload struct {
	obj      runtime.Object
	kind     string
	meta     *metav1.ObjectMeta
	selector *metav1.LabelSelector
	template *corev1.PodTemplateSpec
	update   bool // an UPDATE (old object present)
	validate func(rel validators.Related) (field.ErrorList, validators.Warnings)
}

func evalDeployment(in, old *appsv1.Deployment, o *Options, validate bool) (*Result, error) {
	d := in.DeepCopy()
	return evalWorkload(workload{
		obj: d, kind: validators.KindDeployment, meta: &d.ObjectMeta,
		selector: d.Spec.Selector, template: &d.Spec.Template, update: old != nil,
		validate: func(rel validators.Related) (field.ErrorList, validators.Warnings) {
			return validators.ValidateDeployment(d, old, o.context(rel))
		},
	}, o, validate)
}

func evalStatefulSet(in, old *appsv1.StatefulSet, o *Options, validate bool) (*Result, error) {
	s := in.DeepCopy()
	return evalWorkload(workload{
		obj: s, kind: validators.KindStatefulSet, meta: &s.ObjectMeta,
		selector: s.Spec.Selector, template: &s.Spec.Template, update: old != nil,
		validate: func(rel validators.Related) (field.ErrorList, validators.Warnings) {
			return validators.ValidateStatefulSet(s, old, o.context(rel))
		},
	}, o, validate)
}

// evalWorkload fills the DEP-001 default (hostname pod anti-affinity for
// the pods of a Service that needs them spread) and runs the workload's
// rules on the result. Deployments and StatefulSets go the same way.
func evalWorkload(w workload, o *Options, validate bool) (*Result, error) {
	res := &Result{Object: w.obj}
	if res.Exempt = exemption(w.meta.Annotations); res.Exempt != "" {
		return res, nil
	}
	svcs, err := o.Lookup.ServicesSelecting(w.meta.Namespace, w.template.Labels)
	if err != nil {
		return nil, fmt.Errorf("looking up Services selecting %s %s/%s: %w", w.kind, w.meta.Namespace, w.meta.Name, err)
	}
	if svc := firstNeedingSpread(svcs, o.Policy); svc != nil && !o.disabled("DEP-001") &&
		!o.wroteElsewhere(w.kind, w.meta.Namespace, w.meta.Name, "spec.template.spec.affinity.podAntiAffinity") {
		mode := antiAffinityMode(w.meta.Annotations, o.Policy)
		if mode != policy.AntiAffinityDisabled && mutators.AntiAffinity(w.template, w.selector, mode == policy.AntiAffinityRequired, o.Policy.AntiAffinity.Weight) {
			res.mutated("DEP-001", "spec.template.spec.affinity.podAntiAffinity", string(mode)+" on "+sticky.HostnameTopologyKey,
				"Service "+svc.Name+" needs at most one pod per node for stickiness")
			if w.update {
				res.Warnings = append(res.Warnings, validators.TemplateChangeWarning())
			}
		}
	}
	res.mutationWarnings()
	if !validate {
		return res, nil
	}
	errs, warns := w.validate(validators.Related{Services: svcs})
	res.Errors = errs
	res.Warnings = append(res.Warnings, warns...)
	return res, nil
}

// firstNeedingSpread returns the first Service whose stickiness needs the
// pods spread one per node.
func firstNeedingSpread(svcs []*corev1.Service, pol *policy.Policy) *corev1.Service {
	for _, s := range svcs {
		if validators.NeedsSpread(s, pol) {
			return s
		}
	}
	return nil
}

// antiAffinityMode is the workload's stickyguard.io/anti-affinity annotation
// when valid, else the policy's mode. Invalid values are denied by the meta
// rules.
func antiAffinityMode(annotations map[string]string, pol *policy.Policy) policy.AntiAffinityMode {
	switch m := policy.AntiAffinityMode(annotations[sticky.AnnAntiAffinity]); m {
	case policy.AntiAffinityPreferred, policy.AntiAffinityRequired, policy.AntiAffinityDisabled:
		return m
	}
	return pol.AntiAffinity.Mode
}
