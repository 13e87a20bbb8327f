package validators

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/policy"
)

// RuleFunc is the shape of a rule family for objects of type T: the object,
// the old object (nil on create) and the context; deny findings and warnings.
type RuleFunc[T any] func(obj, old T, ctx *Context) (field.ErrorList, Warnings)

// Rule family shapes per kind.
type (
	ServiceRuleFunc     = RuleFunc[*corev1.Service]
	IngressRuleFunc     = RuleFunc[*networkingv1.Ingress]
	DeploymentRuleFunc  = RuleFunc[*appsv1.Deployment]
	StatefulSetRuleFunc = RuleFunc[*appsv1.StatefulSet]
)

// BackendConfigRuleFunc is the shape of a BackendConfig rule family.
type BackendConfigRuleFunc func(bc *BackendConfig, ctx *Context) (field.ErrorList, Warnings)

// The one table of rule families per kind. Offline-only families are listed
// separately and run only when Context.Offline is set.
var (
	serviceFamilies = []ServiceRuleFunc{
		validateServiceMeta, validateServiceCore, validateServiceNginx, validateServiceTraefik, validateServiceHAProxy,
		validateServiceCCE, validateServiceACK, validateServiceTKE, validateServiceGKE, validateServiceAWS,
	}
	serviceOfflineFamilies = []ServiceRuleFunc{validateServiceAPIChecks}
	ingressFamilies        = []IngressRuleFunc{
		validateIngressMeta, validateIngressNginx, validateIngressTraefik, validateIngressHAProxy,
		validateIngressAGIC, validateIngressCCE, validateIngressGKE, validateIngressAWS, validateIngressForeign,
	}
	ingressOfflineFamilies = []IngressRuleFunc{validateIngressNginxOffline}
	deploymentFamilies     = []DeploymentRuleFunc{validateDeploymentMeta, validateDeployment}
	statefulSetFamilies    = []StatefulSetRuleFunc{validateStatefulSetMeta, validateStatefulSet}
	backendConfigFamilies  = []BackendConfigRuleFunc{validateBackendConfigGKE}
)

// runFamilies runs the live families, and the offline ones when the context
// is offline, collecting every finding, then applies the policy overrides.
func runFamilies[T any](obj, old T, ctx *Context, live, offline []RuleFunc[T]) (field.ErrorList, Warnings) {
	var errs field.ErrorList
	var warns Warnings
	fams := live
	if ctx.Offline {
		fams = append(fams[:len(fams):len(fams)], offline...)
	}
	for _, fn := range fams {
		e, w := fn(obj, old, ctx)
		errs = append(errs, e...)
		warns = append(warns, w...)
	}
	return ApplyOverrides(errs, warns, ctx.Policy)
}

// ValidateService runs every Service rule and applies the policy's overrides.
func ValidateService(svc, old *corev1.Service, ctx *Context) (field.ErrorList, Warnings) {
	return runFamilies(svc, old, ctx, serviceFamilies, serviceOfflineFamilies)
}

// ValidateIngress runs every Ingress rule and applies the policy's overrides.
func ValidateIngress(ing, old *networkingv1.Ingress, ctx *Context) (field.ErrorList, Warnings) {
	return runFamilies(ing, old, ctx, ingressFamilies, ingressOfflineFamilies)
}

// ValidateDeployment runs every Deployment rule and applies the overrides.
func ValidateDeployment(d, old *appsv1.Deployment, ctx *Context) (field.ErrorList, Warnings) {
	return runFamilies(d, old, ctx, deploymentFamilies, nil)
}

// ValidateStatefulSet runs every StatefulSet rule (the Deployment rules'
// workload checks, on its pod template) and applies the overrides.
func ValidateStatefulSet(s, old *appsv1.StatefulSet, ctx *Context) (field.ErrorList, Warnings) {
	return runFamilies(s, old, ctx, statefulSetFamilies, nil)
}

// ValidateBackendConfig runs the GKE BackendConfig rules (offline and audit).
func ValidateBackendConfig(bc *BackendConfig, ctx *Context) (field.ErrorList, Warnings) {
	var errs field.ErrorList
	var warns Warnings
	for _, fn := range backendConfigFamilies {
		e, w := fn(bc, ctx)
		errs = append(errs, e...)
		warns = append(warns, w...)
	}
	return ApplyOverrides(errs, warns, ctx.Policy)
}

// ApplyOverrides moves findings between errors and warnings according to the
// policy's per-rule overrides (deny, warn, disabled).
func ApplyOverrides(errs field.ErrorList, warns Warnings, pol *policy.Policy) (field.ErrorList, Warnings) {
	if pol == nil || len(pol.Rules) == 0 {
		return errs, warns
	}
	var outE field.ErrorList
	var outW Warnings
	for _, e := range errs {
		switch pol.Override(e.Origin) {
		case policy.OverrideDisabled:
		case policy.OverrideWarn:
			outW = append(outW, Warning{Rule: e.Origin, Field: fieldPathOf(e), Value: e.BadValue, Detail: e.Detail})
		default:
			outE = append(outE, e)
		}
	}
	for _, w := range warns {
		switch pol.Override(w.Rule) {
		case policy.OverrideDisabled:
		case policy.OverrideDeny:
			var e *field.Error
			if w.Field == nil {
				e = field.Forbidden(field.NewPath("metadata"), w.Detail)
			} else if w.Value != nil {
				e = field.Invalid(w.Field, w.Value, w.Detail)
			} else {
				e = field.Forbidden(w.Field, w.Detail)
			}
			outE = append(outE, fitConverted(e.WithOrigin(w.Rule)))
		default:
			outW = append(outW, w)
		}
	}
	return outE, outW
}

// fieldPathOf rebuilds a *field.Path from a field.Error's string path, which
// is all field.Error keeps. Warnings only print it, so a single-element path
// holding the whole string is faithful.
func fieldPathOf(e *field.Error) *field.Path {
	if e.Field == "" {
		return nil
	}
	return field.NewPath(e.Field)
}
