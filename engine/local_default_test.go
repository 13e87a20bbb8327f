package engine

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/stickyguard/stickyguard/policy"
)

const (
	nlbAttrs    = "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes"
	nlbSourceIP = "stickiness.enabled=true,stickiness.type=source_ip"
)

// TestLocalDefaultScope: externalTrafficPolicy Local is set only where the
// load balancer's own stickiness pins nodes (issue 10 item 2).
func TestLocalDefaultScope(t *testing.T) {
	clientIP := func(s *corev1.Service) { s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP }
	nodePort := func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeNodePort }
	clusterIP := func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeClusterIP }
	cluster := func(s *corev1.Service) { s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster }
	tests := []struct {
		name     string
		svc      *corev1.Service
		offline  bool
		wantRule string // the default filled, "" for none
		wantWarn string // a rule that must warn
	}{
		{name: "plain ClientIP on a LoadBalancer: SVC-004 warns, Cluster stays",
			svc: lbService("web", nil, clientIP), wantWarn: "SVC-004"},
		{name: "AWS NLB source_ip on instance targets",
			svc: lbService("web", map[string]string{nlbAttrs: nlbSourceIP}), wantRule: "SVC-005"},
		{name: "AWS nlb-ip is pod-direct",
			svc: lbService("web", map[string]string{nlbAttrs: nlbSourceIP, "service.beta.kubernetes.io/aws-load-balancer-type": "nlb-ip"})},
		{name: "AWS nlb-target-type ip is pod-direct",
			svc: lbService("web", map[string]string{nlbAttrs: nlbSourceIP, "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip"})},
		{name: "ACK sticky-session on HTTP listeners",
			svc: lbService("web", map[string]string{
				"service.beta.kubernetes.io/alibaba-cloud-loadbalancer-sticky-session":      "on",
				"service.beta.kubernetes.io/alibaba-cloud-loadbalancer-sticky-session-type": "insert",
				"service.beta.kubernetes.io/alibaba-cloud-loadbalancer-cookie-timeout":      "1800",
				"service.beta.kubernetes.io/alibaba-cloud-loadbalancer-protocol-port":       "http:80",
			}), wantRule: "SVC-005"},
		{name: "ACK persistence on a NodePort: no load balancer, SVC-014",
			svc: lbService("web", map[string]string{ackPersistence: "1800"}, nodePort), wantWarn: "SVC-014"},
		{name: "NLB stickiness on a ClusterIP: no load balancer, SVC-014",
			svc: lbService("web", map[string]string{nlbAttrs: nlbSourceIP}, clusterIP), wantWarn: "SVC-014"},
		{name: "CCE SOURCE_IP on a LoadBalancer",
			svc: lbService("web", map[string]string{"kubernetes.io/elb.session-affinity-mode": "SOURCE_IP"}), wantRule: "CCE-008"},
		{name: "explicit Cluster offline is kept and warned",
			svc: lbService("web", map[string]string{ackPersistence: "1800"}, cluster), offline: true, wantWarn: "SVC-005"},
		{name: "explicit CCE Cluster offline is kept and warned",
			svc:     lbService("web", map[string]string{"kubernetes.io/elb.session-affinity-mode": "SOURCE_IP"}, cluster),
			offline: true, wantWarn: "CCE-008"},
		{name: "Cluster live is the API server's default: Local is set",
			svc: lbService("web", map[string]string{ackPersistence: "1800"}, cluster), wantRule: "SVC-005"},
		{name: "omitted policy offline: Local is set",
			svc: lbService("web", map[string]string{ackPersistence: "1800"}), offline: true, wantRule: "SVC-005"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Evaluate(tt.svc, nil, Options{Offline: tt.offline})
			require.NoError(t, err)
			assert.True(t, r.Allowed(), "%v", r.Errors)
			got := r.Object.(*corev1.Service).Spec.ExternalTrafficPolicy
			var etpRules []string
			for _, m := range r.Mutations {
				if m.Field.String() == "spec.externalTrafficPolicy" {
					etpRules = append(etpRules, m.Rule)
				}
			}
			if tt.wantRule == "" {
				assert.Empty(t, etpRules)
				assert.Equal(t, tt.svc.Spec.ExternalTrafficPolicy, got, "externalTrafficPolicy untouched")
			} else {
				assert.Equal(t, []string{tt.wantRule}, etpRules)
				assert.Equal(t, corev1.ServiceExternalTrafficPolicyLocal, got)
			}
			if tt.wantWarn != "" {
				assert.Contains(t, ruleIDs(r.Warnings), tt.wantWarn)
			}
			for _, w := range r.Warnings {
				assert.LessOrEqual(t, len(w.String()), 256, w.String())
			}
		})
	}
}

