package validators

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stickyguard/stickyguard/internal/sticky"
	"github.com/stickyguard/stickyguard/policy"
)

// coreCase is one row of the core Service rules' table.
type coreCase struct {
	name     string
	svc      *corev1.Service
	old      *corev1.Service
	rel      Related
	offline  bool
	pol      func(*policy.Policy)
	wantDeny []finding
	wantWarn []finding
}

func (c coreCase) ctx() *Context {
	return &Context{Policy: polWith(c.pol), Offline: c.offline, Related: c.rel}
}

// serviceLocalDefaultCases are the rows about the externalTrafficPolicy
// Local default and provider stickiness (SVC-004, SVC-005, SVC-014).
func serviceLocalDefaultCases() []coreCase {
	lb, np := svcType(corev1.ServiceTypeLoadBalancer), svcType(corev1.ServiceTypeNodePort)
	local, cluster := svcETP(corev1.ServiceExternalTrafficPolicyLocal), svcETP(corev1.ServiceExternalTrafficPolicyCluster)
	etp := "spec.externalTrafficPolicy"
	return []coreCase{
		{name: "SVC-004 NodePort ClientIP Cluster",
			svc:      mkSvc(clientIP(10800), np, cluster),
			wantWarn: []finding{warn("SVC-004", etp)}},
		{name: "NodePort ClientIP Local is fine", svc: mkSvc(clientIP(10800), np, local)},
		{name: "SVC-004 plain ClientIP on a LoadBalancer: a warning, never Local",
			svc:      mkSvc(clientIP(10800), lb),
			wantWarn: []finding{warn("SVC-004", etp)}},
		{name: "SVC-004 plain ClientIP with the opt-out is still SVC-004",
			svc:      mkSvc(clientIP(10800), lb, cluster, svcAnn(sticky.AnnKeepTrafficPolicy, "true")),
			wantWarn: []finding{warn("SVC-004", etp)}},
		{name: "ACK persistence: stickyguard sets Local, nothing to warn",
			svc: mkSvc(lb, svcAnn(annACKPersist, "1800"))},
		{name: "SVC-005 ACK persistence opted out of Local",
			svc:      mkSvc(lb, svcAnn(annACKPersist, "1800", sticky.AnnKeepTrafficPolicy, "true")),
			wantWarn: []finding{warn("SVC-005", etp)}},
		{name: "SVC-005 explicit Cluster offline is kept and warned",
			svc: mkSvc(lb, cluster, clientIP(600), svcAnn(annAWSNLBAttrs, nlbSourceIP)), offline: true,
			wantWarn: []finding{warn("SVC-005", etp)}},
		{name: "SVC-005 Cluster live is the API default: Local is set",
			svc: mkSvc(lb, cluster, svcAnn(annAWSNLBAttrs, nlbSourceIP))},
		{name: "SVC-005 default disabled by policy",
			svc: mkSvc(lb, svcAnn(annAWSNLBAttrs, nlbSourceIP)), pol: func(p *policy.Policy) { p.Rules["SVC-005"] = policy.OverrideDisabled },
			wantWarn: []finding{warn("SVC-005", etp)}},
		{name: "ACK persistence pod-direct (eni) needs nothing",
			svc: mkSvc(lb, svcAnn(annACKPersist, "1800", annACKBackend, "eni"))},
		{name: "SVC-014 ACK persistence on a NodePort",
			svc:      mkSvc(np, svcAnn(annACKPersist, "1800")),
			wantWarn: []finding{warn("SVC-014", annPath(annACKPersist).String())}},
		{name: "SVC-014 ACK sticky-session and NLB attributes on a ClusterIP",
			svc: mkSvc(svcAnn(ackLegacyPrefix+"sticky-session", "on", annAWSNLBAttrs, nlbSourceIP)),
			wantWarn: []finding{warn("SVC-014", annPath(ackLegacyPrefix+"sticky-session").String()),
				warn("SVC-014", annPath(annAWSNLBAttrs).String())}},
		{name: "SVC-014 CCE SOURCE_IP on a NodePort",
			svc:      mkSvc(np, svcAnn(annCCEMode, "SOURCE_IP")),
			wantWarn: []finding{warn("SVC-014", annPath(annCCEMode).String())}},
		{name: "CCE SOURCE_IP on a NodePort behind an ELB Ingress",
			svc: mkSvc(np, svcAnn(annCCEMode, "SOURCE_IP")),
			rel: Related{Ingresses: []RelatedIngress{{Ingress: mkIng(), Controller: ControllerCCE}}}},
		{name: "ACK persistence 0 on a NodePort is nothing", svc: mkSvc(np, svcAnn(annACKPersist, "0", annACKSticky, "off"))},
		{name: "SVC-014 malformed values on a NodePort still warn (the value rules do not run there)",
			svc:      mkSvc(np, svcAnn(annACKPersist, "30m", annAWSNLBAttrs, "stickiness.enabled")),
			wantWarn: []finding{warn("SVC-014", annPath(annACKPersist).String()), warn("SVC-014", annPath(annAWSNLBAttrs).String())}},
		{name: "NLB attributes without stickiness on a NodePort are not SVC-014",
			svc: mkSvc(np, svcAnn(annAWSNLBAttrs, "deregistration_delay.timeout_seconds=30,stickiness.enabled=false"))},
		{name: "provider stickiness on a LoadBalancer is not SVC-014", svc: mkSvc(lb, svcAnn(annACKSticky, "on"))},
	}
}

