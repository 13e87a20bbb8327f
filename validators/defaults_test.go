package validators

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"

	"github.com/stickyguard/stickyguard/internal/sticky"
	"github.com/stickyguard/stickyguard/policy"
)

// TestDecideClientIPTimeout: SVC-008 applies to ClientIP Services only and
// honours a policy that disables it.
func TestDecideClientIPTimeout(t *testing.T) {
	tests := []struct {
		name    string
		svc     *corev1.Service
		pol     func(*policy.Policy)
		rule    string
		set     bool
		blocked bool
	}{
		{name: "None Service needs nothing", svc: mkSvc()},
		{name: "ClientIP Service gets the policy default", svc: mkSvc(clientIP(600)), rule: "SVC-008", set: true},
		{name: "disabled by policy", svc: mkSvc(clientIP(600)), rule: "SVC-008", blocked: true,
			pol: func(p *policy.Policy) { p.Rules["SVC-008"] = policy.OverrideDisabled }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol := polWith(tt.pol)
			d := ClientIPTimeoutDefault.Decide(tt.svc, pol, false)
			assert.Equal(t, tt.rule, d.Rule)
			assert.Equal(t, tt.set, d.Set)
			assert.Equal(t, tt.blocked, d.Blocked != "", "blocked: %q", d.Blocked)
			if tt.set {
				assert.Equal(t, "10800", d.Value)
			}
		})
	}
	assert.Equal(t, "spec.sessionAffinityConfig.clientIP.timeoutSeconds", ClientIPTimeoutDefault.Field.String())
	assert.Equal(t, "spec.externalTrafficPolicy", LocalDefault.Field.String())
}

// TestDecideSpread: DEP-001 applies when a selecting Service needs its pods
// spread, honouring the policy override and the anti-affinity mode.
func TestDecideSpread(t *testing.T) {
	plain := mkSvc(svcType(corev1.ServiceTypeLoadBalancer))
	tests := []struct {
		name    string
		ann     map[string]string
		svcs    []*corev1.Service
		pol     func(*policy.Policy)
		rule    string
		set     bool
		blocked bool
		value   string
	}{
		{name: "no Service", rule: ""},
		{name: "a Service that needs no spread", svcs: []*corev1.Service{plain}},
		{name: "sticky Local Service", svcs: []*corev1.Service{plain, stickyLocalLB()}, rule: "DEP-001", set: true,
			value: "preferred on kubernetes.io/hostname"},
		{name: "annotation asks for required", ann: map[string]string{sticky.AnnAntiAffinity: "required"},
			svcs: []*corev1.Service{stickyLocalLB()}, rule: "DEP-001", set: true, value: "required on kubernetes.io/hostname"},
		{name: "annotation disables", ann: map[string]string{sticky.AnnAntiAffinity: "disabled"},
			svcs: []*corev1.Service{stickyLocalLB()}, rule: "DEP-001", blocked: true},
		{name: "policy mode disabled", svcs: []*corev1.Service{stickyLocalLB()}, rule: "DEP-001", blocked: true,
			pol: func(p *policy.Policy) { p.AntiAffinity.Mode = policy.AntiAffinityDisabled }},
		{name: "policy disables DEP-001", svcs: []*corev1.Service{stickyLocalLB()}, rule: "DEP-001", blocked: true,
			pol: func(p *policy.Policy) { p.Rules["DEP-001"] = policy.OverrideDisabled }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := SpreadDefault.Decide(tt.ann, tt.svcs, polWith(tt.pol))
			assert.Equal(t, tt.rule, d.Rule)
			assert.Equal(t, tt.set, d.Set)
			assert.Equal(t, tt.blocked, d.Blocked != "", "blocked: %q", d.Blocked)
			if tt.value != "" {
				assert.Equal(t, tt.value, d.Value)
			}
		})
	}
	assert.Equal(t, "spec.template.spec.affinity.podAntiAffinity", SpreadDefault.Field.String())
}
