package validators

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Traefik (v2/v3, Kubernetes Ingress provider) sticky-cookie rules. Traefik
// reads traefik.ingress.kubernetes.io/service.* from the Service, decodes the
// keys with traefik/paerser (field names match case-insensitively; a struct
// marked allowEmpty is enabled by "" or "true" in any case and disabled by
// any other value; bools go through strconv.ParseBool, ints through
// strconv.ParseInt) and maps samesite case-insensitively.

const trfPrefix = "traefik.ingress.kubernetes.io/"

var trf001 = &Rule{ID: "TRF-001", Severity: Warn, Kinds: []string{KindIngress}, Family: "Traefik",
	Title:  "Traefik reads service.* annotations only from the Service, not the Ingress",
	Fix:    "move it to the backend Service",
	Source: "traefik pkg/provider/kubernetes/ingress/annotations.go (ServiceIng parsed from Service annotations); traefik#2392, #1068"}

var trf002 = &Rule{ID: "TRF-002", Severity: Warn, Kinds: []string{KindService}, Family: "Traefik",
	Title:  "service.sticky without a cookie does not enable stickiness in Traefik v2/v3",
	Fix:    `set traefik.ingress.kubernetes.io/service.sticky.cookie: "true"`,
	Source: "traefik#6916; pkg/config/dynamic/http_config.go Sticky"}

var trf003 = &Rule{ID: "TRF-003", Severity: Deny, Kinds: []string{KindService}, Family: "Traefik",
	Title:   "invalid Traefik sticky cookie value",
	Fix:     `use "true"/"false" for sticky.cookie, .secure and .httponly, whole seconds for .maxage, and none, lax or strict for .samesite`,
	Explain: "Traefik decodes these keys with traefik/paerser: a bad bool or integer fails the Service's configuration, a service.sticky or service.sticky.cookie value other than true/false silently disables the cookie, and an unknown SameSite falls back to the default mode.",
	Source:  "traefik pkg/config/dynamic/http_config.go Cookie; pkg/server/service/loadbalancer/sticky.go convertSameSite; traefik/paerser parser/element_fill.go, nodes_metadata.go"}

var trf004 = &Rule{ID: "TRF-004", Severity: Warn, Kinds: []string{KindService}, Family: "Traefik",
	Title:  "SameSite=None sticky cookie without Secure; browsers reject it",
	Fix:    `set traefik.ingress.kubernetes.io/service.sticky.cookie.secure: "true"`,
	Source: "browser SameSite=None rule (as NGX-011); traefik sticky.go"}

var trf005 = &Rule{ID: "TRF-005", Severity: Warn, Kinds: []string{KindService, KindIngress}, Family: "Traefik",
	Title:  "Traefik v1 sticky annotation; Traefik v2/v3 ignores it",
	Fix:    `use service.sticky.cookie: "true" on the backend Service`,
	Source: "traefik#674, #2431 (v1 syntax)"}

var traefikRules = []*Rule{trf001, trf002, trf003, trf004, trf005}

// trfSuffix returns the lowercased part after traefik.ingress.kubernetes.io/
// (paerser matches field names case-insensitively).
func trfSuffix(k string) (string, bool) {
	s, ok := strings.CutPrefix(k, trfPrefix)
	return strings.ToLower(s), ok
}

// trfV1Key reports Traefik v1 sticky-session annotations.
func trfV1Key(k string) bool {
	switch k {
	case trfPrefix + "affinity", trfPrefix + "session-cookie-name":
		return true
	}
	return strings.HasPrefix(k, "traefik.backend.loadbalancer.stick") || strings.HasPrefix(k, "traefik.stickysession")
}

// trfStickyKey reports any Traefik sticky annotation, v1 or v2/v3.
func trfStickyKey(k string) bool {
	s, ok := trfSuffix(k)
	return (ok && strings.HasPrefix(s, "service.sticky")) || trfV1Key(k)
}

func validateServiceTraefik(svc, old *corev1.Service, ctx *Context) (field.ErrorList, Warnings) {
	var f findings
	a := svc.Annotations
	stickyKey, sameSite, secure := "", "", ""
	secureKey := trfPrefix + "service.sticky.cookie.secure"
	stickyOn, hasCookie := false, false
	for _, k := range keysWhere(a, func(k string) bool { _, ok := trfSuffix(k); return ok || trfV1Key(k) }) {
		v := a[k]
		if trfV1Key(k) {
			f.warn(trf005, annPath(k), echoValue(v), "")
			continue
		}
		s, ok := trfSuffix(k)
		if !ok {
			continue
		}
		switch s {
		case "service.sticky":
			stickyKey, stickyOn = k, strings.EqualFold(v, "true")
			trfCheckEnable(&f, k, v)
		case "service.sticky.cookie":
			hasCookie = true
			trfCheckEnable(&f, k, v)
		case "service.sticky.cookie.secure", "service.sticky.cookie.httponly":
			if _, valid := parseBool(v); !valid {
				f.invalid(ruleWithFix(trf003, `write "true" or "false"`), annPath(k), echoValue(v), "not a boolean; Traefik fails to decode it")
			}
			if s == "service.sticky.cookie.secure" {
				secureKey, secure = k, v
			}
		case "service.sticky.cookie.maxage":
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				f.invalid(ruleWithFix(trf003, `write whole seconds, e.g. "3600"`), annPath(k), echoValue(v), "maxage is not an integer number of seconds")
			}
		case "service.sticky.cookie.samesite":
			if v != "" && !slices.Contains([]string{"none", "lax", "strict"}, strings.ToLower(v)) {
				f.notSupported(ruleWithFix(trf003, "use none, lax or strict"), annPath(k), echoValue(v), []string{"none", "lax", "strict"},
					"unknown SameSite; the default mode is used")
			}
			sameSite = v
		}
		if strings.HasPrefix(s, "service.sticky.cookie.") {
			hasCookie = true
		}
	}
	if stickyOn && !hasCookie {
		f.warn(trf002, annPath(stickyKey), nil, "")
	}
	if b, _ := parseBool(secure); strings.EqualFold(sameSite, "none") && !b {
		f.warn(trf004, annPath(secureKey), nil, "")
	}
	return f.result()
}

// trfCheckEnable checks an allowEmpty struct key (service.sticky,
// service.sticky.cookie): paerser enables it for "" or "true" (any case) and
// silently disables it for anything but "false".
func trfCheckEnable(f *findings, k, v string) {
	if v != "" && !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
		f.invalid(ruleWithFix(trf003, `write "true" or "false"`), annPath(k), echoValue(v), `only "true" enables it; other values disable it`)
	}
}

func validateIngressTraefik(ing, old *networkingv1.Ingress, ctx *Context) (field.ErrorList, Warnings) {
	if !appliesTo(ctx.Related.Controller, ControllerTraefik) {
		return nil, nil
	}
	var f findings
	for _, k := range slices.Sorted(maps.Keys(ing.Annotations)) {
		switch s, ok := trfSuffix(k); {
		case trfV1Key(k):
			f.warn(trf005, annPath(k), echoValue(ing.Annotations[k]), "")
		case ok && strings.HasPrefix(s, "service."):
			f.warn(trf001, annPath(k), nil, "")
		}
	}
	return f.result()
}
