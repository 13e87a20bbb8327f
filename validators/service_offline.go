package validators

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/policy"
)

// Offline-only Service rules: what the API server rejects at decode, drops
// silently, or already validates. Live admission never sees these mistakes
// (STICKY-FACTS §1, §D), so only `stickyguard check` reports them.
var (
	svcD01 = &Rule{
		ID: "SVC-D01", Severity: Deny, Kinds: []string{KindService}, Family: "Service (offline)", Offline: true,
		Title: "a sticky-session field has the wrong JSON type (e.g. timeoutSeconds: \"600\")",
		Fix:   "timeoutSeconds is an integer; sessionAffinity and externalTrafficPolicy are strings",
		Explain: "The API server decodes the Service into its Go type before admission; a string for an int32 " +
			"(or a number for a string) fails with 400, so no webhook sees it.",
		Source: "API decode: a string for an int32 fails with 400 before admission",
	}
	svcD02 = &Rule{
		ID: "SVC-D02", Severity: Deny, Kinds: []string{KindService}, Family: "Service (offline)", Offline: true,
		Title: "a sticky-session key is misplaced, misspelled or in the wrong case, so its value is lost",
		Fix:   "move the key to the position named, spelled exactly",
		Explain: "A sticky-session key at a wrong position (inside a ports[] item, at the top level, under metadata, " +
			"clientIP dedented beside an empty sessionAffinityConfig) or in the wrong case (clientIp) is an unknown " +
			"field: kubectl's strict field validation rejects the object, other clients drop the key and the API " +
			"default (None, or a 10800 s timeout) applies. stickyguard never fills a default over such a value.",
		Source: "server-side field validation (KEP-2885): unknown fields are dropped with a warning or rejected with Strict",
	}
	svcD03 = &Rule{
		ID: "SVC-D03", Severity: Warn, Kinds: []string{KindService}, Family: "Service (offline)", Offline: true,
		Title: "a ClientIP timeout next to sessionAffinity None (or unset) is discarded by API defaulting",
		Fix:   "set sessionAffinity: ClientIP, or remove sessionAffinityConfig",
		Explain: "SetDefaults_Service sets sessionAffinityConfig to nil unless sessionAffinity is ClientIP. An empty " +
			"config (sessionAffinityConfig: {}, as many charts render it) loses nothing and is not reported.",
		Source: "pkg/apis/core/v1/defaults.go SetDefaults_Service sets the config to nil for None",
	}
	svcD04 = &Rule{
		ID: "SVC-D04", Severity: Deny, Kinds: []string{KindService}, Family: "Service (offline)", Offline: true,
		Title:  "sessionAffinity is neither ClientIP nor None",
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
		Title:  "externalTrafficPolicy is not Cluster or Local, or the Service is not externally accessible",
		Fix:    "use Cluster or Local, only on NodePort/LoadBalancer (or with externalIPs)",
		Source: "ValidateService externalTrafficPolicy checks; pkg/api/service/util.go ExternallyAccessible",
	}
	svcD07 = &Rule{
		ID: "SVC-D07", Severity: Deny, Kinds: []string{KindService}, Family: "Service (offline)", Offline: true,
		Title:  "healthCheckNodePort is set, but the Service is not type LoadBalancer with externalTrafficPolicy Local",
		Fix:    "remove spec.healthCheckNodePort (it is allocated for LoadBalancer + Local)",
		Source: "ValidateService healthCheckNodePort checks",
	}
)

var offlineServiceRules = []*Rule{svcD01, svcD02, svcD03, svcD04, svcD05, svcD06, svcD07}

