package validators

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/validators/policy"
)

// Huawei Cloud CCE (ELB) sticky-session rules. Two dialects exist: the
// managed CCE controller reads elb.session-affinity-mode plus an option whose
// persistence_timeout is documented as a JSON string; the open-source
// cloud-provider-huaweicloud CCM reads elb.session-affinity-flag plus an
// option with "type" and a numeric persistence_timeout. A Service carrying
// the flag is checked in the CCM dialect.

const (
	cceFamily          = "Huawei CCE"
	annCCEProtocolPort = "kubernetes.io/elb.protocol-port"

	cceSrcAnnotations  = "opentelekomcloud-docs/cloud-container-engine umn/source/networking/services/loadbalancer/configuring_advanced_load_balancing_functions_using_annotations.rst"
	cceSrcBestPractice = "opentelekomcloud-docs/cloud-container-engine umn/source/best_practice/networking/implementing_sticky_session_through_load_balancing.rst"
	cceSrcCCM          = "kubernetes-sigs/cloud-provider-huaweicloud docs/usage-guide.md; pkg/cloudprovider/huaweicloud/sharedloadbalancer.go getSessionAffinity"

	cceSourceIP   = "SOURCE_IP"
	cceHTTPCookie = "HTTP_COOKIE"
	cceAppCookie  = "APP_COOKIE"
)

var (
	cce001 = &Rule{ID: "CCE-001", Severity: Deny, Kinds: []string{KindService, KindIngress}, Family: cceFamily,
		Title:  "kubernetes.io/elb.session-affinity-mode is not SOURCE_IP, HTTP_COOKIE or APP_COOKIE (exact uppercase)",
		Fix:    "set kubernetes.io/elb.session-affinity-mode to SOURCE_IP (L4 Service) or HTTP_COOKIE/APP_COOKIE (ELB Ingress)",
		Source: cceSrcAnnotations + " (Table 2); " + cceSrcBestPractice}
	cce002 = &Rule{ID: "CCE-002", Severity: Deny, Kinds: []string{KindService}, Family: cceFamily,
		Title:  "cookie sticky mode on a LoadBalancer Service whose ELB listeners are L4 (TCP/UDP), where only SOURCE_IP applies",
		Fix:    "use SOURCE_IP on L4 LoadBalancer Services; put HTTP_COOKIE/APP_COOKIE on the Service behind an ELB Ingress",
		Source: cceSrcAnnotations + " (Table 2); " + cceSrcCCM}
	cce003 = &Rule{ID: "CCE-003", Severity: Deny, Kinds: []string{KindService, KindIngress}, Family: cceFamily,
		Title:  "kubernetes.io/elb.lb-algorithm is not ROUND_ROBIN, LEAST_CONNECTIONS or SOURCE_IP",
		Fix:    "set kubernetes.io/elb.lb-algorithm to ROUND_ROBIN, LEAST_CONNECTIONS or SOURCE_IP (exact uppercase)",
		Source: cceSrcAnnotations}
	cce004 = &Rule{ID: "CCE-004", Severity: Deny, Kinds: []string{KindService, KindIngress}, Family: cceFamily,
		Title:  "sticky session together with lb-algorithm SOURCE_IP, which CCE does not allow",
		Fix:    "drop kubernetes.io/elb.session-affinity-mode (source-IP hashing already pins clients) or use ROUND_ROBIN/LEAST_CONNECTIONS",
		Source: cceSrcAnnotations + "; " + cceSrcBestPractice}
	cce005 = &Rule{ID: "CCE-005", Severity: Deny, Kinds: []string{KindService, KindIngress}, Family: cceFamily,
		Title:  "kubernetes.io/elb.session-affinity-option is not a JSON object, or persistence_timeout is not 1-60 (SOURCE_IP) / 1-1440 (HTTP_COOKIE) minutes",
		Fix:    `write the option as JSON with a string timeout in minutes, e.g. '{"persistence_timeout": "30"}' (1-60 SOURCE_IP, 1-1440 HTTP_COOKIE)`,
		Source: cceSrcAnnotations + " (Table 18); " + cceSrcBestPractice}
	cce006 = &Rule{ID: "CCE-006", Severity: Deny, Kinds: []string{KindService, KindIngress}, Family: cceFamily,
		Title:  "APP_COOKIE sticky session without app_cookie_name in kubernetes.io/elb.session-affinity-option",
		Fix:    `set kubernetes.io/elb.session-affinity-option: '{"app_cookie_name": "<application cookie>"}'`,
		Source: cceSrcBestPractice}
	cce007 = &Rule{ID: "CCE-007", Severity: Deny, Kinds: []string{KindService, KindIngress}, Family: cceFamily,
		Title:  "APP_COOKIE sticky session on a dedicated load balancer (elb.class performance), which supports only HTTP_COOKIE",
		Fix:    "use HTTP_COOKIE with a dedicated load balancer, or a shared (union) load balancer for APP_COOKIE",
		Source: cceSrcBestPractice + " (important box); Huawei drawer page Ingress_k8s_annotation__kubernetes_io_elb_session-affinity-mode"}
	cce008 = &Rule{ID: "CCE-008", Severity: Warn, Default: true, Kinds: []string{KindService}, Family: cceFamily,
		Title:  "CCE sticky Service in a standard cluster that will not get externalTrafficPolicy Local (node-level Service affinity)",
		Fix:    "set spec.externalTrafficPolicy: Local (drop stickyguard.io/keep-traffic-policy) and run at most one backend pod per node",
		Source: cceSrcBestPractice + " §Enabling Layer 4/7 Sticky Session in a CCE Standard Cluster"}
	cce009 = &Rule{ID: "CCE-009", Severity: Warn, Kinds: []string{KindService}, Family: cceFamily,
		Title:  "sticky session with a shared load balancer (elb.class union) in a CCE Turbo cluster, where it cannot be enabled",
		Fix:    "use a dedicated load balancer (kubernetes.io/elb.class: performance) in CCE Turbo, or drop the sticky-session annotations",
		Source: cceSrcBestPractice + " §CCE Turbo"}
	cce010 = &Rule{ID: "CCE-010", Severity: Warn, Kinds: []string{KindService, KindIngress}, Family: cceFamily,
		Title:  "kubernetes.io/elb.session-affinity-option without kubernetes.io/elb.session-affinity-mode; the option is ignored",
		Fix:    "add kubernetes.io/elb.session-affinity-mode (SOURCE_IP, HTTP_COOKIE or APP_COOKIE) or remove the option",
		Source: cceSrcAnnotations}
	cce011 = &Rule{ID: "CCE-011", Severity: Deny, Kinds: []string{KindService}, Family: cceFamily,
		Title:  "open-source Huawei CCM dialect: elb.session-affinity-flag not on/off, or an option the CCM ignores (no \"type\", non-numeric or out-of-range persistence_timeout)",
		Fix:    `use kubernetes.io/elb.session-affinity-flag: "on" with '{"type":"SOURCE_IP","persistence_timeout":15}' (a JSON number: 1-60 SOURCE_IP, 1-1440 HTTP_COOKIE)`,
		Source: cceSrcCCM}
)

