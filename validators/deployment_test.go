package validators

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/mutators"
)

func TestDeploymentRules(t *testing.T) {
	localLB := mkSvc(svcType(corev1.ServiceTypeLoadBalancer), svcETP(corev1.ServiceExternalTrafficPolicyLocal))
	plain := mkSvc()
	spread := func(d *appsv1.Deployment) { mutators.AntiAffinity(d, false, 100) }
	tests := []struct {
		name     string
		dep      *appsv1.Deployment
		svcs     []*corev1.Service
		wantWarn []finding
	}{
		{name: "no Services", dep: mkDep()},
		{name: "plain Service", dep: mkDep(), svcs: []*corev1.Service{plain}},
		{name: "DEP-001 sticky Service, not spread", dep: mkDep(), svcs: []*corev1.Service{localLB},
			wantWarn: []finding{warn("DEP-001", "spec.template.spec.affinity")}},
		{name: "sticky Service, spread", dep: mkDep(spread), svcs: []*corev1.Service{localLB}},
		{name: "DEP-003 nodeName pins the pods", svcs: []*corev1.Service{localLB},
			dep:      mkDep(spread, func(d *appsv1.Deployment) { d.Spec.Template.Spec.NodeName = "node-1" }),
			wantWarn: []finding{warn("DEP-003", "spec.template.spec.nodeName")}},
		{name: "DEP-003 hostname nodeSelector", svcs: []*corev1.Service{localLB},
			dep: mkDep(spread, func(d *appsv1.Deployment) {
				d.Spec.Template.Spec.NodeSelector = map[string]string{corev1.LabelHostname: "node-1"}
			}),
			wantWarn: []finding{warn("DEP-003", "spec.template.spec.nodeSelector[kubernetes.io/hostname]")}},
		{name: "DEP-003 single-host node affinity", svcs: []*corev1.Service{localLB},
			dep: mkDep(spread, func(d *appsv1.Deployment) {
				d.Spec.Template.Spec.Affinity.NodeAffinity = &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
					NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: corev1.LabelHostname, Operator: corev1.NodeSelectorOpIn, Values: []string{"node-1"}}}}},
				}}
			}),
			wantWarn: []finding{warn("DEP-003", "spec.template.spec.affinity.nodeAffinity")}},
		{name: "zone nodeSelector is fine", svcs: []*corev1.Service{localLB},
			dep: mkDep(spread, func(d *appsv1.Deployment) {
				d.Spec.Template.Spec.NodeSelector = map[string]string{"topology.kubernetes.io/zone": "a"}
			})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxFor(ControllerUnknown)
			ctx.Related.Services = tc.svcs
			errs, warns := validateDeployment(tc.dep, nil, ctx)
			assertFindings(t, errs, warns, nil, tc.wantWarn)
		})
	}
}

func TestTemplateChangeWarning(t *testing.T) {
	w := TemplateChangeWarning()
	assertFindings(t, field.ErrorList{}, Warnings{w}, nil, []finding{warn("DEP-002", "spec.template")})
}