func serviceCoreCases() []coreCase {
	lb := svcType(corev1.ServiceTypeLoadBalancer)
	local, cluster := svcETP(corev1.ServiceExternalTrafficPolicyLocal), svcETP(corev1.ServiceExternalTrafficPolicyCluster)
	twoPorts := func(s *corev1.Service) {
		s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "https", Port: 443})
	}
	unspread := func(n int32) *appsv1.Deployment { return mkDep(func(d *appsv1.Deployment) { d.Spec.Replicas = &n }) }
	return append(serviceLocalDefaultCases(), []coreCase{
		{name: "plain ClusterIP Service", svc: mkSvc()},
		{name: "ClientIP ClusterIP Service with default timeout", svc: mkSvc(clientIP(10800))},
		{name: "SVC-001 sessionAffinity under selector",
			svc:      mkSvc(func(s *corev1.Service) { s.Spec.Selector["sessionAffinity"] = "ClientIP" }),
			wantDeny: []finding{deny("SVC-001", "spec.selector[sessionAffinity]")}},
		{name: "SVC-001 every misplaced key reported",
			svc: mkSvc(func(s *corev1.Service) {
				s.Spec.Selector["externalTrafficPolicy"] = "Local"
				s.Spec.Selector["timeoutSeconds"] = "600"
			}),
			wantDeny: []finding{deny("SVC-001", "spec.selector[externalTrafficPolicy]"), deny("SVC-001", "spec.selector[timeoutSeconds]")}},
		{name: "SVC-002 spec field as annotation and label",
			svc: mkSvc(svcAnn("sessionAffinity", "ClientIP"), func(s *corev1.Service) {
				s.Labels = map[string]string{"example.com/externalTrafficPolicy": "Local"}
			}),
			wantWarn: []finding{warn("SVC-002", "metadata.annotations[sessionAffinity]"), warn("SVC-002", "metadata.labels[example.com/externalTrafficPolicy]")}},
		{name: "SVC-003 headless ClientIP",
			svc:      mkSvc(clientIP(10800), func(s *corev1.Service) { s.Spec.ClusterIP = corev1.ClusterIPNone }),
			wantWarn: []finding{warn("SVC-003", "spec.sessionAffinity")}},
		{name: "SVC-003 ExternalName ClientIP",
			svc:      mkSvc(clientIP(10800), svcType(corev1.ServiceTypeExternalName)),
			wantWarn: []finding{warn("SVC-003", "spec.sessionAffinity")}},
		{name: "SVC-006 Cluster to Local on an LB",
			svc: mkSvc(lb, local), old: mkSvc(lb, cluster),
			wantWarn: []finding{warn("SVC-006", "spec.externalTrafficPolicy")}},
		{name: "Local to Local is no change", svc: mkSvc(lb, local), old: mkSvc(lb, local)},
		{name: "SVC-007 tiny timeout",
			svc:      mkSvc(clientIP(5)),
			wantWarn: []finding{warn("SVC-007", "spec.sessionAffinityConfig.clientIP.timeoutSeconds")}},
		{name: "SVC-009 multi-port ClientIP",
			svc:      mkSvc(clientIP(600), twoPorts),
			wantWarn: []finding{warn("SVC-009", "spec.sessionAffinity")}},
		{name: "multi-port without affinity is fine", svc: mkSvc(twoPorts)},
		{name: "SVC-010 behind ingress-nginx",
			svc:      mkSvc(clientIP(600)),
			rel:      Related{Ingresses: []RelatedIngress{{Ingress: mkIng(), Controller: ControllerNginx}}},
			wantWarn: []finding{warn("SVC-010", "spec.sessionAffinity")}},
		{name: "SVC-011 behind ingress-nginx service-upstream",
			svc:      mkSvc(clientIP(600)),
			rel:      Related{Ingresses: []RelatedIngress{{Ingress: mkIng(ingAnn("nginx.ingress.kubernetes.io/service-upstream", "true")), Controller: ControllerNginx}}},
			wantWarn: []finding{warn("SVC-011", "spec.sessionAffinity")}},
		{name: "ALB instance mode goes through kube-proxy",
			svc: mkSvc(clientIP(600)),
			rel: Related{Ingresses: []RelatedIngress{{Ingress: mkIng(), Controller: ControllerAWS}}}},
		{name: "SVC-012 ClientIP Local Service over an unspread Deployment",
			svc:      mkSvc(lb, local, clientIP(600)),
			rel:      Related{Deployments: []*appsv1.Deployment{unspread(3)}},
			wantWarn: []finding{warn("SVC-012", "spec.selector")}},
		{name: "SVC-012 node-level sticky Service over an unspread Deployment",
			svc:      mkSvc(lb, svcAnn(annACKPersist, "1800")),
			rel:      Related{Deployments: []*appsv1.Deployment{unspread(3)}},
			wantWarn: []finding{warn("SVC-012", "spec.selector")}},
		{name: "SVC-012 clips a long list of workloads",
			svc: mkSvc(lb, local, clientIP(600)),
			rel: Related{Deployments: []*appsv1.Deployment{
				mkDep(func(d *appsv1.Deployment) { d.Name = strings.Repeat("a", 63) }),
				mkDep(func(d *appsv1.Deployment) { d.Name = strings.Repeat("b", 63) }),
				mkDep(func(d *appsv1.Deployment) { d.Name = strings.Repeat("c", 63) }),
			}},
			wantWarn: []finding{warn("SVC-012", "spec.selector")}},
		{name: "an ingress controller's own Local Service is not sticky",
			svc: mkSvc(lb, local), rel: Related{Deployments: []*appsv1.Deployment{unspread(3)}}},
		{name: "single replica needs no spread", svc: mkSvc(lb, local, clientIP(600)), rel: Related{Deployments: []*appsv1.Deployment{unspread(1)}}},
		{name: "SVC-013 Windows backend with custom timeout",
			svc: mkSvc(clientIP(600)),
			rel: Related{Deployments: []*appsv1.Deployment{mkDep(func(d *appsv1.Deployment) {
				d.Spec.Template.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "windows"}
			})}},
			wantWarn: []finding{warn("SVC-013", "spec.sessionAffinityConfig.clientIP.timeoutSeconds")}},
		{name: "SVC-013 Windows StatefulSet backend with custom timeout",
			svc: mkSvc(clientIP(600)),
			rel: Related{StatefulSets: []*appsv1.StatefulSet{{
				ObjectMeta: metav1.ObjectMeta{Name: "db"},
				Spec: appsv1.StatefulSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
					NodeSelector: map[string]string{"kubernetes.io/os": "windows"}}}},
			}}},
			wantWarn: []finding{warn("SVC-013", "spec.sessionAffinityConfig.clientIP.timeoutSeconds")}},
		{name: "SVC-013 not for the API default timeout",
			svc: mkSvc(clientIP(10800)),
			rel: Related{Deployments: []*appsv1.Deployment{mkDep(func(d *appsv1.Deployment) {
				d.Spec.Template.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "windows"}
			})}}},
	}...)
}

