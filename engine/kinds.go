package engine

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/stickyguard/stickyguard/validators"
)

func evalService(in, old *corev1.Service, o *Options, h half) (*Result, error) {
	svc := in.DeepCopy()
	res := &Result{Object: svc}
	if res.Exempt = exemption(svc.Annotations); res.Exempt != "" {
		return res, nil
	}
	fillServiceDefaults(svc, o, res)
	if h.reportsDefaults() {
		res.mutationWarnings()
	}
	if !h.validates() {
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
		sets, err := o.Lookup.StatefulSetsSelectedBy(ns, svc.Spec.Selector)
		if err != nil {
			return rel, fmt.Errorf("looking up StatefulSets selected by Service %s/%s: %w", ns, svc.Name, err)
		}
		rel.StatefulSets = sets
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

func evalIngress(in, old *networkingv1.Ingress, o *Options, h half) (*Result, error) {
	ing := in.DeepCopy()
	res := &Result{Object: ing}
	if res.Exempt = exemption(ing.Annotations); res.Exempt != "" || !h.validates() {
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
	class, err := ResolveIngressClass(ing, o.Lookup, o.Policy)
	rel.Controller, rel.Class, rel.ClassShared = class.Controller, class.Class, class.Shared
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
