package validators

import (
	"testing"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stickyguard/stickyguard/internal/sticky"
	"github.com/stickyguard/stickyguard/mutators"
	"github.com/stickyguard/stickyguard/policy"
)

type stsOpt func(*appsv1.StatefulSet)

func mkSts(opts ...stsOpt) *appsv1.StatefulSet {
	r := int32(3)
	s := &appsv1.StatefulSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    &r,
			ServiceName: "web-headless",
			Selector:    &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

func stsAnn(k, v string) stsOpt {
	return func(s *appsv1.StatefulSet) { s.Annotations = map[string]string{k: v} }
}

// stickyLocalLB is a Service every version of the spread predicate counts
// as sticky: source-IP affinity through a LoadBalancer, Local.
func stickyLocalLB() *corev1.Service {
	return mkSvc(svcType(corev1.ServiceTypeLoadBalancer), svcETP(corev1.ServiceExternalTrafficPolicyLocal), clientIP(600))
}

// TestStatefulSetRules: a StatefulSet gets the Deployment's workload and
// meta rules, at the same field paths.
func TestStatefulSetRules(t *testing.T) {
	spread := func(s *appsv1.StatefulSet) { mutators.AntiAffinity(&s.Spec.Template, s.Spec.Selector, false, 100) }
	stickySvcs := []*corev1.Service{stickyLocalLB()}
	tests := []struct {
		name     string
		sts      *appsv1.StatefulSet
		svcs     []*corev1.Service
		wantDeny []finding
		wantWarn []finding
	}{
		{name: "no Services", sts: mkSts()},
		{name: "plain Service", sts: mkSts(), svcs: []*corev1.Service{mkSvc()}},
		{name: "DEP-001 sticky Service, not spread", sts: mkSts(), svcs: stickySvcs,
			wantWarn: []finding{warn("DEP-001", "spec.template.spec.affinity")}},
		{name: "sticky Service, spread", sts: mkSts(spread), svcs: stickySvcs},
		{name: "sticky Service, hostname topology spread", svcs: stickySvcs, sts: mkSts(func(s *appsv1.StatefulSet) {
			s.Spec.Template.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{TopologyKey: corev1.LabelHostname, MaxSkew: 1}}
		})},
		{name: "DEP-003 nodeName pins the pods", svcs: stickySvcs,
			sts:      mkSts(spread, func(s *appsv1.StatefulSet) { s.Spec.Template.Spec.NodeName = "node-1" }),
			wantWarn: []finding{warn("DEP-003", "spec.template.spec.nodeName")}},
		{name: "DEP-003 hostname nodeSelector", svcs: stickySvcs,
			sts: mkSts(spread, func(s *appsv1.StatefulSet) {
				s.Spec.Template.Spec.NodeSelector = map[string]string{corev1.LabelHostname: "node-1"}
			}),
			wantWarn: []finding{warn("DEP-003", "spec.template.spec.nodeSelector[kubernetes.io/hostname]")}},
		{name: "SG-001 exemption without a reason", sts: mkSts(stsAnn(sticky.AnnIgnore, " ")),
			wantDeny: []finding{deny("SG-001", "metadata.annotations[stickyguard.io/ignore]")}},
		{name: "SG-002 unknown anti-affinity mode", sts: mkSts(stsAnn(sticky.AnnAntiAffinity, "soft")),
			wantDeny: []finding{deny("SG-002", "metadata.annotations[stickyguard.io/anti-affinity]")}},
		{name: "known anti-affinity mode", sts: mkSts(stsAnn(sticky.AnnAntiAffinity, "required"))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxFor(ControllerUnknown)
			ctx.Related.Services = tc.svcs
			before := tc.sts.DeepCopy()
			errs, warns := ValidateStatefulSet(tc.sts, nil, ctx)
			assertFindings(t, errs, warns, tc.wantDeny, tc.wantWarn)
			assert.Equal(t, before, tc.sts, "rules must not modify their input")
		})
	}
}

// TestStatefulSetRuleKinds: every workload rule names both kinds, so the
// docs, the corpus completeness test and the rule table agree.
func TestStatefulSetRuleKinds(t *testing.T) {
	for _, id := range []string{"DEP-001", "DEP-002", "DEP-003", "SG-001", "SG-002"} {
		r, ok := RuleByID(id)
		if assert.True(t, ok, id) {
			assert.Contains(t, r.Kinds, KindStatefulSet, id)
			assert.Contains(t, r.Kinds, KindDeployment, id)
		}
	}
}

// TestBackendSpreadListsStatefulSets is SVC-012 with StatefulSets among the
// workloads a sticky Service selects.
func TestBackendSpreadListsStatefulSets(t *testing.T) {
	one := int32(1)
	tests := []struct {
		name     string
		rel      Related
		wantWarn []finding
		wantText []string
	}{
		{name: "unspread StatefulSet", rel: Related{StatefulSets: []*appsv1.StatefulSet{mkSts()}},
			wantWarn: []finding{warn("SVC-012", "spec.selector")}, wantText: []string{"StatefulSets without hostname spread: web"}},
		{name: "Deployment and StatefulSet", wantWarn: []finding{warn("SVC-012", "spec.selector")},
			rel: Related{
				Deployments:  []*appsv1.Deployment{mkDep(func(d *appsv1.Deployment) { d.Name = "api" })},
				StatefulSets: []*appsv1.StatefulSet{mkSts(func(s *appsv1.StatefulSet) { s.Name = "db" })},
			},
			wantText: []string{"Deployments without hostname spread: api", "StatefulSets without hostname spread: db"}},
		{name: "single-replica StatefulSet needs no spread",
			rel: Related{StatefulSets: []*appsv1.StatefulSet{mkSts(func(s *appsv1.StatefulSet) { s.Spec.Replicas = &one })}}},
		{name: "spread StatefulSet", rel: Related{StatefulSets: []*appsv1.StatefulSet{mkSts(func(s *appsv1.StatefulSet) {
			mutators.AntiAffinity(&s.Spec.Template, s.Spec.Selector, true, 100)
		})}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := &Context{Policy: policy.Default(), Related: tc.rel}
			var f findings
			checkBackendSpread(&f, stickyLocalLB(), ctx)
			errs, warns := f.result()
			assertFindings(t, errs, warns, nil, tc.wantWarn)
			for _, s := range tc.wantText {
				assert.Contains(t, warns[0].Message(), s)
			}
		})
	}
}
