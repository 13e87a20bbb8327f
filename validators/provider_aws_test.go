package validators

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/stickyguard/stickyguard/internal/sticky"
	"github.com/stickyguard/stickyguard/policy"
)

// awsCtx returns a live ALB context with the given backend Services.
func awsCtx(ctrl Controller, backends ...*corev1.Service) *Context {
	c := ctxFor(ctrl)
	c.Related.BackendServices = backends
	return c
}

// awsNamed renames a Service built by mkSvc.
func awsNamed(name string) svcOpt { return func(s *corev1.Service) { s.Name = name } }

func awsServiceCases() []svcCase {
	nlb, alb := annPath(annAWSNLBAttrs).String(), annPath(annAWSALBAttrs).String()
	lb := svcType(corev1.ServiceTypeLoadBalancer)
	np := svcType(corev1.ServiceTypeNodePort)
	ipALB := svcAnn(annAWSALBTargetType, "ip")
	disabled := func(id string) *Context {
		c := ctxFor(ControllerUnknown)
		c.Policy.Rules[id] = policy.OverrideDisabled
		return c
	}
	return []svcCase{
		{name: "no annotations", svc: mkSvc(lb)},
		{name: "NLB attributes on a NodePort: no NLB reads them, SVC-014 warns instead",
			svc: mkSvc(np, svcAnn(annAWSNLBAttrs, "stickness.enabled=yes,stickiness.type=lb_cookie"))},
		{name: "NLB source_ip, Local predicted", svc: mkSvc(lb, svcAnn(annAWSNLBAttrs, "stickiness.enabled=true,stickiness.type=source_ip"))},
		{name: "AWS-001 pair without =", svc: mkSvc(lb, svcAnn(annAWSNLBAttrs, "stickiness.enabled")),
			wantDeny: []finding{deny("AWS-001", nlb)}},
		{name: "AWS-002 misspelled key", svc: mkSvc(lb, svcAnn(annAWSNLBAttrs, "stickness.enabled=true")),
			wantDeny: []finding{deny("AWS-002", nlb)}},
		{name: "AWS-002 ALB-only key on NLB", svc: mkSvc(lb, svcAnn(annAWSNLBAttrs, "stickiness.lb_cookie.duration_seconds=60")),
			wantDeny: []finding{deny("AWS-002", nlb)}},
		{name: "AWS-002 capitalised key on ALB", svc: mkSvc(np, ipALB, svcAnn(annAWSALBAttrs, "Stickiness.enabled=true")),
			wantDeny: []finding{deny("AWS-002", alb)}},
		{name: "AWS-002 other attributes ok", svc: mkSvc(lb, svcAnn(annAWSNLBAttrs, "deregistration_delay.timeout_seconds=30,preserve_client_ip.enabled=true"))},
		{name: "AWS-003 yes", svc: mkSvc(lb, svcAnn(annAWSNLBAttrs, "stickiness.enabled=yes")),
			wantDeny: []finding{deny("AWS-003", nlb)}},
		{name: "AWS-004 source_ip on ALB", svc: mkSvc(np, ipALB, svcAnn(annAWSALBAttrs, "stickiness.type=source_ip")),
			wantDeny: []finding{deny("AWS-004", alb)}},
		{name: "AWS-005 lb_cookie on NLB", svc: mkSvc(lb, svcAnn(annAWSNLBAttrs, "stickiness.type=lb_cookie")),
			wantDeny: []finding{deny("AWS-005", nlb)}},
		{name: "AWS-005 per-port NLB attributes", svc: mkSvc(lb, svcAnn(annAWSNLBAttrs+".80", "stickiness.type=app_cookie")),
			wantDeny: []finding{deny("AWS-005", annPath(annAWSNLBAttrs+".80").String())}},
		{name: "AWS-006 lb_cookie duration 0", svc: mkSvc(np, ipALB, svcAnn(annAWSALBAttrs, "stickiness.lb_cookie.duration_seconds=0")),
			wantDeny: []finding{deny("AWS-006", alb)}},
		{name: "AWS-006 lb_cookie duration above a week", svc: mkSvc(np, ipALB, svcAnn(annAWSALBAttrs, "stickiness.lb_cookie.duration_seconds=604801")),
			wantDeny: []finding{deny("AWS-006", alb)}},
		{name: "AWS-006 lb_cookie duration with unit", svc: mkSvc(np, ipALB, svcAnn(annAWSALBAttrs, "stickiness.lb_cookie.duration_seconds=1d")),
			wantDeny: []finding{deny("AWS-006", alb)}},
		{name: "AWS-006 lb_cookie duration ok", svc: mkSvc(np, ipALB, svcAnn(annAWSALBAttrs, "stickiness.lb_cookie.duration_seconds=86400"))},
		{name: "AWS-011 app_cookie duration 0", svc: mkSvc(np, ipALB, svcAnn(annAWSALBAttrs, "stickiness.app_cookie.duration_seconds=0")),
			wantDeny: []finding{deny("AWS-011", alb)}},
		{name: "AWS-011 app_cookie duration a week ok", svc: mkSvc(np, ipALB, svcAnn(annAWSALBAttrs, "stickiness.app_cookie.duration_seconds=604800"))},
		{name: "AWS-007 app_cookie without name", svc: mkSvc(np, ipALB, svcAnn(annAWSALBAttrs, "stickiness.type=app_cookie")),
			wantDeny: []finding{deny("AWS-007", alb)}},
		{name: "AWS-007 reserved name", svc: mkSvc(np, ipALB, svcAnn(annAWSALBAttrs, "stickiness.type=app_cookie,stickiness.app_cookie.cookie_name=AWSALBAPP-1")),
			wantDeny: []finding{deny("AWS-007", alb)}},
		{name: "AWS-007 app cookie name ok", svc: mkSvc(np, ipALB, svcAnn(annAWSALBAttrs, "stickiness.type=app_cookie,stickiness.app_cookie.cookie_name=sid"))},
		{name: "AWS-008 NLB instance targets kept Cluster", svc: mkSvc(lb, svcAnn(annAWSNLBAttrs, "stickiness.enabled=true,stickiness.type=source_ip",
			sticky.AnnKeepTrafficPolicy, "true")),
			wantWarn: []finding{warn("AWS-008", nlb)}},
		{name: "AWS-008 NLB ip targets", svc: mkSvc(lb, svcAnn(annAWSNLBAttrs, "stickiness.enabled=true,stickiness.type=source_ip",
			sticky.AnnKeepTrafficPolicy, "true", annAWSNLBTargetType, "ip"))},
		{name: "AWS-008 legacy nlb-ip is pod-direct", svc: mkSvc(lb, svcAnn(annAWSNLBAttrs, nlbSourceIP, sticky.AnnKeepTrafficPolicy, "true",
			annAWSLBType, "nlb-ip"))},
		{name: "AWS-008 with SVC-005 disabled the Service stays Cluster", svc: mkSvc(lb, svcAnn(annAWSNLBAttrs, nlbSourceIP)),
			ctx: disabled("SVC-005"), wantWarn: []finding{warn("AWS-008", nlb)}},
		{name: "AWS-008 explicit Cluster offline is kept", svc: mkSvc(lb, svcETP(corev1.ServiceExternalTrafficPolicyCluster),
			svcAnn(annAWSNLBAttrs, nlbSourceIP)), ctx: offlineCtx(), wantWarn: []finding{warn("AWS-008", nlb)}},
		{name: "AWS-001 long pair clipped", svc: mkSvc(lb, svcAnn(annAWSNLBAttrs+".65535", strings.Repeat("stickiness", 20))),
			wantDeny: []finding{deny("AWS-001", annPath(annAWSNLBAttrs+".65535").String())}},
		{name: "AWS-008 ALB sticky Service with default target type", svc: mkSvc(np, svcAnn(annAWSALBAttrs, "stickiness.enabled=true")),
			wantWarn: []finding{warn("AWS-008", alb)}},
		{name: "AWS-008 ALB sticky Service with ip target", svc: mkSvc(np, ipALB, svcAnn(annAWSALBAttrs, "stickiness.enabled=true"))},
		{name: "AWS-008 ALB sticky Service with Local", svc: mkSvc(np, svcETP(corev1.ServiceExternalTrafficPolicyLocal),
			svcAnn(annAWSALBAttrs, "stickiness.enabled=true"))},
		{name: "AWS-008 ALB target type from the Ingress", svc: mkSvc(np, svcAnn(annAWSALBAttrs, "stickiness.enabled=true")),
			ctx: func() *Context {
				c := ctxFor(ControllerUnknown)
				c.Related.Ingresses = []RelatedIngress{{Ingress: mkIng(ingAnn(annAWSALBTargetType, "ip")), Controller: ControllerAWS}}
				return c
			}()},
	}
}

