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
	Title:   "affinity annotations of another ingress controller; the controller serving this Ingress ignores them",
	Fix:     "use this controller's equivalent (the message names it) and remove the others",
	Explain: "One warning per foreign dialect, at its first key. When only a class name shared by two controllers says which serves the Ingress (\"nginx\": ingress-nginx or F5 NGINX; \"haproxy\": HAProxy Ingress or HAProxy Technologies), the message names both, and the other controller of that name is never reported as foreign.",
	Source:  "kubernetes/kubernetes#51711; kubernetes-retired/contrib#2631; nginx/kubernetes-ingress#500"}

var crossRules = []*Rule{x001}

// xOwner returns the controller whose affinity dialect annotation k is.
func xOwner(k, v string) (Controller, bool) {
	if n, ok := strings.CutPrefix(k, ngxPrefix); ok {
		return ControllerNginx, ngxStickyName(n)
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
	shared := ctx.Related.ClassShared
	for _, owner := range owners {
		ks := keys[owner]
		what := xName(owner, false) + " key"
		if len(ks) > 1 {
			what = strconv.Itoa(len(ks)) + " " + what + "s"
		}
		f.warn(ruleWithFix(x001, "use "+xEquivalent(ctrl, shared)), annPath(ks[0]), nil, what+" ignored by "+xName(ctrl, shared))
	}
	return f.result()
}

// xName is a controller's short name; shared names both controllers of a
// shared class name.
func xName(c Controller, shared bool) string {
	switch c {
	case ControllerNginx:
		if shared {
			return "ingress-nginx or F5 NGINX"
		}
		return "ingress-nginx"
	case xF5NGINX:
		return "F5 NGINX"
	case ControllerAWS:
		return "AWS LB Controller"
	case ControllerGCE:
		return "GKE Ingress"
	case ControllerTraefik:
		return "Traefik"
	case ControllerAGIC:
		return "Azure AGIC"
	case ControllerHAProxy, ControllerHAProxyTech:
		if shared {
			return "both HAProxy controllers"
		}
		if c == ControllerHAProxy {
			return "HAProxy Ingress"
		}
		return "HAProxy Technologies"
	case ControllerCCE:
		return "Huawei CCE ELB"
	}
	return string(c)
}

// xEquivalent is how controller c turns on affinity, kept short: it is the
// fix of X-001's message.
func xEquivalent(c Controller, shared bool) string {
	switch c {
	case ControllerNginx:
		if shared {
			return `nginx.ingress.kubernetes.io/affinity (F5: nginx.com/sticky-cookie-services)`
		}
		return `nginx.ingress.kubernetes.io/affinity: "cookie"`
	case ControllerAWS:
		return `alb.ingress.kubernetes.io/target-group-attributes: stickiness.enabled=true`
	case ControllerGCE:
		return `a BackendConfig with sessionAffinity GENERATED_COOKIE`
	case ControllerTraefik:
		return `traefik.ingress.kubernetes.io/service.sticky.cookie on the Service`
	case ControllerAGIC:
		return `appgw.ingress.kubernetes.io/cookie-based-affinity: "true"`
	case ControllerHAProxy, ControllerHAProxyTech:
		if shared {
			return `haproxy-ingress.github.io/affinity or haproxy.org/cookie-persistence`
		}
		if c == ControllerHAProxy {
			return `haproxy-ingress.github.io/affinity: "cookie"`
		}
		return `haproxy.org/cookie-persistence: "<cookie-name>"`
	case ControllerCCE:
		return `kubernetes.io/elb.session-affinity-mode: HTTP_COOKIE`
	}
	return "the controller's own affinity configuration"
}