var cceRules = []*Rule{cce001, cce002, cce003, cce004, cce005, cce006, cce007, cce008, cce009, cce010, cce011}

func validateServiceCCE(svc, _ *corev1.Service, ctx *Context) (field.ErrorList, Warnings) {
	a := svc.Annotations
	if len(a) == 0 {
		return nil, nil
	}
	var f findings
	cceCheckCommon(&f, a)
	mode := a[annCCEMode]
	if _, ok := a[annCCEFlag]; ok {
		cceCheckCCM(&f, a)
	} else {
		cceCheckOption(&f, a, mode)
	}
	modePath := annPath(annCCEMode)
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer && (mode == cceHTTPCookie || mode == cceAppCookie) &&
		!cceDeclaresHTTP(a[annCCEProtocolPort]) && !cceBacksELBIngress(ctx) {
		f.notSupported(cce002, modePath, mode, []string{cceSourceIP},
			"a LoadBalancer Service gets TCP/UDP ELB listeners, where the ELB ignores "+mode+" and keeps clients by source IP")
	}
	pol := ctx.Policy
	sticky := (mode == cceSourceIP && svc.Spec.Type == corev1.ServiceTypeLoadBalancer) ||
		((mode == cceHTTPCookie || mode == cceAppCookie) && ExternallyAccessible(svc))
	if pol.Cluster.CCE != policy.CCETurbo && sticky && !PodDirect(svc, pol) && !cloudEffectiveLocal(svc, pol) {
		why := "stickyguard does not set it for this Service type"
		if KeepsTrafficPolicy(svc) {
			why = AnnKeepTrafficPolicy + " keeps it"
		} else if !pol.SetLocal() {
			why = "the policy does not set it"
		}
		f.warn(cce008, field.NewPath("spec", "externalTrafficPolicy"), string(TrafficPolicy(svc)),
			"CCE standard clusters need externalTrafficPolicy Local for "+mode+" sticky sessions, and "+why+"; nodes re-balance each client across pods")
	}
	if pol.Cluster.CCE == policy.CCETurbo && mode != "" && a[annCCEClass] == "union" {
		f.warn(cce009, modePath, mode, "CCE Turbo cannot enable sticky sessions on a shared (union) load balancer")
	}
	return f.result()
}

