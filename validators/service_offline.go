package validators

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Offline-only Service rules: what the API server rejects at decode, drops
// silently, or already validates. Live admission never sees these mistakes
// (STICKY-FACTS §1, §D), so only `stickyguard check` reports them.
var (
	svcD01 = &Rule{
		ID: "SVC-D01", Severity: Deny, Kinds: []string{KindService}, Family: "Service (offline)", Offline: true,
		Title:  "a sticky-session field has the wrong JSON type (e.g. timeoutSeconds: \"600\"); the API server rejects the object at decode",
		Fix:    "write the value with its API type: timeoutSeconds is an integer, sessionAffinity and externalTrafficPolicy are strings",
		Source: "API decode: a string for an int32 fails with 400 before admission",
	}
	svcD02 = &Rule{
		ID: "SVC-D02", Severity: Deny, Kinds: []string{KindService}, Family: "Service (offline)", Offline: true,
		Title:  "an unknown or misspelled sticky-session field (e.g. sessionAffinityConfig.clientIp) is dropped by the API server, losing the value",
		Fix:    "spell the field exactly: sessionAffinity, sessionAffinityConfig.clientIP.timeoutSeconds, externalTrafficPolicy",
		Source: "server-side field validation (KEP-2885): unknown fields are dropped with a warning or rejected with Strict",
	}
	svcD03 = &Rule{
		ID: "SVC-D03", Severity: Warn, Kinds: []string{KindService}, Family: "Service (offline)", Offline: true,
		Title:  "sessionAffinityConfig next to sessionAffinity None (or unset) is discarded by API defaulting",
		Fix:    "set sessionAffinity: ClientIP, or remove sessionAffinityConfig",
		Source: "pkg/apis/core/v1/defaults.go SetDefaults_Service sets the config to nil for None",
	}
	svcD04 = &Rule{
		ID: "SVC-D04", Severity: Deny, Kinds: []string{KindService}, Family: "Service (offline)", Offline: true,
		Title:  "sessionAffinity is neither ClientIP nor None (the enum is case-sensitive)",
		Fix:    "use ClientIP or None",
		Source: "ValidateService supportedSessionAffinityType",
	}
	svcD05 = &Rule{
		ID: "SVC-D05", Severity: Deny, Kinds: []string{KindService}, Family: "Service (offline)", Offline: true,
		Title:  "ClientIP timeoutSeconds is outside 1..86400",
		Fix:    "use a timeout between 1 and 86400 seconds",
		Source: "ValidateService: timeout <= 0 || timeout > 86400 is invalid",
	}
	svcD06 = &Rule{
		ID: "SVC-D06", Severity: Deny, Kinds: []string{KindService}, Family: "Service (offline)", Offline: true,
		Title:  "externalTrafficPolicy is not Cluster or Local, or is set on a Service that is not externally accessible",
		Fix:    "use Cluster or Local, and only on NodePort/LoadBalancer Services (or ClusterIP with externalIPs)",
		Source: "ValidateService externalTrafficPolicy checks; pkg/api/service/util.go ExternallyAccessible",
	}
	svcD07 = &Rule{
		ID: "SVC-D07", Severity: Deny, Kinds: []string{KindService}, Family: "Service (offline)", Offline: true,
		Title:  "healthCheckNodePort is set on a Service that is not type LoadBalancer with externalTrafficPolicy Local",
		Fix:    "remove spec.healthCheckNodePort (the API server allocates it for LoadBalancer + Local)",
		Source: "ValidateService healthCheckNodePort checks",
	}
)

var offlineServiceRules = []*Rule{svcD01, svcD02, svcD03, svcD04, svcD05, svcD06, svcD07}

// stickySpecFields are the sticky-session fields of ServiceSpec, by their
// lower-case name, for spotting case mistakes.
var stickySpecFields = map[string]string{
	"sessionaffinity": "sessionAffinity", "sessionaffinityconfig": "sessionAffinityConfig",
	"externaltrafficpolicy": "externalTrafficPolicy", "internaltrafficpolicy": "internalTrafficPolicy",
	"healthchecknodeport": "healthCheckNodePort",
}

