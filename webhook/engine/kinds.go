package engine

import (
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/stickyguard/stickyguard/mutators"
	"github.com/stickyguard/stickyguard/validators"
	"github.com/stickyguard/stickyguard/validators/policy"
)

func evalService(in, old *corev1.Service, o *Options, validate bool) (*Result, error) {
	svc := in.DeepCopy()
	res := &Result{Object: svc}
	if res.Exempt = exemption(svc.Annotations); res.Exempt != "" {
		return res, nil
	}
	pol := o.Policy
	if !o.disabled("SVC-008") && mutators.ClientIPTimeout(svc, pol.Service.ClientIPTimeout.Default) {
		res.mutated("SVC-008", "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
			strconv.Itoa(int(pol.Service.ClientIPTimeout.Default)), "the policy's default ClientIP timeout")
	}
	if pol.SetLocal() && !validators.KeepsTrafficPolicy(svc) {
		if why, ok := validators.NeedsLocal(svc, pol); ok {
			rule := "SVC-005"
			if validators.CCECookieSticky(svc) || svc.Annotations["kubernetes.io/elb.session-affinity-mode"] == "SOURCE_IP" {
				rule = "CCE-008"
			}
			if !o.disabled(rule) && mutators.LocalTrafficPolicy(svc) {
				res.mutated(rule, "spec.externalTrafficPolicy", "Local",
					why+" needs each node to forward only to its local pods (opt out: "+validators.AnnKeepTrafficPolicy+": \"true\")")
			}
		}
	}
	res.mutationWarnings()
	if !validate {
		return res, nil
	}
	rel, err := serviceRelated(svc, o)
	if err != nil {
		return nil, err
	}
	errs, warns := validators.ValidateService(svc, old, o.context(rel))
	res.Errors = errs
	res.Warnings = append(res.Warnings, warns...)
	return res, nil
}

func serviceRelated(svc *corev1.Service, o *Options) (validators.Related, error) {
	var rel validators.Related
	var err error
	ns := svc.Namespace
	if len(svc.Spec.Selector) > 0 {
		deps, err := o.Lookup.DeploymentsSelectedBy(ns, svc.Spec.Selector)
		if err != nil {
			return rel, fmt.Errorf("looking up Deployments selected by Service %s/%s: %w", ns, svc.Name, err)
		}
		rel.Deployments = deps
	}
	ings, err := o.Lookup.IngressesForService(ns, svc.Name)
	if err != nil {
		return rel, fmt.Errorf("looking up Ingresses of Service %s/%s: %w", ns, svc.Name, err)
	}
	for _, ing := range ings {
		ctrl, _, err := ResolveController(ing, o.Lookup, o.Policy)
		if err != nil {
			return rel, fmt.Errorf("resolving the class of Ingress %s/%s: %w", ns, ing.Name, err)
		}
		rel.Ingresses = append(rel.Ingresses, validators.RelatedIngress{Ingress: ing, Controller: ctrl})
	}
	if validators.ReferencesBackendConfig(svc) {
		rel.BackendConfigs, err = o.Lookup.BackendConfigs(ns)
		if err != nil {
			return rel, fmt.Errorf("looking up BackendConfigs in %s: %w", ns, err)
		}
	}
	return rel, nil
}

func evalIngress(in, old *networkingv1.Ingress, o *Options, validate bool) (*Result, error) {
	ing := in.DeepCopy()
	res := &Result{Object: ing}
	if res.Exempt = exemption(ing.Annotations); res.Exempt != "" || !validate {
		return res, nil
	}
	rel, err := ingressRelated(ing, o)
	if err != nil {
		return nil, err
	}
	errs, warns := validators.ValidateIngress(ing, old, o.context(rel))
	res.Errors, res.Warnings = errs, warns
	return res, nil
}