func TestServiceCore(t *testing.T) {
	for _, tc := range serviceCoreCases() {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.svc.DeepCopy()
			errs, warns := validateServiceCore(tc.svc, tc.old, tc.ctx())
			assertFindings(t, errs, warns, tc.wantDeny, tc.wantWarn)
			if !equalSvc(before, tc.svc) {
				t.Fatal("rule modified its input")
			}
		})
	}
}

func equalSvc(a, b *corev1.Service) bool {
	return a.String() == b.String()
}

func TestServicePolicyRange(t *testing.T) {
	p := policy.Default()
	p.Service.ClientIPTimeout.Max = 3600
	errs, warns := validateServiceCore(mkSvc(clientIP(7200)), nil, &Context{Policy: p})
	assertFindings(t, errs, warns, nil, []finding{warn("SVC-007", "spec.sessionAffinityConfig.clientIP.timeoutSeconds")})
}

func TestValidateServiceRunsEveryFamily(t *testing.T) {
	svc := mkSvc(func(s *corev1.Service) { s.Spec.Selector["sessionAffinity"] = "ClientIP" },
		svcAnn(sticky.AnnIgnore, " "))
	errs, _ := ValidateService(svc, nil, &Context{Policy: policy.Default()})
	var rules []string
	for _, e := range errs {
		rules = append(rules, e.Origin)
	}
	assertContainsAll(t, rules, "SVC-001", "SG-001")
}

func assertContainsAll(t *testing.T, got []string, want ...string) {
	t.Helper()
	set := map[string]bool{}
	for _, g := range got {
		set[g] = true
	}
	for _, w := range want {
		if !set[w] {
			t.Errorf("missing %s in %v", w, got)
		}
	}
}

// TestSelectorKeyNamesItsHome: SVC-001 names the Service field the key
// belongs to (issue 10 item 13: no literal spec.<key> placeholder).
func TestSelectorKeyNamesItsHome(t *testing.T) {
	for key, home := range selectorKeyHome {
		svc := mkSvc(func(s *corev1.Service) { s.Spec.Selector[key] = "x" })
		errs, _ := validateServiceCore(svc, nil, &Context{Policy: policy.Default()})
		if assert.Len(t, errs, 1, key) {
			assert.Equal(t, "SVC-001", errs[0].Origin)
			assert.Contains(t, errs[0].Detail, home, key)
			assert.NotContains(t, errs[0].Detail, "<key>", key)
		}
	}
}
