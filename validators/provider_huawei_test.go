package validators

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"

	"github.com/stickyguard/stickyguard/internal/sticky"
	"github.com/stickyguard/stickyguard/policy"
)

// hwCtx returns a live context with the given controller, changed by mut.
func hwCtx(ctrl Controller, mut func(*Context)) *Context {
	c := ctxFor(ctrl)
	if mut != nil {
		mut(c)
	}
	return c
}

func hwTurbo(c *Context) { c.Policy.Cluster.CCE = policy.CCETurbo }

func huaweiServiceCases() []svcCase {
	mode, opt, flag := annPath(annCCEMode).String(), annPath(annCCEOption).String(), annPath(annCCEFlag).String()
	algo := annPath(annCCEAlgorithm).String()
	lb, np := svcType(corev1.ServiceTypeLoadBalancer), svcType(corev1.ServiceTypeNodePort)
	etp := "spec.externalTrafficPolicy"
	return []svcCase{
		{name: "no annotations", svc: mkSvc(lb)},
		{name: "SOURCE_IP on LB with string timeout", svc: mkSvc(lb, svcAnn(annCCEMode, "SOURCE_IP", annCCEOption, `{"persistence_timeout": "30"}`))},
		{name: "CCE-001 lowercase mode", svc: mkSvc(lb, svcAnn(annCCEMode, "source_ip")),
			wantDeny: []finding{deny("CCE-001", mode)}},
		{name: "CCE-002 cookie mode on L4 LB", svc: mkSvc(lb, svcAnn(annCCEMode, "HTTP_COOKIE")),
			wantDeny: []finding{deny("CCE-002", mode)}},
		{name: "CCE-002 exempt: HTTP listener declared", svc: mkSvc(lb, svcAnn(annCCEMode, "HTTP_COOKIE", annCCEProtocolPort, "http:80"))},
		{name: "CCE-002 exempt: NodePort behind ELB Ingress", svc: mkSvc(np, svcAnn(annCCEMode, "HTTP_COOKIE"))},
		{name: "CCE-002 exempt: LB backing a CCE Ingress", svc: mkSvc(lb, svcAnn(annCCEMode, "HTTP_COOKIE")),
			ctx: hwCtx(ControllerUnknown, func(c *Context) {
				c.Related.Ingresses = []RelatedIngress{{Ingress: mkIng(), Controller: ControllerCCE}}
			})},
		{name: "CCE-003 unknown algorithm", svc: mkSvc(lb, svcAnn(annCCEAlgorithm, "round_robin")),
			wantDeny: []finding{deny("CCE-003", algo)}},
		{name: "CCE-003 valid algorithm", svc: mkSvc(lb, svcAnn(annCCEAlgorithm, "LEAST_CONNECTIONS"))},
		{name: "CCE-004 sticky with SOURCE_IP algorithm", svc: mkSvc(lb, svcAnn(annCCEMode, "SOURCE_IP", annCCEAlgorithm, "SOURCE_IP")),
			wantDeny: []finding{deny("CCE-004", mode)}},
		{name: "CCE-005 option not JSON", svc: mkSvc(lb, svcAnn(annCCEMode, "SOURCE_IP", annCCEOption, `{persistence_timeout: 30`)),
			wantDeny: []finding{deny("CCE-005", opt)}},
		{name: "CCE-005 SOURCE_IP timeout above 60", svc: mkSvc(lb, svcAnn(annCCEMode, "SOURCE_IP", annCCEOption, `{"persistence_timeout":"61"}`)),
			wantDeny: []finding{deny("CCE-005", opt)}},
		{name: "CCE-005 non-integer timeout", svc: mkSvc(lb, svcAnn(annCCEMode, "SOURCE_IP", annCCEOption, `{"persistence_timeout":"30m"}`)),
			wantDeny: []finding{deny("CCE-005", opt)}},
		{name: "CCE-005 HTTP_COOKIE 1440 ok", svc: mkSvc(np, svcAnn(annCCEMode, "HTTP_COOKIE", annCCEOption, `{"persistence_timeout":"1440"}`))},
		{name: "CCE-005 numeric timeout warns (unverified)", svc: mkSvc(lb, svcAnn(annCCEMode, "SOURCE_IP", annCCEOption, `{"persistence_timeout":30}`)),
			wantWarn: []finding{warn("CCE-005", opt)}},
		{name: "CCE-005 numeric timeout out of range", svc: mkSvc(lb, svcAnn(annCCEMode, "SOURCE_IP", annCCEOption, `{"persistence_timeout":90}`)),
			wantDeny: []finding{deny("CCE-005", opt)}, wantWarn: []finding{warn("CCE-005", opt)}},
		{name: "CCE-006 APP_COOKIE without option", svc: mkSvc(np, svcAnn(annCCEMode, "APP_COOKIE")),
			wantDeny: []finding{deny("CCE-006", opt)}},
		{name: "CCE-006 APP_COOKIE with empty name", svc: mkSvc(np, svcAnn(annCCEMode, "APP_COOKIE", annCCEOption, `{"app_cookie_name":""}`)),
			wantDeny: []finding{deny("CCE-006", opt)}},
		{name: "CCE-006 APP_COOKIE with name", svc: mkSvc(np, svcAnn(annCCEMode, "APP_COOKIE", annCCEOption, `{"app_cookie_name":"JSESSIONID"}`))},
		{name: "CCE-007 APP_COOKIE on dedicated LB",
			svc:      mkSvc(np, svcAnn(annCCEMode, "APP_COOKIE", annCCEOption, `{"app_cookie_name":"sid"}`, annCCEClass, "performance")),
			wantDeny: []finding{deny("CCE-007", mode)}},
		{name: "CCE-007 HTTP_COOKIE on dedicated LB ok", svc: mkSvc(np, svcAnn(annCCEMode, "HTTP_COOKIE", annCCEClass, "performance"))},
		{name: "CCE-008 opted out of Local", svc: mkSvc(lb, svcAnn(annCCEMode, "SOURCE_IP", sticky.AnnKeepTrafficPolicy, "true")),
			wantWarn: []finding{warn("CCE-008", etp)}},
		{name: "CCE-008 policy does not set Local", svc: mkSvc(np, svcAnn(annCCEMode, "HTTP_COOKIE")),
			ctx: hwCtx(ControllerUnknown, func(c *Context) {
				off := false
				c.Policy.Service.SetExternalTrafficPolicyLocal = &off
			}),
			wantWarn: []finding{warn("CCE-008", etp)}},
		{name: "CCE-008 explicit Cluster offline is kept", svc: mkSvc(lb, svcETP(corev1.ServiceExternalTrafficPolicyCluster),
			svcAnn(annCCEMode, "SOURCE_IP")), ctx: offlineCtx(), wantWarn: []finding{warn("CCE-008", etp)}},
		{name: "CCE-008 disabled by policy", svc: mkSvc(lb, svcAnn(annCCEMode, "SOURCE_IP")),
			ctx:      hwCtx(ControllerUnknown, func(c *Context) { c.Policy.Rules["CCE-008"] = policy.OverrideDisabled }),
			wantWarn: []finding{warn("CCE-008", etp)}},
		{name: "CCE-008 Local will be set: nothing to warn", svc: mkSvc(lb, svcAnn(annCCEMode, "SOURCE_IP"))},
		{name: "CCE-008 explicit Local with opt-out", svc: mkSvc(lb, svcETP(corev1.ServiceExternalTrafficPolicyLocal),
			svcAnn(annCCEMode, "SOURCE_IP", sticky.AnnKeepTrafficPolicy, "true"))},
		{name: "CCE-008 not in Turbo", svc: mkSvc(lb, svcAnn(annCCEMode, "SOURCE_IP", sticky.AnnKeepTrafficPolicy, "true")),
			ctx: hwCtx(ControllerUnknown, hwTurbo)},
		{name: "CCE-009 shared LB in Turbo", svc: mkSvc(np, svcAnn(annCCEMode, "HTTP_COOKIE", annCCEClass, "union")),
			ctx: hwCtx(ControllerUnknown, hwTurbo), wantWarn: []finding{warn("CCE-009", mode)}},
		{name: "CCE-009 dedicated LB in Turbo ok", svc: mkSvc(np, svcAnn(annCCEMode, "HTTP_COOKIE", annCCEClass, "performance")),
			ctx: hwCtx(ControllerUnknown, hwTurbo)},
		{name: "CCE-009 shared LB in standard ok", svc: mkSvc(np, svcAnn(annCCEMode, "HTTP_COOKIE", annCCEClass, "union"))},
		{name: "CCE-010 option without mode", svc: mkSvc(lb, svcAnn(annCCEOption, `{"persistence_timeout":"30"}`)),
			wantWarn: []finding{warn("CCE-010", opt)}},
		{name: "CCE-011 flag not on/off", svc: mkSvc(lb, svcAnn(annCCEFlag, "true")),
			wantDeny: []finding{deny("CCE-011", flag)}},
		{name: "CCE-011 string timeout in CCM dialect",
			svc:      mkSvc(lb, svcAnn(annCCEFlag, "on", annCCEOption, `{"type":"SOURCE_IP","persistence_timeout":"15"}`)),
			wantDeny: []finding{deny("CCE-011", opt)}},
		{name: "CCE-011 option without type", svc: mkSvc(lb, svcAnn(annCCEFlag, "on", annCCEOption, `{"persistence_timeout":15}`)),
			wantDeny: []finding{deny("CCE-011", opt)}},
		{name: "CCE-011 timeout out of range", svc: mkSvc(lb, svcAnn(annCCEFlag, "on", annCCEOption, `{"type":"SOURCE_IP","persistence_timeout":90}`)),
			wantDeny: []finding{deny("CCE-011", opt)}},
		{name: "CCE-011 APP_COOKIE without cookie_name", svc: mkSvc(lb, svcAnn(annCCEFlag, "on", annCCEOption, `{"type":"APP_COOKIE"}`)),
			wantDeny: []finding{deny("CCE-011", opt)}},
		{name: "CCE-011 valid CCM option", svc: mkSvc(lb, svcAnn(annCCEFlag, "on", annCCEOption, `{"type":"SOURCE_IP","persistence_timeout":15}`))},
		{name: "CCE-011 flag off ignores option", svc: mkSvc(lb, svcAnn(annCCEFlag, "off", annCCEOption, `not json`))},
		{name: "all findings collected",
			svc:      mkSvc(lb, svcAnn(annCCEMode, "APP_COOKIE", annCCEAlgorithm, "SOURCE_IP", annCCEClass, "performance", sticky.AnnKeepTrafficPolicy, "true")),
			wantDeny: []finding{deny("CCE-002", mode), deny("CCE-004", mode), deny("CCE-006", opt), deny("CCE-007", mode)},
			wantWarn: []finding{warn("CCE-008", etp)}},
	}
}