func TestProviderAWSService(t *testing.T) {
	runSvcCases(t, validateServiceAWS, awsServiceCases())
}

// ingCase is one row of an Ingress rule family's table test.
type ingCase struct {
	name     string
	ing      *networkingv1.Ingress
	ctx      *Context // nil: the family's default context
	wantDeny []finding
	wantWarn []finding
}

// runIngCases runs an Ingress family over its table, comparing findings and
// checking the input is not modified.
func runIngCases(t *testing.T, fn IngressRuleFunc, def func() *Context, cases []ingCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			if ctx == nil {
				ctx = def()
			}
			before := tt.ing.DeepCopy()
			errs, warns := fn(tt.ing, nil, ctx)
			assertFindings(t, errs, warns, tt.wantDeny, tt.wantWarn)
			assert.Equal(t, before, tt.ing, "input modified")
		})
	}
}

func awsIngressCases() []ingCase {
	attrs := annPath(annAWSALBAttrs).String()
	action := annAWSActionPrefix + "blue-green"
	actP := annPath(action).String()
	longAction := annAWSActionPrefix + strings.Repeat("x", 48)
	ip := ingAnn(annAWSALBTargetType, "ip")
	sticky := ingAnn(annAWSALBAttrs, "stickiness.enabled=true,stickiness.type=lb_cookie")
	weightedAt := func(key, extra string) ingOpt {
		return ingAnn(key, `{"type":"forward","forwardConfig":{"targetGroups":[`+
			`{"serviceName":"blue","servicePort":"80","weight":50},{"serviceName":"green","servicePort":80,"weight":50}]`+extra+`}}`)
	}
	weighted := func(extra string) ingOpt { return weightedAt(action, extra) }
	single := ingAnn(action, `{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"blue","servicePort":80}],`+
		`"targetGroupStickinessConfig":{"enabled":true}}}`)
	np := svcType(corev1.ServiceTypeNodePort)
	return []ingCase{
		{name: "sticky ALB with ip targets", ing: mkIng(ip, sticky)},
		{name: "other controller skipped", ing: mkIng(ingAnn(annAWSALBAttrs, "garbage")), ctx: ctxFor(ControllerNginx)},
		{name: "AWS-001 on Ingress", ing: mkIng(ingAnn(annAWSALBAttrs, "stickiness.enabled=true,lb_cookie")),
			wantDeny: []finding{deny("AWS-001", attrs)}},
		{name: "AWS-004 on Ingress", ing: mkIng(ip, ingAnn(annAWSALBAttrs, "stickiness.type=cookie")),
			wantDeny: []finding{deny("AWS-004", attrs)}},
		{name: "AWS-007 on Ingress", ing: mkIng(ip, ingAnn(annAWSALBAttrs, "stickiness.enabled=true,stickiness.type=app_cookie")),
			wantDeny: []finding{deny("AWS-007", attrs)}},
		{name: "AWS-008 default instance targets", ing: mkIng(sticky),
			wantWarn: []finding{warn("AWS-008", attrs)}},
		{name: "AWS-008 backend Service instance targets", ing: mkIng(sticky),
			ctx:      awsCtx(ControllerAWS, mkSvc(np)),
			wantWarn: []finding{warn("AWS-008", attrs)}},
		{name: "AWS-008 backend Service ip targets", ing: mkIng(sticky),
			ctx: awsCtx(ControllerAWS, mkSvc(np, svcAnn(annAWSALBTargetType, "ip")))},
		{name: "AWS-008 backend Service Local", ing: mkIng(sticky),
			ctx: awsCtx(ControllerAWS, mkSvc(np, svcETP(corev1.ServiceExternalTrafficPolicyLocal)))},
		{name: "AWS-008 Service overrides ip on Ingress", ing: mkIng(ip, sticky),
			ctx:      awsCtx(ControllerAWS, mkSvc(np, svcAnn(annAWSALBTargetType, "instance"))),
			wantWarn: []finding{warn("AWS-008", attrs)}},
		{name: "AWS-009 weighted forward without group stickiness", ing: mkIng(ip, sticky, weighted("")),
			wantWarn: []finding{warn("AWS-009", actP)}},
		{name: "AWS-009 weighted forward with group stickiness", ing: mkIng(ip, sticky,
			weighted(`,"targetGroupStickinessConfig":{"enabled":true,"durationSeconds":3600}`))},
		{name: "AWS-009 target groups not sticky", ing: mkIng(ip, weighted(""))},
		{name: "AWS-009 stickiness from a backend Service", ing: mkIng(ip, weighted("")),
			ctx:      awsCtx(ControllerAWS, mkSvc(np, awsNamed("green"), svcAnn(annAWSALBTargetType, "ip", annAWSALBAttrs, "stickiness.enabled=true"))),
			wantWarn: []finding{warn("AWS-009", actP)}},
		{name: "AWS-006 group stickiness duration 0", ing: mkIng(ip, sticky,
			weighted(`,"targetGroupStickinessConfig":{"enabled":true,"durationSeconds":0}`)),
			wantDeny: []finding{deny("AWS-006", actP)}},
		{name: "AWS-006 group stickiness enabled without durationSeconds", ing: mkIng(ip, sticky,
			weighted(`,"targetGroupStickinessConfig":{"enabled":true}`)),
			wantDeny: []finding{deny("AWS-006", actP)}},
		{name: "AWS-006 single target group enabled without durationSeconds", ing: mkIng(ip, single),
			wantDeny: []finding{deny("AWS-006", actP)}},
		{name: "AWS-006 long action name, duration null", ing: mkIng(ip, sticky,
			weightedAt(longAction, `,"targetGroupStickinessConfig":{"enabled":true,"durationSeconds":null}`)),
			wantDeny: []finding{deny("AWS-006", annPath(longAction).String())}},
		{name: "AWS-009 long action name", ing: mkIng(ip, sticky, weightedAt(longAction, "")),
			wantWarn: []finding{warn("AWS-009", annPath(longAction).String())}},
		{name: "group stickiness disabled needs no duration", ing: mkIng(ip,
			weighted(`,"targetGroupStickinessConfig":{"enabled":false}`))},
		{name: "AWS-010 Service overrides Ingress attributes", ing: mkIng(ip, sticky),
			ctx: awsCtx(ControllerAWS, mkSvc(np, svcAnn(annAWSALBAttrs,
				"stickiness.enabled=true,stickiness.type=app_cookie,stickiness.app_cookie.cookie_name=sid"))),
			wantWarn: []finding{warn("AWS-010", attrs)}},
		{name: "AWS-010 same values", ing: mkIng(ip, sticky),
			ctx: awsCtx(ControllerAWS, mkSvc(np, svcAnn(annAWSALBAttrs, "stickiness.type=lb_cookie, stickiness.enabled=true")))},
		{name: "AWS-008 backend kept Cluster because SVC-005 is disabled", ing: mkIng(sticky),
			ctx: func() *Context {
				c := awsCtx(ControllerAWS, mkSvc(svcType(corev1.ServiceTypeLoadBalancer), svcAnn(annAWSNLBAttrs, nlbSourceIP)))
				c.Policy.Rules["SVC-005"] = policy.OverrideDisabled
				return c
			}(),
			wantWarn: []finding{warn("AWS-008", attrs)}},
		{name: "AWS-008 backend set Local by SVC-005", ing: mkIng(sticky),
			ctx: awsCtx(ControllerAWS, mkSvc(svcType(corev1.ServiceTypeLoadBalancer), svcAnn(annAWSNLBAttrs, nlbSourceIP)))},
	}
}

