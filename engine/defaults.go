package engine

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/stickyguard/stickyguard/mutators"
	"github.com/stickyguard/stickyguard/policy"
	"github.com/stickyguard/stickyguard/validators"
)

// serviceDefault pairs a Service default's declaration (validators: where
// and whether) with its mutator (how).
type serviceDefault struct {
	decl  validators.ServiceDefault
	apply func(svc *corev1.Service, pol *policy.Policy) (changed bool)
}

// serviceDefaults are the Service defaults in the order they apply. A new
// default is declared beside its rule in validators/, filled by a function
// in mutators/ and listed here.
func serviceDefaults() []serviceDefault {
	return []serviceDefault{
		{decl: validators.ClientIPTimeoutDefault, apply: func(svc *corev1.Service, pol *policy.Policy) bool {
			return mutators.ClientIPTimeout(svc, pol.Service.ClientIPTimeout.Default)
		}},
		{decl: validators.LocalDefault, apply: func(svc *corev1.Service, _ *policy.Policy) bool {
			return mutators.LocalTrafficPolicy(svc)
		}},
	}
}

// workloadDefault pairs a Deployment/StatefulSet default's declaration with
// its mutator.
type workloadDefault struct {
	decl  validators.WorkloadDefault
	apply func(w *workload, pol *policy.Policy) (changed bool)
}

// workloadDefaults are the pod-template defaults in the order they apply.
func workloadDefaults() []workloadDefault {
	return []workloadDefault{
		{decl: validators.SpreadDefault, apply: func(w *workload, pol *policy.Policy) bool {
			required := validators.AntiAffinityMode(w.meta.Annotations, pol) == policy.AntiAffinityRequired
			return mutators.AntiAffinity(w.template, w.selector, required, pol.AntiAffinity.Weight)
		}},
	}
}

// fillServiceDefaults applies every Service default the declarations decide
// on, except where the author wrote the field elsewhere (offline).
func fillServiceDefaults(svc *corev1.Service, o *Options, res *Result) {
	for _, def := range serviceDefaults() {
		path := def.decl.Field
		d := def.decl.Decide(svc, o.Policy, o.Offline)
		if d.Set && !o.wroteElsewhere(validators.KindService, svc.Namespace, svc.Name, path.String()) && def.apply(svc, o.Policy) {
			res.mutated(d.Rule, path, d.Value, d.Why)
		}
	}
}

// fillWorkloadDefaults applies every pod-template default the declarations
// decide on; on UPDATE a changed template starts a rollout, which DEP-002
// says.
func fillWorkloadDefaults(w *workload, svcs []*corev1.Service, o *Options, res *Result) {
	for _, def := range workloadDefaults() {
		path := def.decl.Field
		d := def.decl.Decide(w.meta.Annotations, svcs, o.Policy)
		if d.Set && !o.wroteElsewhere(w.kind, w.meta.Namespace, w.meta.Name, path.String()) && def.apply(w, o.Policy) {
			res.mutated(d.Rule, path, d.Value, d.Why)
			if w.update {
				res.Warnings = append(res.Warnings, validators.TemplateChangeWarning())
			}
		}
	}
}