func TestProviderHuaweiService(t *testing.T) {
	runSvcCases(t, validateServiceCCE, huaweiServiceCases())
}

func huaweiIngressCases() []ingCase {
	mode, opt, algo := annPath(annCCEMode).String(), annPath(annCCEOption).String(), annPath(annCCEAlgorithm).String()
	cce := ctxFor(ControllerCCE)
	return []ingCase{
		{name: "valid HTTP_COOKIE", ing: mkIng(ingAnn(annCCEMode, "HTTP_COOKIE", annCCEOption, `{"persistence_timeout":"60"}`))},
		{name: "CCE-001 on Ingress", ing: mkIng(ingAnn(annCCEMode, "COOKIE")),
			wantDeny: []finding{deny("CCE-001", mode)}},
		{name: "CCE-001 with unknown controller", ing: mkIng(ingAnn(annCCEMode, "COOKIE")), ctx: ctxFor(ControllerUnknown),
			wantDeny: []finding{deny("CCE-001", mode)}},
		{name: "other controller skipped", ing: mkIng(ingAnn(annCCEMode, "COOKIE")), ctx: ctxFor(ControllerNginx)},
		{name: "CCE-003 on Ingress", ing: mkIng(ingAnn(annCCEAlgorithm, "WRR")), ctx: cce,
			wantDeny: []finding{deny("CCE-003", algo)}},
		{name: "CCE-004 on Ingress", ing: mkIng(ingAnn(annCCEMode, "HTTP_COOKIE", annCCEAlgorithm, "SOURCE_IP")),
			wantDeny: []finding{deny("CCE-004", mode)}},
		{name: "CCE-005 on Ingress", ing: mkIng(ingAnn(annCCEMode, "HTTP_COOKIE", annCCEOption, `{"persistence_timeout":"2000"}`)),
			wantDeny: []finding{deny("CCE-005", opt)}},
		{name: "CCE-006 and CCE-007 on Ingress", ing: mkIng(ingAnn(annCCEMode, "APP_COOKIE", annCCEClass, "performance")),
			wantDeny: []finding{deny("CCE-006", opt), deny("CCE-007", mode)}},
		{name: "CCE-010 on Ingress", ing: mkIng(ingAnn(annCCEOption, `{}`)),
			wantWarn: []finding{warn("CCE-010", opt)}},
	}
}