func validateIngressCCE(ing, _ *networkingv1.Ingress, ctx *Context) (field.ErrorList, Warnings) {
	a := ing.Annotations
	if len(a) == 0 || !appliesTo(ctx.Related.Controller, ControllerCCE) {
		return nil, nil
	}
	var f findings
	cceCheckCommon(&f, a)
	cceCheckOption(&f, a, a[annCCEMode])
	return f.result()
}

// cceCheckCommon runs the mode/algorithm/class checks shared by Service and
// Ingress (CCE-001, CCE-003, CCE-004, CCE-007). Empty values count as unset.
func cceCheckCommon(f *findings, a map[string]string) {
	mode, algo := a[annCCEMode], a[annCCEAlgorithm]
	modePath := annPath(annCCEMode)
	switch mode {
	case "", cceSourceIP, cceHTTPCookie, cceAppCookie:
	default:
		f.notSupported(cce001, modePath, clipValue(mode), []string{cceSourceIP, cceHTTPCookie, cceAppCookie},
			"unknown sticky-session mode (values are exact uppercase)")
	}
	switch algo {
	case "", "ROUND_ROBIN", "LEAST_CONNECTIONS", cceSourceIP:
	default:
		f.notSupported(cce003, annPath(annCCEAlgorithm), clipValue(algo),
			[]string{"ROUND_ROBIN", "LEAST_CONNECTIONS", cceSourceIP}, "unknown load-balancing algorithm")
	}
	if mode != "" && algo == cceSourceIP {
		f.forbidden(cce004, modePath, "sticky sessions cannot be enabled when "+annCCEAlgorithm+" is SOURCE_IP")
	}
	if mode == cceAppCookie && a[annCCEClass] == "performance" {
		f.forbidden(cce007, modePath, "dedicated (performance) load balancers support only HTTP_COOKIE; APP_COOKIE stays disabled")
	}
}

// cceCheckOption checks the managed dialect's session-affinity-option
// against the mode (CCE-005, CCE-006, CCE-010).
func cceCheckOption(f *findings, a map[string]string, mode string) {
	p := annPath(annCCEOption)
	raw, ok := a[annCCEOption]
	switch {
	case !ok:
		if mode == cceAppCookie {
			f.required(cce006, p, "APP_COOKIE needs app_cookie_name in "+annCCEOption)
		}
		return
	case mode == "":
		f.warn(cce010, p, clipValue(raw), "the option does nothing without "+annCCEMode)
		return
	}
	opt, ok := cceParseObject(raw)
	if !ok {
		f.invalid(cce005, p, clipValue(raw), "the option must be a JSON object, e.g. '{\"persistence_timeout\": \"30\"}'")
		return
	}
	switch mode {
	case cceSourceIP:
		cceCheckManagedTimeout(f, p, opt["persistence_timeout"], 60)
	case cceHTTPCookie:
		cceCheckManagedTimeout(f, p, opt["persistence_timeout"], 1440)
	case cceAppCookie:
		var name string
		if rawName, ok := opt["app_cookie_name"]; !ok {
			f.required(cce006, p, "APP_COOKIE needs app_cookie_name in "+annCCEOption)
		} else if json.Unmarshal(rawName, &name) != nil || name == "" {
			f.invalid(cce006, p, clipValue(string(rawName)), "app_cookie_name must be a non-empty string")
		}
	}
}

