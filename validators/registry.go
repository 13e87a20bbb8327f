package validators

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/apis"
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
	// Gateway API HTTPRoute and GRPCRoute.
	RouteRuleFunc = RuleFunc[*apis.Route]
	// Gateway API XBackendTrafficPolicy and BackendLBPolicy.
	BackendPolicyRuleFunc = RuleFunc[*apis.BackendPolicy]
	// Envoy Gateway BackendTrafficPolicy.
	EnvoyPolicyRuleFunc = RuleFunc[*apis.EnvoyBackendTrafficPolicy]
	// Istio DestinationRule.
	DestinationRuleRuleFunc = RuleFunc[*apis.DestinationRule]
	// GKE GCPBackendPolicy.
	GCPPolicyRuleFunc = RuleFunc[*apis.GCPBackendPolicy]
)

// BackendConfigRuleFunc is the shape of a BackendConfig rule family (a
// BackendConfig is only ever checked as written: there is no old object).
type BackendConfigRuleFunc func(bc *BackendConfig, ctx *Context) (field.ErrorList, Warnings)

// runners are a family's rule functions, one per kind it checks (nil for a
// kind it does not check).
type runners struct {
	service       ServiceRuleFunc
	ingress       IngressRuleFunc
	deployment    DeploymentRuleFunc
	statefulSet   StatefulSetRuleFunc
	backendConfig BackendConfigRuleFunc
	route         RouteRuleFunc
	backendPolicy BackendPolicyRuleFunc
	envoyPolicy   EnvoyPolicyRuleFunc
	destRule      DestinationRuleRuleFunc
	gcpPolicy     GCPPolicyRuleFunc
}

// family declares one rule family once: its rules (the catalog) and the
// functions that check them, live (webhook, audit and check) and offline
// (`stickyguard check` only, Context.Offline).
type family struct {
	rules   []*Rule
	live    runners
	offline runners
}

// families is THE table of rule families. For each kind the live runners
// run in table order, then (offline) the offline runners in table order.
var families = []family{
	{rules: metaRules, live: runners{service: validateServiceMeta, ingress: validateIngressMeta,
		deployment: validateDeploymentMeta, statefulSet: validateStatefulSetMeta}},
	{rules: serviceRules, live: runners{service: validateServiceCore}},
	{rules: offlineServiceRules, offline: runners{service: validateServiceAPIChecks}},
	{rules: nginxRules, live: runners{service: validateServiceNginx, ingress: validateIngressNginx},
		offline: runners{ingress: validateIngressNginxOffline}},
	{rules: traefikRules, live: runners{service: validateServiceTraefik, ingress: validateIngressTraefik}},
	{rules: haproxyRules, live: runners{service: validateServiceHAProxy, ingress: validateIngressHAProxy}},
	{rules: agicRules, live: runners{ingress: validateIngressAGIC}},
	{rules: cceRules, live: runners{service: validateServiceCCE, ingress: validateIngressCCE}},
	{rules: ackRules, live: runners{service: validateServiceACK}},
	{rules: tkeRules, live: runners{service: validateServiceTKE}},
	{rules: gkeRules, live: runners{service: validateServiceGKE, ingress: validateIngressGKE,
		backendConfig: validateBackendConfigGKE}},
	{rules: awsRules, live: runners{service: validateServiceAWS, ingress: validateIngressAWS}},
	{rules: deploymentRules, live: runners{deployment: validateDeployment, statefulSet: validateStatefulSet}},
	{rules: crossRules, live: runners{ingress: validateIngressForeign}},
	// Gateway API sessionPersistence (validators/gateway_api.go) and what
	// each implementation does with it (validators/gateway_impl.go).
	{rules: gatewayRules, live: runners{route: validateRouteGateway, backendPolicy: validateBackendPolicyGateway},
		offline: runners{route: validateRouteGatewayOffline, backendPolicy: validateBackendPolicyGatewayOffline}},
	{rules: gatewayImplRules, live: runners{route: validateRouteImpl, backendPolicy: validateBackendPolicyImpl}},
	{rules: envoyGatewayRules, live: runners{envoyPolicy: validateEnvoyPolicy, route: validateRouteEnvoy}},
	{rules: istioRules, live: runners{destRule: validateDestinationRule, service: validateServiceIstio}},
	{rules: gkeGatewayRules, live: runners{gcpPolicy: validateGCPBackendPolicy}},
}

