package engine

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/validators"
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

func evalDeployment(in, old *appsv1.Deployment, o *Options, h half) (*Result, error) {
	d := in.DeepCopy()
	return evalWorkload(workload{
		obj: d, kind: validators.KindDeployment, meta: &d.ObjectMeta,
		selector: d.Spec.Selector, template: &d.Spec.Template, update: old != nil,
		validate: func(rel validators.Related) (field.ErrorList, validators.Warnings) {
			return validators.ValidateDeployment(d, old, o.context(rel))
		},
	}, o, h)
}

func evalStatefulSet(in, old *appsv1.StatefulSet, o *Options, h half) (*Result, error) {
	s := in.DeepCopy()
	return evalWorkload(workload{
		obj: s, kind: validators.KindStatefulSet, meta: &s.ObjectMeta,
		selector: s.Spec.Selector, template: &s.Spec.Template, update: old != nil,
		validate: func(rel validators.Related) (field.ErrorList, validators.Warnings) {
			return validators.ValidateStatefulSet(s, old, o.context(rel))
		},
	}, o, h)
}

// evalWorkload fills the DEP-001 default (hostname pod anti-affinity for
// the pods of a Service that needs them spread) and runs the workload's
// rules on the result. Deployments and StatefulSets go the same way.
func evalWorkload(w workload, o *Options, h half) (*Result, error) {
	res := &Result{Object: w.obj}
	if res.Exempt = exemption(w.meta.Annotations); res.Exempt != "" {
		return res, nil
	}
	svcs, err := o.Lookup.ServicesSelecting(w.meta.Namespace, w.template.Labels)
	if err != nil {
		return nil, fmt.Errorf("looking up Services selecting %s %s/%s: %w", w.kind, w.meta.Namespace, w.meta.Name, err)
	}
	fillWorkloadDefaults(&w, svcs, o, res)
	if h.reportsDefaults() {
		res.mutationWarnings()
	}
	if !h.validates() {
		return res, nil
	}
	errs, warns := w.validate(validators.Related{Services: svcs})
	res.Errors = errs
	res.Warnings = append(res.Warnings, warns...)
	return res, nil
}
