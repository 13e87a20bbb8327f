package validators

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/policy"
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

	// persistence_timeout limits, in minutes: SOURCE_IP and HTTP_COOKIE.
	cceMaxSourceIPMinutes = 60
	cceMaxCookieMinutes   = 1440
)

var (
	cce001 = &Rule{ID: "CCE-001", Severity: Deny, Kinds: []string{KindService, KindIngress}, Family: cceFamily,
		Title:  "kubernetes.io/elb.session-affinity-mode is not SOURCE_IP, HTTP_COOKIE or APP_COOKIE (exact uppercase)",
		Fix:    "use SOURCE_IP (L4 Service) or HTTP_COOKIE/APP_COOKIE (ELB Ingress)",
		Source: cceSrcAnnotations + " (Table 2); " + cceSrcBestPractice}
	cce002 = &Rule{ID: "CCE-002", Severity: Deny, Kinds: []string{KindService}, Family: cceFamily,
		Title:  "cookie sticky mode on a LoadBalancer Service whose ELB listeners are L4 (TCP/UDP), where only SOURCE_IP applies",
		Fix:    "use SOURCE_IP here; cookie modes belong behind an ELB Ingress",
		Source: cceSrcAnnotations + " (Table 2); " + cceSrcCCM}
	cce003 = &Rule{ID: "CCE-003", Severity: Deny, Kinds: []string{KindService, KindIngress}, Family: cceFamily,
		Title:  "kubernetes.io/elb.lb-algorithm is not ROUND_ROBIN, LEAST_CONNECTIONS or SOURCE_IP",
		Fix:    "set ROUND_ROBIN, LEAST_CONNECTIONS or SOURCE_IP (exact uppercase)",
		Source: cceSrcAnnotations}
	cce004 = &Rule{ID: "CCE-004", Severity: Deny, Kinds: []string{KindService, KindIngress}, Family: cceFamily,
		Title:  "sticky session together with lb-algorithm SOURCE_IP, which CCE does not allow",
		Fix:    "drop the sticky mode (SOURCE_IP hashing already pins clients)",
		Source: cceSrcAnnotations + "; " + cceSrcBestPractice}
	cce005 = &Rule{ID: "CCE-005", Severity: Deny, Kinds: []string{KindService, KindIngress}, Family: cceFamily,
		Title: "kubernetes.io/elb.session-affinity-option is not a JSON object, or persistence_timeout is not 1-60 (SOURCE_IP) / 1-1440 (HTTP_COOKIE) minutes",
		Fix:   `use JSON with a string in minutes, e.g. '{"persistence_timeout": "30"}'`,
		Explain: "persistence_timeout is in minutes: 1-60 for SOURCE_IP (default 60), 1-1440 for HTTP_COOKIE. CCE documents it " +
			"as a JSON string; whether its managed controller also accepts a JSON number is unverified, so a number only warns.",
		Source: cceSrcAnnotations + " (Table 18); " + cceSrcBestPractice}
	cce006 = &Rule{ID: "CCE-006", Severity: Deny, Kinds: []string{KindService, KindIngress}, Family: cceFamily,
		Title:  "APP_COOKIE sticky session without app_cookie_name in kubernetes.io/elb.session-affinity-option",
		Fix:    `set the option to '{"app_cookie_name": "<cookie>"}'`,
		Source: cceSrcBestPractice}
	cce007 = &Rule{ID: "CCE-007", Severity: Deny, Kinds: []string{KindService, KindIngress}, Family: cceFamily,
		Title:  "APP_COOKIE sticky session on a dedicated load balancer (elb.class performance), which supports only HTTP_COOKIE",
		Fix:    "use HTTP_COOKIE, or a shared (union) load balancer for APP_COOKIE",
		Source: cceSrcBestPractice + " (important box); Huawei drawer page Ingress_k8s_annotation__kubernetes_io_elb_session-affinity-mode"}
	cce008 = &Rule{ID: "CCE-008", Severity: Warn, Default: true, Kinds: []string{KindService}, Family: cceFamily,
		Title: "CCE sticky Service in a standard cluster that will not get externalTrafficPolicy Local (node-level Service affinity)",
		Fix:   "set externalTrafficPolicy: Local and run one backend pod per node",
		Explain: "CCE standard clusters deliver ELB traffic to nodes, so ELB stickiness (SOURCE_IP on a LoadBalancer Service, " +
			"HTTP_COOKIE/APP_COOKIE on the Service behind an ELB Ingress) needs node-level Service affinity: externalTrafficPolicy " +
			"Local and backend anti-affinity. stickyguard sets Local unless the policy turns the default off or disables CCE-008, " +
			"the Service carries stickyguard.io/keep-traffic-policy: \"true\", or (offline) Cluster is written explicitly; then it warns. " +
			"CCE Turbo clusters are exempt (dedicated ELBs reach pods directly).",
		Source: cceSrcBestPractice + " §Enabling Layer 4/7 Sticky Session in a CCE Standard Cluster"}
	cce009 = &Rule{ID: "CCE-009", Severity: Warn, Kinds: []string{KindService}, Family: cceFamily,
		Title:  "sticky session with a shared load balancer (elb.class union) in a CCE Turbo cluster, where it cannot be enabled",
		Fix:    "use a dedicated LB (elb.class: performance), or drop stickiness",
		Source: cceSrcBestPractice + " §CCE Turbo"}
	cce010 = &Rule{ID: "CCE-010", Severity: Warn, Kinds: []string{KindService, KindIngress}, Family: cceFamily,
		Title:  "kubernetes.io/elb.session-affinity-option without kubernetes.io/elb.session-affinity-mode; the option is ignored",
		Fix:    "add kubernetes.io/elb.session-affinity-mode (SOURCE_IP, HTTP_COOKIE or APP_COOKIE) or remove the option",
		Source: cceSrcAnnotations}
	cce011 = &Rule{ID: "CCE-011", Severity: Deny, Kinds: []string{KindService}, Family: cceFamily,
		Title: "open-source Huawei CCM dialect: elb.session-affinity-flag not on/off, or an option the CCM ignores (no \"type\", non-numeric or out-of-range persistence_timeout)",
		Fix:   `use flag "on" with '{"type":"SOURCE_IP","persistence_timeout":15}'`,
		Explain: "The open-source CCM decodes the option into a struct with persistence_timeout *int32 (1-60 SOURCE_IP, 1-1440 " +
			"HTTP_COOKIE, minutes); a string or a missing \"type\" makes it log \"ignore options\" and drop them all.",
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
		f.notSupported(cce002, modePath, mode, []string{cceSourceIP}, "L4 (TCP/UDP) listeners ignore "+mode)
	}
	pol := ctx.Policy
	if d := DecideLocal(svc, pol, ctx.Offline); d.Rule == cce008.ID && d.Blocked != "" {
		f.warn(cce008, field.NewPath("spec", "externalTrafficPolicy"), string(TrafficPolicy(svc)),
			d.Reason+" needs externalTrafficPolicy Local; "+d.Blocked)
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
			"unknown mode (values are exact uppercase)")
	}
	switch algo {
	case "", "ROUND_ROBIN", "LEAST_CONNECTIONS", cceSourceIP:
	default:
		f.notSupported(cce003, annPath(annCCEAlgorithm), clipValue(algo),
			[]string{"ROUND_ROBIN", "LEAST_CONNECTIONS", cceSourceIP}, "unknown load-balancing algorithm")
	}
	if mode != "" && algo == cceSourceIP {
		f.forbidden(cce004, modePath, "sticky sessions are not allowed with lb-algorithm SOURCE_IP")
	}
	if mode == cceAppCookie && a[annCCEClass] == "performance" {
		f.forbidden(cce007, modePath, "dedicated (performance) load balancers support only HTTP_COOKIE")
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
			f.required(cce006, p, "APP_COOKIE needs app_cookie_name in the option")
		}
		return
	case mode == "":
		f.warn(cce010, p, clipValue(raw), "ignored without session-affinity-mode")
		return
	}
	opt, ok := cceParseObject(raw)
	if !ok {
		f.invalid(cce005, p, clipValue(raw), "the option is not a JSON object")
		return
	}
	switch mode {
	case cceSourceIP:
		cceCheckManagedTimeout(f, p, opt["persistence_timeout"], cceMaxSourceIPMinutes)
	case cceHTTPCookie:
		cceCheckManagedTimeout(f, p, opt["persistence_timeout"], cceMaxCookieMinutes)
	case cceAppCookie:
		var name string
		if rawName, ok := opt["app_cookie_name"]; !ok {
			f.required(cce006, p, "APP_COOKIE needs app_cookie_name in the option")
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
		f.warn(cce005, p, clipValue(string(raw)), "persistence_timeout is a number; CCE documents a string (\"30\")")
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
		limit := int32(cceMaxSourceIPMinutes)
		if typ == cceHTTPCookie {
			limit = cceMaxCookieMinutes
		}
		if err := json.Unmarshal(rawT, &n); err != nil {
			f.invalid(cce011, p, clipValue(string(rawT)), "persistence_timeout must be a JSON number; a string voids the option")
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