// cceCheckManagedTimeout accepts the documented string form ("30"); a JSON
// number is range-checked too but warned about, since whether the managed
// controller accepts it is unverified.
func cceCheckManagedTimeout(f *findings, p *field.Path, raw json.RawMessage, limit int) {
	if raw == nil {
		return
	}
	var s string
	var num float64
	n := 0
	switch {
	case json.Unmarshal(raw, &s) == nil:
		v, err := strconv.Atoi(s)
		if err != nil {
			f.invalid(cce005, p, clipValue(s), "persistence_timeout must be an integer number of minutes, written as a string")
			return
		}
		n = v
	case json.Unmarshal(raw, &num) == nil && num == math.Trunc(num) && math.Abs(num) < 1e9:
		n = int(num)
		f.warn(cce005, p, clipValue(string(raw)), "persistence_timeout is a JSON number; CCE documents a string (\"30\") and whether its controller accepts a number is unverified")
	default:
		f.invalid(cce005, p, clipValue(string(raw)), "persistence_timeout must be an integer number of minutes, written as a string")
		return
	}
	if n < 1 || n > limit {
		f.invalid(cce005, p, n, "persistence_timeout must be 1-"+strconv.Itoa(limit)+" minutes for this mode")
	}
}

// cceCheckCCM checks the open-source CCM dialect (CCE-011): the flag is on
// unless "" or "off"; the option is unmarshalled into SessionPersistence
// (persistence_timeout *int32), and a decode error drops the options.
func cceCheckCCM(f *findings, a map[string]string) {
	flag := a[annCCEFlag]
	if flag != "" && flag != "on" && flag != "off" {
		f.notSupported(cce011, annPath(annCCEFlag), clipValue(flag), []string{"on", "off"},
			"the CCM treats anything but \"off\" as on")
	}
	raw := a[annCCEOption]
	if flag == "" || flag == "off" || raw == "" {
		return
	}
	p := annPath(annCCEOption)
	opt, ok := cceParseObject(raw)
	if !ok {
		f.invalid(cce011, p, clipValue(raw), "the option is not a JSON object; the CCM ignores it")
		return
	}
	var typ string
	rawType, hasType := opt["type"]
	switch {
	case !hasType:
		f.required(cce011, p, "the option needs \"type\": SOURCE_IP, HTTP_COOKIE or APP_COOKIE")
	case json.Unmarshal(rawType, &typ) != nil || (typ != cceSourceIP && typ != cceHTTPCookie && typ != cceAppCookie):
		f.notSupported(cce011, p, clipValue(string(rawType)), []string{cceSourceIP, cceHTTPCookie, cceAppCookie}, "unknown \"type\"")
	}
	if rawT, ok := opt["persistence_timeout"]; ok && string(rawT) != "null" {
		var n int32
		limit := int32(60)
		if typ == cceHTTPCookie {
			limit = 1440
		}
		if err := json.Unmarshal(rawT, &n); err != nil {
			f.invalid(cce011, p, clipValue(string(rawT)), "persistence_timeout must be a JSON number (the CCM decodes it into an int32; a string makes it ignore all options)")
		} else if (typ == cceSourceIP || typ == cceHTTPCookie) && (n < 1 || n > limit) {
			f.invalid(cce011, p, n, "persistence_timeout must be 1-"+strconv.Itoa(int(limit))+" minutes for "+typ)
		}
	}
	if typ == cceAppCookie {
		var name string
		if json.Unmarshal(opt["cookie_name"], &name) != nil || name == "" {
			f.required(cce011, p, "APP_COOKIE needs \"cookie_name\" in the option")
		}
	}
}

func cceParseObject(raw string) (map[string]json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &m); err != nil || m == nil {
		return nil, false
	}
	return m, true
}

// cceDeclaresHTTP reports whether kubernetes.io/elb.protocol-port
// ("https:443,http:80") declares an HTTP or HTTPS listener.
func cceDeclaresHTTP(v string) bool {
	for _, e := range strings.Split(v, ",") {
		proto, _, _ := strings.Cut(e, ":")
		if p := strings.ToLower(strings.TrimSpace(proto)); p == "http" || p == "https" {
			return true
		}
	}
	return false
}

// cceBacksELBIngress reports whether a CCE ELB Ingress routes to the Service.
func cceBacksELBIngress(ctx *Context) bool {
	for _, ri := range ctx.Related.Ingresses {
		if ri.Controller == ControllerCCE {
			return true
		}
	}
	return false
}

// cloudEffectiveLocal reports whether the Service is, or after stickyguard's
// externalTrafficPolicy default (SVC-005/CCE-008) will be, Local. Shared by
// the provider families.
func cloudEffectiveLocal(svc *corev1.Service, pol *policy.Policy) bool {
	if svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal {
		return true
	}
	if !pol.SetLocal() || KeepsTrafficPolicy(svc) {
		return false
	}
	_, needs := NeedsLocal(svc, pol)
	return needs
}