func ingressRelated(ing *networkingv1.Ingress, o *Options) (validators.Related, error) {
	var rel validators.Related
	var err error
	ns := ing.Namespace
	rel.Controller, rel.Class, err = ResolveController(ing, o.Lookup, o.Policy)
	if err != nil {
		return rel, fmt.Errorf("resolving the class of Ingress %s/%s: %w", ns, ing.Name, err)
	}
	seen := map[string]bool{ing.Name: true}
	addOthers := func(others []*networkingv1.Ingress, keep func(*networkingv1.Ingress) bool) error {
		for _, other := range others {
			if seen[other.Name] || !keep(other) {
				continue
			}
			seen[other.Name] = true
			ctrl, _, err := ResolveController(other, o.Lookup, o.Policy)
			if err != nil {
				return fmt.Errorf("resolving the class of Ingress %s/%s: %w", ns, other.Name, err)
			}
			rel.Ingresses = append(rel.Ingresses, validators.RelatedIngress{Ingress: other, Controller: ctrl})
		}
		return nil
	}
	for _, name := range BackendServiceNames(ing) {
		svc, err := o.Lookup.Service(ns, name)
		if err != nil {
			return rel, fmt.Errorf("looking up Service %s/%s: %w", ns, name, err)
		}
		if svc != nil {
			rel.BackendServices = append(rel.BackendServices, svc)
		}
		others, err := o.Lookup.IngressesForService(ns, name)
		if err != nil {
			return rel, fmt.Errorf("looking up Ingresses of Service %s/%s: %w", ns, name, err)
		}
		if err := addOthers(others, func(*networkingv1.Ingress) bool { return true }); err != nil {
			return rel, err
		}
	}
	// A canary usually routes to its own Service: it meets its main
	// Ingress on the host (NGX-024). Only a canary and a main Ingress are
	// related by host; a host shared by many main Ingresses (one per
	// path) adds nothing to a main Ingress's review.
	canary := validators.IsNginxCanary(ing)
	for _, host := range IngressHosts(ing) {
		others, err := o.Lookup.IngressesForHost(ns, host)
		if err != nil {
			return rel, fmt.Errorf("looking up Ingresses for host %q in %s: %w", host, ns, err)
		}
		if err := addOthers(others, func(other *networkingv1.Ingress) bool { return validators.IsNginxCanary(other) != canary }); err != nil {
			return rel, err
		}
	}
	return rel, nil
}

func evalDeployment(in, old *appsv1.Deployment, o *Options, validate bool) (*Result, error) {
	d := in.DeepCopy()
	res := &Result{Object: d}
	if res.Exempt = exemption(d.Annotations); res.Exempt != "" {
		return res, nil
	}
	svcs, err := o.Lookup.ServicesSelecting(d.Namespace, d.Spec.Template.Labels)
	if err != nil {
		return nil, fmt.Errorf("looking up Services selecting Deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	if sticky := firstNeedingSpread(svcs, o.Policy); sticky != nil && !o.disabled("DEP-001") {
		mode := antiAffinityMode(d, o.Policy)
		if mode != policy.AntiAffinityDisabled && mutators.AntiAffinity(d, mode == policy.AntiAffinityRequired, o.Policy.AntiAffinity.Weight) {
			res.mutated("DEP-001", "spec.template.spec.affinity.podAntiAffinity", string(mode)+" on "+mutators.HostnameTopologyKey,
				"Service "+sticky.Name+" needs at most one pod per node for stickiness")
			if old != nil {
				res.Warnings = append(res.Warnings, validators.TemplateChangeWarning())
			}
		}
	}
	res.mutationWarnings()
	if !validate {
		return res, nil
	}
	errs, warns := validators.ValidateDeployment(d, old, o.context(validators.Related{Services: svcs}))
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

// antiAffinityMode is the Deployment's stickyguard.io/anti-affinity
// annotation when valid, else the policy's mode. Invalid values are denied
// by the meta rules.
func antiAffinityMode(d *appsv1.Deployment, pol *policy.Policy) policy.AntiAffinityMode {
	switch m := policy.AntiAffinityMode(d.Annotations[validators.AnnAntiAffinity]); m {
	case policy.AntiAffinityPreferred, policy.AntiAffinityRequired, policy.AntiAffinityDisabled:
		return m
	}
	return pol.AntiAffinity.Mode
}