// runFamilies runs pick's function of every family (live, then offline when
// the context is offline), collecting every finding, then applies the
// policy overrides.
func runFamilies[T any](obj, old T, ctx *Context, pick func(runners) RuleFunc[T]) (field.ErrorList, Warnings) {
	var errs field.ErrorList
	var warns Warnings
	run := func(rs runners) {
		if fn := pick(rs); fn != nil {
			e, w := fn(obj, old, ctx)
			errs = append(errs, e...)
			warns = append(warns, w...)
		}
	}
	for i := range families {
		run(families[i].live)
	}
	if ctx.Offline {
		for i := range families {
			run(families[i].offline)
		}
	}
	return ApplyOverrides(errs, warns, ctx.Policy)
}

// ValidateService runs every Service rule and applies the policy's overrides.
func ValidateService(svc, old *corev1.Service, ctx *Context) (field.ErrorList, Warnings) {
	return runFamilies(svc, old, ctx, func(r runners) ServiceRuleFunc { return r.service })
}

// ValidateIngress runs every Ingress rule and applies the policy's overrides.
func ValidateIngress(ing, old *networkingv1.Ingress, ctx *Context) (field.ErrorList, Warnings) {
	return runFamilies(ing, old, ctx, func(r runners) IngressRuleFunc { return r.ingress })
}

// ValidateDeployment runs every Deployment rule and applies the overrides.
func ValidateDeployment(d, old *appsv1.Deployment, ctx *Context) (field.ErrorList, Warnings) {
	return runFamilies(d, old, ctx, func(r runners) DeploymentRuleFunc { return r.deployment })
}

// ValidateStatefulSet runs every StatefulSet rule (the Deployment rules'
// workload checks, on its pod template) and applies the overrides.
func ValidateStatefulSet(s, old *appsv1.StatefulSet, ctx *Context) (field.ErrorList, Warnings) {
	return runFamilies(s, old, ctx, func(r runners) StatefulSetRuleFunc { return r.statefulSet })
}

// ValidateBackendConfig runs the GKE BackendConfig rules (offline and audit).
func ValidateBackendConfig(bc *BackendConfig, ctx *Context) (field.ErrorList, Warnings) {
	return runFamilies(bc, nil, ctx, func(r runners) RuleFunc[*BackendConfig] {
		if r.backendConfig == nil {
			return nil
		}
		return func(bc, _ *BackendConfig, ctx *Context) (field.ErrorList, Warnings) { return r.backendConfig(bc, ctx) }
	})
}

// ValidateRoute runs every HTTPRoute/GRPCRoute rule and applies the overrides.
func ValidateRoute(r, old *apis.Route, ctx *Context) (field.ErrorList, Warnings) {
	return runFamilies(r, old, ctx, func(rs runners) RouteRuleFunc { return rs.route })
}

// ValidateBackendPolicy runs every XBackendTrafficPolicy/BackendLBPolicy rule.
func ValidateBackendPolicy(p, old *apis.BackendPolicy, ctx *Context) (field.ErrorList, Warnings) {
	return runFamilies(p, old, ctx, func(rs runners) BackendPolicyRuleFunc { return rs.backendPolicy })
}

// ValidateEnvoyPolicy runs every Envoy Gateway BackendTrafficPolicy rule.
func ValidateEnvoyPolicy(p, old *apis.EnvoyBackendTrafficPolicy, ctx *Context) (field.ErrorList, Warnings) {
	return runFamilies(p, old, ctx, func(rs runners) EnvoyPolicyRuleFunc { return rs.envoyPolicy })
}

// ValidateDestinationRule runs every Istio DestinationRule rule.
func ValidateDestinationRule(d, old *apis.DestinationRule, ctx *Context) (field.ErrorList, Warnings) {
	return runFamilies(d, old, ctx, func(rs runners) DestinationRuleRuleFunc { return rs.destRule })
}

// ValidateGCPBackendPolicy runs every GKE GCPBackendPolicy rule.
func ValidateGCPBackendPolicy(p, old *apis.GCPBackendPolicy, ctx *Context) (field.ErrorList, Warnings) {
	return runFamilies(p, old, ctx, func(rs runners) GCPPolicyRuleFunc { return rs.gcpPolicy })
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
