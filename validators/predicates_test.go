package validators

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"

	"github.com/stickyguard/stickyguard/internal/sticky"
	"github.com/stickyguard/stickyguard/policy"
)

const (
	annACKPersist = ackPrefix + "persistence-timeout"
	annACKSticky  = ackPrefix + "sticky-session"
	nlbSourceIP   = "stickiness.enabled=true,stickiness.type=source_ip"
)

// polWith returns the default policy changed by mut.
func polWith(mut func(*policy.Policy)) *policy.Policy {
	p := policy.Default()
	if mut != nil {
		mut(p)
	}
	return p
}

// TestDecideLocal is the one decision on the externalTrafficPolicy Local
// default: which Services have node-level stickiness, and what keeps
// stickyguard from setting Local.
func TestDecideLocal(t *testing.T) {
	lb, np := svcType(corev1.ServiceTypeLoadBalancer), svcType(corev1.ServiceTypeNodePort)
	cluster := svcETP(corev1.ServiceExternalTrafficPolicyCluster)
	local := svcETP(corev1.ServiceExternalTrafficPolicyLocal)
	disable := func(id string) func(*policy.Policy) {
		return func(p *policy.Policy) { p.Rules[id] = policy.OverrideDisabled }
	}
	tests := []struct {
		name      string
		svc       *corev1.Service
		pol       func(*policy.Policy)
		asWritten bool
		rule      string
		set       bool
		blocked   bool
	}{
		{name: "plain ClientIP on a LoadBalancer is not node-level", svc: mkSvc(lb, clientIP(600))},
		{name: "ClusterIP without annotations", svc: mkSvc()},
		{name: "ACK persistence on TCP", svc: mkSvc(lb, svcAnn(annACKPersist, "1800")), rule: "SVC-005", set: true},
		{name: "ACK persistence 0 is off", svc: mkSvc(lb, svcAnn(annACKPersist, "0"))},
		{name: "ACK persistence on HTTP listeners is ignored by the CLB",
			svc: mkSvc(lb, svcAnn(annACKPersist, "1800", ackPrefix+"protocol-port", "http:80"))},
		{name: "ACK sticky-session on HTTP listeners", svc: mkSvc(lb, svcAnn(annACKSticky, "on", ackPrefix+"protocol-port", "http:80")),
			rule: "SVC-005", set: true},
		{name: "ACK sticky-session on TCP listeners is ignored", svc: mkSvc(lb, svcAnn(annACKSticky, "on"))},
		{name: "ACK persistence on a NodePort: no load balancer", svc: mkSvc(np, svcAnn(annACKPersist, "1800"))},
		{name: "ACK eni backends are pod-direct", svc: mkSvc(lb, svcAnn(annACKPersist, "1800", annACKBackend, "eni"))},
		{name: "AWS NLB source_ip on instance targets", svc: mkSvc(lb, svcAnn(annAWSNLBAttrs, nlbSourceIP)), rule: "SVC-005", set: true},
		{name: "AWS NLB per-port attributes", svc: mkSvc(lb, svcAnn(annAWSNLBAttrs+".80", "stickiness.enabled=true")), rule: "SVC-005", set: true},
		{name: "AWS NLB stickiness disabled", svc: mkSvc(lb, svcAnn(annAWSNLBAttrs, "stickiness.enabled=false,stickiness.type=source_ip"))},
		{name: "AWS nlb-target-type ip is pod-direct", svc: mkSvc(lb, svcAnn(annAWSNLBAttrs, nlbSourceIP, annAWSNLBTargetType, "ip"))},
		{name: "AWS legacy nlb-ip is pod-direct", svc: mkSvc(lb, svcAnn(annAWSNLBAttrs, nlbSourceIP, annAWSLBType, "nlb-ip"))},
		{name: "CCE SOURCE_IP on a LoadBalancer", svc: mkSvc(lb, svcAnn(annCCEMode, "SOURCE_IP")), rule: "CCE-008", set: true},
		{name: "CCE SOURCE_IP on a NodePort: no load balancer", svc: mkSvc(np, svcAnn(annCCEMode, "SOURCE_IP"))},
		{name: "CCE cookie on the NodePort behind an ELB Ingress", svc: mkSvc(np, svcAnn(annCCEMode, "HTTP_COOKIE")), rule: "CCE-008", set: true},
		{name: "CCE Turbo needs nothing", svc: mkSvc(lb, svcAnn(annCCEMode, "SOURCE_IP")),
			pol: func(p *policy.Policy) { p.Cluster.CCE = policy.CCETurbo }},
		{name: "already Local: nothing to set", svc: mkSvc(lb, local, svcAnn(annACKPersist, "1800")), rule: "SVC-005"},
		{name: "SVC-005 disabled by policy", svc: mkSvc(lb, svcAnn(annAWSNLBAttrs, nlbSourceIP)), pol: disable("SVC-005"),
			rule: "SVC-005", blocked: true},
		{name: "CCE-008 disabled by policy", svc: mkSvc(lb, svcAnn(annCCEMode, "SOURCE_IP")), pol: disable("CCE-008"),
			rule: "CCE-008", blocked: true},
		{name: "disabling SVC-005 leaves CCE-008 on", svc: mkSvc(lb, svcAnn(annCCEMode, "SOURCE_IP")), pol: disable("SVC-005"),
			rule: "CCE-008", set: true},
		{name: "policy turns the default off", svc: mkSvc(lb, svcAnn(annACKPersist, "1800")), rule: "SVC-005", blocked: true,
			pol: func(p *policy.Policy) { off := false; p.Service.SetExternalTrafficPolicyLocal = &off }},
		{name: "opt-out annotation", svc: mkSvc(lb, svcAnn(annACKPersist, "1800", sticky.AnnKeepTrafficPolicy, "true")), rule: "SVC-005", blocked: true},
		{name: "explicit Cluster as written (offline) is kept", svc: mkSvc(lb, cluster, svcAnn(annACKPersist, "1800")), asWritten: true,
			rule: "SVC-005", blocked: true},
		{name: "Cluster live is the API default", svc: mkSvc(lb, cluster, svcAnn(annACKPersist, "1800")), rule: "SVC-005", set: true},
		{name: "omitted policy offline is set", svc: mkSvc(lb, svcAnn(annACKPersist, "1800")), asWritten: true, rule: "SVC-005", set: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol := polWith(tt.pol)
			d := DecideLocal(tt.svc, pol, tt.asWritten)
			assert.Equal(t, tt.rule, d.Rule)
			assert.Equal(t, tt.set, d.Set, "set")
			assert.Equal(t, tt.blocked, d.Blocked != "", "blocked: %q", d.Blocked)
			assert.Equal(t, tt.rule != "", d.Reason != "", "reason: %q", d.Reason)
			wantLocal := tt.set || tt.svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
			assert.Equal(t, wantLocal, EffectiveLocal(tt.svc, pol, tt.asWritten), "effective Local")
		})
	}
}

