package validators

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/stickyguard/stickyguard/validators/policy"
)

func TestServiceCore(t *testing.T) {
	lb, np := svcType(corev1.ServiceTypeLoadBalancer), svcType(corev1.ServiceTypeNodePort)
	local, cluster := svcETP(corev1.ServiceExternalTrafficPolicyLocal), svcETP(corev1.ServiceExternalTrafficPolicyCluster)
	twoPorts := func(s *corev1.Service) {
		s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "https", Port: 443})
	}
	unspread := func(n int32) *appsv1.Deployment { return mkDep(func(d *appsv1.Deployment) { d.Spec.Replicas = &n }) }
	tests := []struct {
		name     string
		svc      *corev1.Service
		old      *corev1.Service
		rel      Related
		wantDeny []finding
		wantWarn []finding
	}{
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
		{name: "SVC-004 NodePort ClientIP Cluster",
			svc:      mkSvc(clientIP(10800), np, cluster),
			wantWarn: []finding{warn("SVC-004", "spec.externalTrafficPolicy")}},
		{name: "NodePort ClientIP Local is fine", svc: mkSvc(clientIP(10800), np, local)},
		{name: "SVC-005 LB ClientIP opted out of Local",
			svc:      mkSvc(clientIP(10800), lb, cluster, svcAnn(AnnKeepTrafficPolicy, "true")),
			wantWarn: []finding{warn("SVC-005", "spec.externalTrafficPolicy")}},
		{name: "SVC-005 ACK persistence with Cluster",
			svc:      mkSvc(lb, svcAnn("service.beta.kubernetes.io/alibaba-cloud-loadbalancer-persistence-timeout", "1800")),
			wantWarn: []finding{warn("SVC-005", "spec.externalTrafficPolicy")}},
		{name: "ACK persistence pod-direct (eni) needs nothing",
			svc: mkSvc(lb, svcAnn("service.beta.kubernetes.io/alibaba-cloud-loadbalancer-persistence-timeout", "1800",
				"service.beta.kubernetes.io/backend-type", "eni"))},
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
		{name: "SVC-012 Local Service over an unspread Deployment",
			svc:      mkSvc(lb, local),
			rel:      Related{Deployments: []*appsv1.Deployment{unspread(3)}},
			wantWarn: []finding{warn("SVC-012", "spec.selector")}},
		{name: "single replica needs no spread", svc: mkSvc(lb, local), rel: Related{Deployments: []*appsv1.Deployment{unspread(1)}}},
		{name: "SVC-013 Windows backend with custom timeout",
			svc: mkSvc(clientIP(600)),
			rel: Related{Deployments: []*appsv1.Deployment{mkDep(func(d *appsv1.Deployment) {
				d.Spec.Template.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "windows"}
			})}},
			wantWarn: []finding{warn("SVC-013", "spec.sessionAffinityConfig.clientIP.timeoutSeconds")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := &Context{Policy: policy.Default(), Related: tc.rel}
			before := tc.svc.DeepCopy()
			errs, warns := validateServiceCore(tc.svc, tc.old, ctx)
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
		svcAnn(AnnIgnore, " "))
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
