package validators

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// AWS Load Balancer Controller rules: target-group-attributes on Ingresses
// (ALB) and Services (ALB backends and NLBs), target types, and weighted
// forward actions. Attribute maps are parsed with ParseAWSStringMap, the
// controller's stringMap parser; the controller passes values to the AWS
// API unvalidated, so the ranges here are the API's.

const (
	awsFamily          = "AWS Load Balancer Controller"
	annAWSActionPrefix = "alb.ingress.kubernetes.io/actions."
	awsMaxDuration     = 604800     // one week, the ELBv2 API maximum
	awsDurationRange   = "1-604800" // awsMaxDuration in messages

	awsSrcIngressDocs = "aws-load-balancer-controller docs/guide/ingress/annotations.md"
	awsSrcServiceDocs = "aws-load-balancer-controller docs/guide/service/annotations.md"
	awsSrcAPI         = "AWS ELBv2 API TargetGroupAttribute reference"
)

var (
	aws001 = &Rule{ID: "AWS-001", Severity: Deny, Kinds: []string{KindService, KindIngress}, Family: awsFamily,
		Title:  "target-group-attributes is not a k=v[,k=v]* stringMap",
		Fix:    "write comma-separated key=value pairs (k=v,k=v)",
		Source: "aws-load-balancer-controller pkg/annotations/parser.go ParseStringMapAnnotation"}
	aws002 = &Rule{ID: "AWS-002", Severity: Deny, Kinds: []string{KindService, KindIngress}, Family: awsFamily,
		Title: "unknown or misspelled stickiness target group attribute",
		Fix:   "use only the documented stickiness.* keys (NLB: enabled and type only)",
		Explain: "ALB target groups take stickiness.enabled, stickiness.type, stickiness.lb_cookie.duration_seconds, " +
			"stickiness.app_cookie.cookie_name and stickiness.app_cookie.duration_seconds; NLB target groups only the first two. " +
			"The controller passes attributes to the AWS API unvalidated, which rejects unknown keys.",
		Source: "aws-load-balancer-controller#895; " + awsSrcAPI}
	aws003 = &Rule{ID: "AWS-003", Severity: Deny, Kinds: []string{KindService, KindIngress}, Family: awsFamily,
		Title:  "stickiness.enabled is not true or false",
		Fix:    "set stickiness.enabled=true or stickiness.enabled=false",
		Source: awsSrcAPI}
	aws004 = &Rule{ID: "AWS-004", Severity: Deny, Kinds: []string{KindService, KindIngress}, Family: awsFamily,
		Title:  "ALB stickiness.type is not lb_cookie or app_cookie",
		Fix:    "set stickiness.type=lb_cookie or stickiness.type=app_cookie",
		Source: awsSrcAPI + " (lb_cookie, app_cookie for ALBs)"}
	aws005 = &Rule{ID: "AWS-005", Severity: Deny, Kinds: []string{KindService}, Family: awsFamily,
		Title:  "NLB stickiness.type is not source_ip",
		Fix:    "set stickiness.type=source_ip",
		Source: awsSrcAPI + " (source_ip for NLBs); " + awsSrcServiceDocs}
	aws006 = &Rule{ID: "AWS-006", Severity: Deny, Kinds: []string{KindService, KindIngress}, Family: awsFamily,
		Title: "stickiness duration outside 1-604800 seconds, or targetGroupStickinessConfig enabled without durationSeconds",
		Fix:   "give the duration in whole seconds, 1-604800 (default 86400)",
		Explain: "Covers stickiness.lb_cookie.duration_seconds and the forward action's targetGroupStickinessConfig.durationSeconds. " +
			"Enabling targetGroupStickinessConfig without durationSeconds is rejected by the AWS API (\"You must specify this value " +
			"when enabling target group stickiness\"); the controller passes the action through, so the Ingress never reconciles.",
		Source: awsSrcAPI + " (\"range is 1 second to 1 week (604800 seconds)\"; TargetGroupStickinessConfig DurationSeconds)"}
	aws007 = &Rule{ID: "AWS-007", Severity: Deny, Kinds: []string{KindService, KindIngress}, Family: awsFamily,
		Title:  "stickiness.type=app_cookie without stickiness.app_cookie.cookie_name, or with a reserved AWSALB* name",
		Fix:    "set stickiness.app_cookie.cookie_name to the app's cookie (not AWSALB*)",
		Source: awsSrcAPI + " (AWSALB, AWSALBAPP and AWSALBTG prefixes are reserved)"}
	aws008 = &Rule{ID: "AWS-008", Severity: Warn, Kinds: []string{KindService, KindIngress}, Family: awsFamily,
		Title: "stickiness enabled with instance targets: the load balancer pins an EC2 node and kube-proxy re-balances across pods",
		Fix:   "use target-type ip, or externalTrafficPolicy Local with one pod per node",
		Explain: "With instance targets the load balancer sends to a NodePort and kube-proxy picks any pod. The target type is " +
			"alb.ingress.kubernetes.io/target-type (ALB) or service.beta.kubernetes.io/aws-load-balancer-nlb-target-type (NLB; " +
			"aws-load-balancer-type: nlb-ip also means ip). For an NLB Service stickyguard sets externalTrafficPolicy Local " +
			"(SVC-005) unless that default is off, opted out or disabled by policy.",
		Source: awsSrcIngressDocs + " (sticky sessions require target-type ip); aws-load-balancer-controller#895"}
	aws009 = &Rule{ID: "AWS-009", Severity: Warn, Kinds: []string{KindIngress}, Family: awsFamily,
		Title:  "weighted forward action over sticky target groups without targetGroupStickinessConfig enabled",
		Fix:    `add "targetGroupStickinessConfig": {"enabled": true, "durationSeconds": N}`,
		Source: awsSrcIngressDocs + " (weighted routing note); " + awsSrcServiceDocs}
	aws010 = &Rule{ID: "AWS-010", Severity: Warn, Kinds: []string{KindIngress}, Family: awsFamily,
		Title:   "Ingress target-group-attributes overridden by the backend Service's own annotation",
		Fix:     "keep the attributes in one place, or make them agree",
		Explain: "The Service's annotation wins as a whole: keys set only on the Ingress are dropped for that Service's target group.",
		Source:  awsSrcIngressDocs + " (\"Annotations applied to Service have higher priority\"); pkg/ingress/model_build_target_group.go MergeStringMap"}
	aws011 = &Rule{ID: "AWS-011", Severity: Deny, Kinds: []string{KindService, KindIngress}, Family: awsFamily,
		Title:  "stickiness.app_cookie.duration_seconds outside 1-604800 seconds",
		Fix:    "give the duration in whole seconds, 1-604800 (default 86400)",
		Source: awsSrcAPI + " (app_cookie duration: 1 second to 1 week, default 1 day)"}
)