func TestProviderHuaweiIngress(t *testing.T) {
	runIngCases(t, validateIngressCCE, func() *Context { return ctxFor(ControllerCCE) }, huaweiIngressCases())
}

func TestProviderHuaweiCatalog(t *testing.T) {
	for _, r := range cceRules {
		assert.Equal(t, cceFamily, r.Family, r.ID)
		assert.NotEmpty(t, r.Title, r.ID)
		assert.NotEmpty(t, r.Fix, r.ID)
		assert.NotEmpty(t, r.Source, r.ID)
	}
}

func TestProviderCloudShort(t *testing.T) {
	assert.Equal(t, "abc", clipValue("abc"))
	long := clipValue(string(make([]byte, 200)))
	assert.Len(t, long, 64+len("..."))
	s := clipValue("ä" + string(make([]byte, 62)) + "éé")
	assert.True(t, len(s) <= 64+len("..."))
}

func FuzzProviderHuawei(f *testing.F) {
	f.Add("SOURCE_IP", `{"persistence_timeout":"30"}`, "on", "SOURCE_IP", "union", true)
	f.Add("APP_COOKIE", `{"type":"APP_COOKIE","persistence_timeout":1e99}`, "", "", "performance", false)
	f.Add("HTTP_COOKIE", `{"persistence_timeout":null,"app_cookie_name":7}`, "off", "ROUND_ROBIN", "", true)
	f.Fuzz(func(t *testing.T, mode, option, flag, algo, class string, lb bool) {
		typ := corev1.ServiceTypeNodePort
		if lb {
			typ = corev1.ServiceTypeLoadBalancer
		}
		kv := []string{annCCEMode, mode, annCCEOption, option, annCCEAlgorithm, algo, annCCEClass, class, annCCEProtocolPort, option}
		svc := mkSvc(svcType(typ), svcAnn(kv...))
		svcFlag := mkSvc(svcType(typ), svcAnn(append(kv, annCCEFlag, flag)...))
		ing := mkIng(ingAnn(kv...))
		for _, ctx := range []*Context{ctxFor(ControllerUnknown), offlineCtx(), hwCtx(ControllerCCE, hwTurbo)} {
			validateServiceCCE(svc, nil, ctx)
			validateServiceCCE(svcFlag, nil, ctx)
			validateIngressCCE(ing, nil, ctx)
		}
	})
}