// TestDisabledDefaultKeepsOtherRulesHonest is issue 10 item 12: with SVC-005
// disabled by policy, a sticky NLB Service on instance targets stays Cluster,
// and AWS-008 (which reads the traffic policy after defaults) still fires,
// offline and live alike, on the Service and on an ALB Ingress routing to it.
func TestDisabledDefaultKeepsOtherRulesHonest(t *testing.T) {
	pol := policy.Default()
	pol.Rules["SVC-005"] = policy.OverrideDisabled
	svc := lbService("web", map[string]string{nlbAttrs: nlbSourceIP})
	for _, offline := range []bool{false, true} {
		r, err := Evaluate(svc, nil, Options{Policy: pol, Offline: offline})
		require.NoError(t, err)
		assert.Empty(t, r.Mutations, "offline=%v", offline)
		assert.Empty(t, r.Object.(*corev1.Service).Spec.ExternalTrafficPolicy, "offline=%v: stays Cluster", offline)
		assert.Contains(t, ruleIDs(r.Warnings), "AWS-008", "offline=%v", offline)
		assert.NotContains(t, ruleIDs(r.Warnings), "SVC-005", "offline=%v: the disabled rule is silent", offline)
	}
	// With the default on, Local is set and AWS-008 has nothing to say.
	r, err := Evaluate(svc, nil, Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{"SVC-005"}, rules(r.Mutations))
	assert.NotContains(t, ruleIDs(r.Warnings), "AWS-008")

	// check: the same through CheckDocuments, where the Service is also the
	// context of an ALB Ingress's backend.
	docs, err := ReadDocuments("t.yaml", strings.NewReader(`apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop, annotations: {`+nlbAttrs+`: "`+nlbSourceIP+`"}}
spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80}]}
`))
	require.NoError(t, err)
	checked, _, err := CheckDocuments(docs, Options{Policy: pol, Offline: true})
	require.NoError(t, err)
	require.Len(t, checked, 1)
	assert.Empty(t, checked[0].Patch)
	assert.Contains(t, ruleIDs(checked[0].Result.Warnings), "AWS-008")
}

// TestSpreadOnlyForStickyServices is issue 10 item 3: an ingress
// controller's own Local Service does not get its Deployment mutated.
func TestSpreadOnlyForStickyServices(t *testing.T) {
	local := func(s *corev1.Service) { s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal }
	clientIP := func(s *corev1.Service) { s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP }
	tests := []struct {
		name   string
		svc    *corev1.Service
		spread bool
	}{
		{name: "ingress controller's Local LoadBalancer", svc: lbService("web", nil, local)},
		{name: "plain ClientIP, Cluster", svc: lbService("web", nil, clientIP)},
		{name: "ClientIP with Local", svc: lbService("web", nil, local, clientIP), spread: true},
		{name: "node-level stickiness", svc: lbService("web", map[string]string{nlbAttrs: nlbSourceIP}), spread: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idx := NewIndex()
			idx.Put(tt.svc)
			r, err := Evaluate(deployment("web", nil), nil, Options{Lookup: idx})
			require.NoError(t, err)
			if tt.spread {
				assert.Equal(t, []string{"DEP-001"}, rules(r.Mutations))
			} else {
				assert.Empty(t, r.Mutations)
				assert.NotContains(t, ruleIDs(r.Warnings), "DEP-001")
			}
			// The Service's own review agrees: SVC-012 only for sticky ones.
			didx := NewIndex()
			didx.Put(deployment("web", nil))
			sr, err := Evaluate(tt.svc, nil, Options{Lookup: didx})
			require.NoError(t, err)
			assert.Equal(t, tt.spread, warned(sr, "SVC-012"), "%v", sr.Warnings)
		})
	}
}

// TestMutationMessagesFit: the warnings that report a filled default fit the
// 256-character budget too.
func TestMutationMessagesFit(t *testing.T) {
	p := policy.Default()
	p.Service.ClientIPTimeout.Default = 3600
	for _, svc := range []*corev1.Service{
		lbService("web", map[string]string{nlbAttrs + ".443": nlbSourceIP}),
		lbService("web", map[string]string{"kubernetes.io/elb.session-affinity-mode": "APP_COOKIE",
			"kubernetes.io/elb.session-affinity-option": `{"app_cookie_name":"sid"}`},
			func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeNodePort }),
		lbService("web", map[string]string{ackPersistence: "1800"}, func(s *corev1.Service) {
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
		}),
	} {
		r, err := Evaluate(svc, nil, Options{Policy: p, Offline: true})
		require.NoError(t, err)
		require.NotEmpty(t, r.Mutations)
		for _, w := range r.Warnings {
			assert.LessOrEqual(t, len(w.String()), 256, w.String())
		}
	}
}