// ValidateServiceRaw inspects the sticky-session parts of a Service as
// written, decoded only as generic JSON, for mistakes the typed decode
// cannot show: wrong JSON types (SVC-D01) and a timeout the API defaulting
// discards (SVC-D03). Unknown and misplaced keys are reported from the
// strict typed decode (UnknownFields). It returns the findings and the JSON
// paths (from the object root) to delete so the rest of the object still
// decodes and gets checked. obj is not modified.
func ValidateServiceRaw(obj map[string]any) (field.ErrorList, Warnings, [][]string) {
	var f findings
	var drop [][]string
	spec, ok := obj["spec"].(map[string]any)
	if !ok {
		return nil, nil, nil
	}
	sp := field.NewPath("spec")
	for _, k := range []string{"sessionAffinity", "externalTrafficPolicy", "internalTrafficPolicy"} {
		if v, ok := spec[k]; ok && v != nil {
			if _, isStr := v.(string); !isStr {
				f.invalid(svcD01, sp.Child(k), clipEcho(fmt.Sprint(v)), "must be a string, got "+jsonType(v))
				drop = append(drop, []string{"spec", k})
			}
		}
	}
	if v, ok := spec["healthCheckNodePort"]; ok && v != nil && !isInteger(v) {
		f.invalid(svcD01, sp.Child("healthCheckNodePort"), clipEcho(fmt.Sprint(v)), "must be an integer, got "+jsonType(v))
		drop = append(drop, []string{"spec", "healthCheckNodePort"})
	}
	raw, present := spec["sessionAffinityConfig"]
	if !present || raw == nil {
		return f.errs, f.warns, drop
	}
	cp := sp.Child("sessionAffinityConfig")
	cfg, ok := raw.(map[string]any)
	if !ok {
		f.invalid(svcD01, cp, clipEcho(fmt.Sprint(raw)), "must be an object, got "+jsonType(raw))
		return f.errs, f.warns, append(drop, []string{"spec", "sessionAffinityConfig"})
	}
	ipRaw, ok := cfg["clientIP"]
	if !ok || ipRaw == nil {
		return f.errs, f.warns, drop
	}
	ip, ok := ipRaw.(map[string]any)
	if !ok {
		f.invalid(svcD01, cp.Child("clientIP"), clipEcho(fmt.Sprint(ipRaw)), "must be an object, got "+jsonType(ipRaw))
		return f.errs, f.warns, append(drop, []string{"spec", "sessionAffinityConfig", "clientIP"})
	}
	ipp := cp.Child("clientIP")
	t, hasTimeout := ip["timeoutSeconds"]
	if hasTimeout && t != nil && !isInteger(t) {
		f.invalid(svcD01, ipp.Child("timeoutSeconds"), clipEcho(fmt.Sprint(t)), "must be an integer (seconds), got "+jsonType(t))
		drop = append(drop, []string{"spec", "sessionAffinityConfig", "clientIP", "timeoutSeconds"})
	}
	// SVC-D03 only for a config that carries a value: an empty one
	// (sessionAffinityConfig: {}, popular charts render it) loses nothing.
	if aff, _ := spec["sessionAffinity"].(string); aff != string(corev1.ServiceAffinityClientIP) && hasTimeout && t != nil {
		if aff == "" {
			aff = "unset (None)"
		}
		f.warn(svcD03, cp, nil, "sessionAffinity is "+clipEcho(aff)+", so the API server discards this timeout")
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
		f.notSupported(svcD04, sp.Child("sessionAffinity"), clipEcho(string(svc.Spec.SessionAffinity)), []string{"ClientIP", "None"}, "the values are case-sensitive")
	}
	if c := svc.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
		if t := *c.ClientIP.TimeoutSeconds; t <= 0 || t > policy.MaxAPITimeout {
			f.invalid(svcD05, sp.Child("sessionAffinityConfig", "clientIP", "timeoutSeconds"), t, "")
		}
	}
	etp := svc.Spec.ExternalTrafficPolicy
	switch {
	case etp == "":
	case !ExternallyAccessible(svc):
		f.invalid(svcD06, sp.Child("externalTrafficPolicy"), clipEcho(string(etp)), "may only be set for externally-accessible Services")
	case etp != corev1.ServiceExternalTrafficPolicyCluster && etp != corev1.ServiceExternalTrafficPolicyLocal:
		f.notSupported(svcD06, sp.Child("externalTrafficPolicy"), clipEcho(string(etp)), []string{"Cluster", "Local"}, "the values are case-sensitive")
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