// TestNeedsSpread: only sticky Services ask for one pod per node; a Service
// that is merely Local (an ingress controller's own) does not.
func TestNeedsSpread(t *testing.T) {
	lb := svcType(corev1.ServiceTypeLoadBalancer)
	local := svcETP(corev1.ServiceExternalTrafficPolicyLocal)
	noSelector := func(s *corev1.Service) { s.Spec.Selector = nil }
	tests := []struct {
		name string
		svc  *corev1.Service
		want bool
	}{
		{name: "ingress controller's Local LoadBalancer", svc: mkSvc(lb, local)},
		{name: "ClientIP with Local", svc: mkSvc(lb, local, clientIP(600)), want: true},
		{name: "ClientIP with Cluster", svc: mkSvc(lb, clientIP(600))},
		{name: "ClientIP ClusterIP", svc: mkSvc(clientIP(600))},
		{name: "node-level stickiness kept Cluster", svc: mkSvc(lb, svcAnn(annACKPersist, "60", sticky.AnnKeepTrafficPolicy, "true")), want: true},
		{name: "node-level stickiness, Local", svc: mkSvc(lb, local, svcAnn(annAWSNLBAttrs, nlbSourceIP)), want: true},
		{name: "pod-direct backends", svc: mkSvc(lb, local, clientIP(600), svcAnn(annAWSNLBTargetType, "ip"))},
		{name: "no selector", svc: mkSvc(lb, local, clientIP(600), noSelector)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, NeedsSpread(tt.svc, policy.Default()))
			assert.Equal(t, tt.want, SpreadReason(tt.svc, policy.Default()) != "")
		})
	}
}

func TestClipTo(t *testing.T) {
	assert.Equal(t, "abc", clipTo("abc", 3))
	assert.Equal(t, "ab...", clipTo("abc", 2))
	assert.Equal(t, "a...", clipTo("aé", 2), "cut at a rune boundary")
}