func TestProviderAWSIngress(t *testing.T) {
	runIngCases(t, validateIngressAWS, func() *Context { return ctxFor(ControllerAWS) }, awsIngressCases())
}

func TestProviderAWSStickyLike(t *testing.T) {
	for _, k := range []string{"stickiness.enabled", "stickness.enabled", "stinkyness.type", "Stickiness.enabled", "sticky.enabled", "stickyness.type"} {
		assert.True(t, awsStickyLike(k), k)
	}
	for _, k := range []string{"deregistration_delay.timeout_seconds", "slow_start.duration_seconds", "load_balancing.algorithm.type", "lambda.multi_value_headers.enabled"} {
		assert.False(t, awsStickyLike(k), k)
	}
}

func FuzzProviderAWS(f *testing.F) {
	f.Add("stickiness.enabled=true,stickiness.type=app_cookie", "instance", `{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"web"},{"serviceName":"x"}]}}`)
	f.Add(`a\,b=c,,=,stickiness.lb_cookie.duration_seconds=-1`, "ip", `{"type":"forward","forwardConfig":{"targetGroupStickinessConfig":{"durationSeconds":-9}}}`)
	f.Fuzz(func(t *testing.T, attrs, targetType, action string) {
		svc := mkSvc(svcType(corev1.ServiceTypeLoadBalancer), svcAnn(annAWSNLBAttrs, attrs, annAWSNLBAttrs+".80", attrs,
			annAWSALBAttrs, attrs, annAWSNLBTargetType, targetType, annAWSALBTargetType, targetType))
		ing := mkIng(ingAnn(annAWSALBAttrs, attrs, annAWSALBTargetType, targetType, annAWSActionPrefix+"x", action))
		related := ctxFor(ControllerAWS)
		related.Related.BackendServices = []*corev1.Service{svc, nil}
		related.Related.Ingresses = []RelatedIngress{{Ingress: ing, Controller: ControllerAWS}, {}}
		for _, ctx := range []*Context{ctxFor(ControllerUnknown), offlineCtx(), related} {
			validateServiceAWS(svc, nil, ctx)
			validateIngressAWS(ing, nil, ctx)
		}
	})
}