var awsRules = []*Rule{aws001, aws002, aws003, aws004, aws005, aws006, aws007, aws008, aws009, aws010, aws011}

func validateServiceAWS(svc, _ *corev1.Service, ctx *Context) (field.ErrorList, Warnings) {
	a := svc.Annotations
	if len(a) == 0 {
		return nil, nil
	}
	var f findings
	for _, k := range keysWhere(a, isNLBAttrsKey) {
		// NLB attributes matter only where an NLB is provisioned (type
		// LoadBalancer); elsewhere they do nothing (SVC-014 says so).
		if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
			continue
		}
		m := awsCheckAttrs(&f, k, a[k], true)
		ipTargets := strings.TrimSpace(a[annAWSNLBTargetType]) == "ip" || strings.TrimSpace(a[annAWSLBType]) == "nlb-ip"
		if m["stickiness.enabled"] == "true" && svc.Spec.Type == corev1.ServiceTypeLoadBalancer && !ipTargets &&
			!EffectiveLocal(svc, ctx.Policy, ctx.Offline) {
			f.warn(aws008, annPath(k), nil, "NLB stickiness on instance targets pins a node, not a pod")
		}
	}
	if raw, ok := a[annAWSALBAttrs]; ok {
		m := awsCheckAttrs(&f, annAWSALBAttrs, raw, false)
		if m["stickiness.enabled"] == "true" && !awsServiceIPTargets(svc, ctx) && !EffectiveLocal(svc, ctx.Policy, ctx.Offline) {
			f.warn(aws008, annPath(annAWSALBAttrs), nil, "ALB stickiness on instance targets (the default) pins a node, not a pod")
		}
	}
	return f.result()
}

// awsServiceIPTargets resolves an ALB backend Service's target type: its own
// target-type annotation wins, else every ALB Ingress routing to it must say ip.
func awsServiceIPTargets(svc *corev1.Service, ctx *Context) bool {
	if v, ok := svc.Annotations[annAWSALBTargetType]; ok {
		return v == "ip"
	}
	n := 0
	for _, ri := range ctx.Related.Ingresses {
		if ri.Ingress == nil || !appliesTo(ri.Controller, ControllerAWS) {
			continue
		}
		if ri.Ingress.Annotations[annAWSALBTargetType] != "ip" {
			return false
		}
		n++
	}
	return n > 0
}