// ValidateServiceRaw inspects the sticky-session parts of a Service as
// written, decoded only as generic JSON, for mistakes the typed decode
// cannot show. It returns the findings and the JSON paths (from the object
// root) to delete so the rest of the object still decodes and gets checked.
// obj is not modified.
func ValidateServiceRaw(obj map[string]any) (field.ErrorList, Warnings, [][]string) {
	var f findings
	var drop [][]string
	spec, ok := obj["spec"].(map[string]any)
	if !ok {
		return nil, nil, nil
	}
	sp := field.NewPath("spec")
	for _, k := range mapKeys(spec) {
		if want, ok := stickySpecFields[strings.ToLower(k)]; ok && k != want {
			f.forbidden(svcD02, sp.Child(k), fmt.Sprintf("spec.%s is not a Service field; did you mean spec.%s?", k, want))
		}
	}
	for _, k := range []string{"sessionAffinity", "externalTrafficPolicy", "internalTrafficPolicy"} {
		if v, ok := spec[k]; ok && v != nil {
			if _, isStr := v.(string); !isStr {
				f.invalid(svcD01, sp.Child(k), clipValue(fmt.Sprint(v)), fmt.Sprintf("spec.%s must be a string, got %s", k, jsonType(v)))
				drop = append(drop, []string{"spec", k})
			}
		}
	}
	if v, ok := spec["healthCheckNodePort"]; ok && v != nil && !isInteger(v) {
		f.invalid(svcD01, sp.Child("healthCheckNodePort"), clipValue(fmt.Sprint(v)), "must be an integer, got "+jsonType(v))
		drop = append(drop, []string{"spec", "healthCheckNodePort"})
	}
	raw, present := spec["sessionAffinityConfig"]
	if !present || raw == nil {
		return f.errs, f.warns, drop
	}
	cp := sp.Child("sessionAffinityConfig")
	if aff, _ := spec["sessionAffinity"].(string); aff != string(corev1.ServiceAffinityClientIP) {
		if aff == "" {
			aff = "unset (defaults to None)"
		}
		f.warn(svcD03, cp, nil, "sessionAffinity is "+aff+", so the API server discards sessionAffinityConfig")
	}
	cfg, ok := raw.(map[string]any)
	if !ok {
		f.invalid(svcD01, cp, clipValue(fmt.Sprint(raw)), "must be an object, got "+jsonType(raw))
		return f.errs, f.warns, append(drop, []string{"spec", "sessionAffinityConfig"})
	}
	for _, k := range mapKeys(cfg) {
		if k != "clientIP" {
			f.forbidden(svcD02, cp.Child(k), fmt.Sprintf("unknown field %q; the only field is clientIP", k))
			drop = append(drop, []string{"spec", "sessionAffinityConfig", k})
		}
	}
	ipRaw, ok := cfg["clientIP"]
	if !ok || ipRaw == nil {
		return f.errs, f.warns, drop
	}
	ip, ok := ipRaw.(map[string]any)
	if !ok {
		f.invalid(svcD01, cp.Child("clientIP"), clipValue(fmt.Sprint(ipRaw)), "must be an object, got "+jsonType(ipRaw))
		return f.errs, f.warns, append(drop, []string{"spec", "sessionAffinityConfig", "clientIP"})
	}
	ipp := cp.Child("clientIP")
	for _, k := range mapKeys(ip) {
		if k != "timeoutSeconds" {
			f.forbidden(svcD02, ipp.Child(k), fmt.Sprintf("unknown field %q; the only field is timeoutSeconds", k))
			drop = append(drop, []string{"spec", "sessionAffinityConfig", "clientIP", k})
		}
	}
	if t, ok := ip["timeoutSeconds"]; ok && t != nil && !isInteger(t) {
		f.invalid(svcD01, ipp.Child("timeoutSeconds"), clipValue(fmt.Sprint(t)), "must be an integer number of seconds, got "+jsonType(t))
		drop = append(drop, []string{"spec", "sessionAffinityConfig", "clientIP", "timeoutSeconds"})
	}
	return f.errs, f.warns, drop
}

// validateServiceAPIChecks re-implements, offline only, the API server's
// sticky-session validation (the (dup) rows).
func validateServiceAPIChecks(svc, _ *corev1.Service, _ *Context) (field.ErrorList, Warnings) {
	var f findings
	sp := field.NewPath("spec")
	switch svc.Spec.SessionAffinity {
	case "", corev1.ServiceAffinityClientIP, corev1.ServiceAffinityNone:
	default:
		f.notSupported(svcD04, sp.Child("sessionAffinity"), string(svc.Spec.SessionAffinity), []string{"ClientIP", "None"}, "")
	}
	if c := svc.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
		if t := *c.ClientIP.TimeoutSeconds; t <= 0 || t > 86400 {
			f.invalid(svcD05, sp.Child("sessionAffinityConfig", "clientIP", "timeoutSeconds"), t, "")
		}
	}
	etp := svc.Spec.ExternalTrafficPolicy
	switch {
	case etp == "":
	case !ExternallyAccessible(svc):
		f.invalid(svcD06, sp.Child("externalTrafficPolicy"), string(etp), "may only be set for externally-accessible Services")
	case etp != corev1.ServiceExternalTrafficPolicyCluster && etp != corev1.ServiceExternalTrafficPolicyLocal:
		f.notSupported(svcD06, sp.Child("externalTrafficPolicy"), string(etp), []string{"Cluster", "Local"}, "")
	}
	if svc.Spec.HealthCheckNodePort != 0 && !(svc.Spec.Type == corev1.ServiceTypeLoadBalancer && etp == corev1.ServiceExternalTrafficPolicyLocal) {
		f.invalid(svcD07, sp.Child("healthCheckNodePort"), svc.Spec.HealthCheckNodePort, "")
	}
	return f.result()
}

func mapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// isInteger reports a JSON number without a fractional part that fits int32.
func isInteger(v any) bool {
	switch n := v.(type) {
	case float64:
		return n == math.Trunc(n) && n >= math.MinInt32 && n <= math.MaxInt32
	case int, int32, int64:
		return true
	case json.Number:
		_, err := n.Int64()
		return err == nil
	}
	return false
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, int, int64, json.Number:
		return "a number"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}
