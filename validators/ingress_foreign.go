package validators

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// affinity annotations written for one ingress controller on an Ingress
// served by another. Each controller reads only its own dialect, so the
// annotations do nothing. Cases owned by more specific rules are left to them:
// foreign dialects on ingress-nginx (NGX-025), ingress-nginx annotations on
// GKE (GKE-009) and the two HAProxy controllers (HAP-003).

// xF5NGINX is the F5 NGINX Ingress Controller (nginx.org / nginx.com), which
// has no rules of its own here.
const xF5NGINX Controller = "f5-nginx-ingress"

var x001 = &Rule{ID: "X-001", Severity: Warn, Kinds: []string{KindIngress}, Family: "cross-controller",
	Title:  "affinity annotations of another ingress controller; the controller serving this Ingress ignores them",
	Fix:    "remove the other controller's annotations and configure affinity the way this Ingress's controller reads it (the message names the equivalent)",
	Source: "kubernetes/kubernetes#51711; kubernetes-retired/contrib#2631; nginx/kubernetes-ingress#500"}

var crossRules = []*Rule{x001}

// xOwner returns the controller whose affinity dialect annotation k is.
func xOwner(k, v string) (Controller, bool) {
	if n, ok := strings.CutPrefix(k, ngxPrefix); ok {
		switch {
		case n == "affinity", n == "affinity-mode", n == "affinity-canary-behavior",
			strings.HasPrefix(n, "session-cookie-"), strings.HasPrefix(n, "upstream-hash-by"):
			return ControllerNginx, true
		}
		return "", false
	}
	switch {
	case k == "nginx.com/sticky-cookie-services" || k == "nginx.org/sticky-cookie-services":
		return xF5NGINX, true
	case trfStickyKey(k):
		return ControllerTraefik, true
	case agicAffinityKey(k):
		return ControllerAGIC, true
	case hapAffinityKey(k):
		return ControllerHAProxy, true
	case hapTechKey(k):
		return ControllerHAProxyTech, true
	case k == annAWSALBAttrs && strings.Contains(v, "stickiness."):
		return ControllerAWS, true
	case k == annCCEMode || k == annCCEOption:
		return ControllerCCE, true
	}
	return "", false
}

// xOwnedElsewhere reports the cases another rule reports.
func xOwnedElsewhere(ctrl, owner Controller, k string) bool {
	switch {
	case ctrl == ControllerNginx && ngxForeignKey(k): // NGX-025
		return true
	case ctrl == ControllerGCE && owner == ControllerNginx: // GKE-009
		return true
	case ctrl == ControllerHAProxy && owner == ControllerHAProxyTech,
		ctrl == ControllerHAProxyTech && owner == ControllerHAProxy: // HAP-003
		return true
	}
	return false
}

func validateIngressForeign(ing, old *networkingv1.Ingress, ctx *Context) (field.ErrorList, Warnings) {
	ctrl := ctx.Related.Controller
	if ctrl == ControllerUnknown || ctrl == ControllerOther {
		return nil, nil
	}
	var f findings
	var owners []Controller
	keys := map[Controller][]string{}
	for _, k := range slices.Sorted(maps.Keys(ing.Annotations)) {
		owner, ok := xOwner(k, ing.Annotations[k])
		if !ok || owner == ctrl || xOwnedElsewhere(ctrl, owner, k) {
			continue
		}
		if _, seen := keys[owner]; !seen {
			owners = append(owners, owner)
		}
		keys[owner] = append(keys[owner], k)
	}
	for _, owner := range owners {
		ks := keys[owner]
		f.warn(x001, annPath(ks[0]), nil, xName(owner)+" annotation(s) "+xList(ks)+" are ignored by "+
			xName(ctrl)+"; the equivalent is "+xEquivalent(ctrl))
	}
	return f.result()
}

func xList(ks []string) string {
	if len(ks) <= 3 {
		return strings.Join(ks, ", ")
	}
	return strings.Join(ks[:3], ", ") + " and " + strconv.Itoa(len(ks)-3) + " more"
}

func xName(c Controller) string {
	switch c {
	case ControllerNginx:
		return "ingress-nginx"
	case xF5NGINX:
		return "F5 NGINX Ingress Controller"
	case ControllerAWS:
		return "AWS Load Balancer Controller"
	case ControllerGCE:
		return "GKE Ingress (ingress-gce)"
	case ControllerTraefik:
		return "Traefik"
	case ControllerAGIC:
		return "Azure Application Gateway Ingress Controller"
	case ControllerHAProxy:
		return "HAProxy Ingress (haproxy-ingress.github.io)"
	case ControllerHAProxyTech:
		return "HAProxy Technologies Ingress Controller (haproxy.org)"
	case ControllerCCE:
		return "Huawei CCE ELB Ingress"
	}
	return string(c)
}

func xEquivalent(c Controller) string {
	switch c {
	case ControllerNginx:
		return `nginx.ingress.kubernetes.io/affinity: "cookie" (with session-cookie-* annotations)`
	case ControllerAWS:
		return `alb.ingress.kubernetes.io/target-group-attributes: stickiness.enabled=true,stickiness.type=lb_cookie with alb.ingress.kubernetes.io/target-type: ip`
	case ControllerGCE:
		return `a BackendConfig with spec.sessionAffinity.affinityType: GENERATED_COOKIE, attached to the Service with cloud.google.com/backend-config`
	case ControllerTraefik:
		return `traefik.ingress.kubernetes.io/service.sticky.cookie: "true" on the backend Service`
	case ControllerAGIC:
		return `appgw.ingress.kubernetes.io/cookie-based-affinity: "true"`
	case ControllerHAProxy:
		return `haproxy-ingress.github.io/affinity: "cookie"`
	case ControllerHAProxyTech:
		return `haproxy.org/cookie-persistence: "<cookie-name>"`
	case ControllerCCE:
		return `kubernetes.io/elb.session-affinity-mode: HTTP_COOKIE on the Ingress or its backend Service`
	}
	return "the controller's own affinity configuration"
}