func validateIngressAWS(ing, _ *networkingv1.Ingress, ctx *Context) (field.ErrorList, Warnings) {
	a := ing.Annotations
	if len(a) == 0 || !appliesTo(ctx.Related.Controller, ControllerAWS) {
		return nil, nil
	}
	var f findings
	p := annPath(annAWSALBAttrs)
	raw, hasAttrs := a[annAWSALBAttrs]
	var attrs map[string]string
	if hasAttrs {
		attrs = awsCheckAttrs(&f, annAWSALBAttrs, raw, false)
	}
	if attrs["stickiness.enabled"] == "true" {
		if names, instance := awsInstanceBackends(ing, ctx); instance {
			detail := "ALB stickiness on instance targets (the default) pins a node, not a pod"
			if len(names) > 0 {
				detail += " (Services " + clipTo(strings.Join(names, ", "), 24) + ")"
			}
			f.warn(aws008, p, nil, detail)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(a)) {
		if strings.HasPrefix(k, annAWSActionPrefix) {
			awsCheckAction(&f, k, a[k], attrs, ctx)
		}
	}
	if attrs != nil {
		for _, svc := range ctx.Related.BackendServices {
			awsCheckOverride(&f, p, attrs, svc)
		}
	}
	return f.result()
}

// awsInstanceBackends reports whether the Ingress's sticky attributes reach
// instance targets, naming the backend Services that do. Services with their
// own target-group-attributes are skipped: theirs replace the Ingress's.
func awsInstanceBackends(ing *networkingv1.Ingress, ctx *Context) ([]string, bool) {
	ingTT := ing.Annotations[annAWSALBTargetType]
	if len(ctx.Related.BackendServices) == 0 {
		return nil, ingTT != "ip"
	}
	var names []string
	for _, svc := range ctx.Related.BackendServices {
		if svc == nil {
			continue
		}
		if _, own := svc.Annotations[annAWSALBAttrs]; own {
			continue
		}
		tt, ok := svc.Annotations[annAWSALBTargetType]
		if !ok {
			tt = ingTT
		}
		if tt != "ip" && !EffectiveLocal(svc, ctx.Policy, ctx.Offline) {
			names = append(names, svc.Name)
		}
	}
	return names, len(names) > 0
}

// awsAction is the part of an actions.<name> annotation these rules read
// (aws-load-balancer-controller pkg/ingress/config_types.go Action).
type awsAction struct {
	Type          string `json:"type"`
	ForwardConfig *struct {
		TargetGroups []struct {
			ServiceName *string `json:"serviceName"`
		} `json:"targetGroups"`
		TargetGroupStickinessConfig *struct {
			Enabled         *bool  `json:"enabled"`
			DurationSeconds *int64 `json:"durationSeconds"`
		} `json:"targetGroupStickinessConfig"`
	} `json:"forwardConfig"`
}

// awsCheckAction checks one forward action (AWS-006 duration, AWS-009).
func awsCheckAction(f *findings, key, raw string, ingAttrs map[string]string, ctx *Context) {
	var act awsAction
	if json.Unmarshal([]byte(raw), &act) != nil || act.Type != "forward" || act.ForwardConfig == nil {
		return
	}
	p := annPath(key)
	fc := act.ForwardConfig
	sc := fc.TargetGroupStickinessConfig
	enabled := sc != nil && sc.Enabled != nil && *sc.Enabled
	switch {
	case sc != nil && sc.DurationSeconds != nil && (*sc.DurationSeconds < 1 || *sc.DurationSeconds > awsMaxDuration):
		f.invalid(aws006, p, *sc.DurationSeconds, "targetGroupStickinessConfig.durationSeconds must be "+awsDurationRange)
	case enabled && sc.DurationSeconds == nil:
		// The AWS API rejects enabling group stickiness without a
		// duration; the controller passes the action through unchecked.
		f.required(aws006, p, "targetGroupStickinessConfig is enabled without durationSeconds")
	}
	if len(fc.TargetGroups) < 2 || enabled {
		return
	}
	var sticky []string
	for _, tg := range fc.TargetGroups {
		if tg.ServiceName != nil && awsServiceSticky(*tg.ServiceName, ingAttrs, ctx) {
			sticky = append(sticky, *tg.ServiceName)
		}
	}
	if len(sticky) > 0 {
		f.warn(aws009, p, nil, "clients hop between target groups; sticky: "+clipTo(strings.Join(sticky, ", "), 24))
	}
}

// awsServiceSticky reports whether the target group of a Service has
// stickiness enabled: the Service's own attributes win, else the Ingress's.
func awsServiceSticky(name string, ingAttrs map[string]string, ctx *Context) bool {
	for _, svc := range ctx.Related.BackendServices {
		if svc == nil || svc.Name != name {
			continue
		}
		if raw, ok := svc.Annotations[annAWSALBAttrs]; ok {
			m, err := ParseAWSStringMap(raw)
			return err == nil && m["stickiness.enabled"] == "true"
		}
		break
	}
	return ingAttrs["stickiness.enabled"] == "true"
}

// awsCheckOverride warns (AWS-010) when a backend Service's own
// target-group-attributes replace the Ingress's and change or drop a key.
func awsCheckOverride(f *findings, p *field.Path, ingAttrs map[string]string, svc *corev1.Service) {
	if svc == nil {
		return
	}
	raw, ok := svc.Annotations[annAWSALBAttrs]
	if !ok {
		return
	}
	svcAttrs, err := ParseAWSStringMap(raw)
	if err != nil {
		return
	}
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(ingAttrs)) {
		sv, set := svcAttrs[k]
		switch {
		case !set:
			diffs = append(diffs, k+" (not set on the Service)")
		case sv != ingAttrs[k]:
			diffs = append(diffs, fmt.Sprintf("%s=%s (Service: %s)", k, ingAttrs[k], sv))
		}
	}
	if len(diffs) > 0 {
		f.warn(aws010, p, nil, "Service "+clipTo(svc.Name, 30)+"'s own attributes replace these; lost: "+clipTo(strings.Join(diffs, ", "), 24))
	}
}

