package validators

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/policy"
)

// A default is a value stickyguard fills in. Each one is declared once,
// beside its rule: the field it sets and the decision whether it applies to
// an object (policy overrides, opt-out annotations and, offline, values the
// author wrote explicitly included). How it is filled is a mutator
// (mutators/); the engine pairs each declaration with its mutator
// (engine/defaults.go) and loops over them. Rules that judge an object as it
// will be stored ask the same decision (EffectiveLocal), so the engine and
// the rules never disagree.

// Decision is a default's answer for one object.
type Decision struct {
	// Rule is the default's rule ID; "" when the object does not need the
	// default (nothing to decide).
	Rule string
	// Reason names what makes the default needed, for rule messages.
	Reason string
	// Value is the value stickyguard sets, for the mutation message.
	Value string
	// Why explains the mutation, for the mutation message.
	Why string
	// Set is true when stickyguard fills the default (the mutator still
	// leaves a value the author set alone).
	Set bool
	// Blocked says why the default is needed but not filled ("" otherwise).
	Blocked string
}

// ServiceDefault declares a default stickyguard fills on a Service.
type ServiceDefault struct {
	// Field is where the default is set.
	Field *field.Path
	// Decide decides for one Service; asWritten means the object is as its
	// author wrote it (offline, before API defaults).
	Decide func(svc *corev1.Service, pol *policy.Policy, asWritten bool) Decision
}

// WorkloadDefault declares a default stickyguard fills on the pod template
// of a Deployment or a StatefulSet.
type WorkloadDefault struct {
	// Field is where the default is set.
	Field *field.Path
	// Decide decides for one workload from its annotations and the Services
	// selecting its pods.
	Decide func(annotations map[string]string, svcs []*corev1.Service, pol *policy.Policy) Decision
}

// blockedByPolicy is the Blocked text of a default whose rule the policy
// disables.
func blockedByPolicy(rule string) string {
	return "the policy disables " + rule
}