// awsCheckAttrs parses and checks one target-group-attributes annotation
// (AWS-001..AWS-007, AWS-011) and returns the parsed map (nil on error).
func awsCheckAttrs(f *findings, key, raw string, nlb bool) map[string]string {
	p := annPath(key)
	m, err := ParseAWSStringMap(raw)
	if err != nil {
		detail := "not key=value pairs; the controller fails to reconcile"
		var sme *stringMapError
		if errors.As(err, &sme) {
			detail = "pair " + strconv.Quote(clipTo(sme.pair, 24)) + " has no =; the controller cannot reconcile"
		}
		f.invalid(aws001, p, clipValue(raw), detail)
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !awsStickyLike(k) || awsKnownKey(k, nlb) {
			continue
		}
		detail := "unknown target group attribute " + strconv.Quote(clipTo(k, 40))
		if nlb && awsKnownKey(k, false) {
			detail = "ALB-only attribute " + strconv.Quote(k)
		}
		f.invalid(aws002, p, clipValue(k), detail)
	}
	if v, ok := m["stickiness.enabled"]; ok && v != "true" && v != "false" {
		f.notSupported(aws003, p, clipValue(v), []string{"true", "false"}, "stickiness.enabled must be true or false")
	}
	if v, ok := m["stickiness.type"]; ok {
		if nlb && v != "source_ip" {
			f.notSupported(aws005, p, clipValue(v), []string{"source_ip"}, "NLB target groups support only source_ip stickiness")
		} else if !nlb && v != "lb_cookie" && v != "app_cookie" {
			f.notSupported(aws004, p, clipValue(v), []string{"lb_cookie", "app_cookie"}, "ALB target groups support lb_cookie or app_cookie stickiness")
		}
	}
	if nlb {
		return m
	}
	if v, ok := m["stickiness.lb_cookie.duration_seconds"]; ok && !awsDurationOK(v) {
		f.invalid(aws006, p, clipValue(v), "stickiness.lb_cookie.duration_seconds must be an integer "+awsDurationRange)
	}
	if v, ok := m["stickiness.app_cookie.duration_seconds"]; ok && !awsDurationOK(v) {
		f.invalid(aws011, p, clipValue(v), "stickiness.app_cookie.duration_seconds must be an integer "+awsDurationRange)
	}
	if m["stickiness.type"] == "app_cookie" {
		switch name := m["stickiness.app_cookie.cookie_name"]; {
		case name == "":
			f.required(aws007, p, "stickiness.type=app_cookie needs stickiness.app_cookie.cookie_name")
		case strings.HasPrefix(name, "AWSALB"):
			f.invalid(aws007, p, clipValue(name), "cookie names starting with AWSALB, AWSALBAPP or AWSALBTG are reserved")
		}
	}
	return m
}

func awsDurationOK(v string) bool {
	n, err := strconv.Atoi(v)
	return err == nil && n >= 1 && n <= awsMaxDuration
}

func awsKnownKey(k string, nlb bool) bool {
	switch k {
	case "stickiness.enabled", "stickiness.type":
		return true
	case "stickiness.lb_cookie.duration_seconds", "stickiness.app_cookie.cookie_name", "stickiness.app_cookie.duration_seconds":
		return !nlb
	}
	return false
}

// awsStickyLike reports whether a key's first segment is stickiness or looks
// like a misspelling of it (stickness, stinkyness, Stickiness, sticky...).
func awsStickyLike(k string) bool {
	seg, _, _ := strings.Cut(strings.ToLower(k), ".")
	return strings.Contains(seg, "stick") || (len(seg) <= 16 && awsEditDistance(seg, "stickiness") <= 3)
}

// awsEditDistance is the Levenshtein distance between two short strings.
func awsEditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
