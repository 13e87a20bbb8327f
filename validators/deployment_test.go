package validators

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/mutators"
)

// depCase is one row of the Deployment rules' table.
type depCase struct {
	name     string
	dep      *appsv1.Deployment
	svcs     []*corev1.Service
	offline  bool
	wantWarn []finding
}

func deploymentCases() []depCase {
	lb := svcType(corev1.ServiceTypeLoadBalancer)
	local := svcETP(corev1.ServiceExternalTrafficPolicyLocal)
	localLB := mkSvc(lb, local, clientIP(600))
	// An ingress controller's own Service: Local to keep client IPs, not sticky.
	controllerLB := mkSvc(lb, local)
	nodeSticky := mkSvc(lb, svcAnn(annAWSNLBAttrs, nlbSourceIP), func(s *corev1.Service) { s.Name = strings.Repeat("s", 63) })
	keptCluster := mkSvc(lb, svcETP(corev1.ServiceExternalTrafficPolicyCluster), svcAnn(annAWSNLBAttrs, nlbSourceIP))
	plain := mkSvc()
	spread := func(d *appsv1.Deployment) { mutators.AntiAffinity(&d.Spec.Template, d.Spec.Selector, false, 100) }
	pinned := func(d *appsv1.Deployment) { d.Spec.Template.Spec.NodeName = "node-1" }
	return []depCase{
		{name: "no Services", dep: mkDep()},
		{name: "plain Service", dep: mkDep(), svcs: []*corev1.Service{plain}},
		{name: "ingress controller's Local Service: no spread, pinning is its choice", dep: mkDep(pinned),
			svcs: []*corev1.Service{controllerLB}},
		{name: "DEP-001 and DEP-003 node-level sticky Service that stickyguard sets Local", dep: mkDep(pinned),
			svcs:     []*corev1.Service{nodeSticky},
			wantWarn: []finding{warn("DEP-001", "spec.template.spec.affinity"), warn("DEP-003", "spec.template.spec.nodeName")}},
		{name: "DEP-001 only: sticky Service kept Cluster offline", dep: mkDep(pinned), offline: true,
			svcs:     []*corev1.Service{keptCluster},
			wantWarn: []finding{warn("DEP-001", "spec.template.spec.affinity")}},
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
}

func (c depCase) ctx() *Context {
	ctx := ctxFor(ControllerUnknown)
	ctx.Offline = c.offline
	ctx.Related.Services = c.svcs
	return ctx
}

func TestDeploymentRules(t *testing.T) {
	for _, tc := range deploymentCases() {
		t.Run(tc.name, func(t *testing.T) {
			ctx := tc.ctx()
			errs, warns := validateDeployment(tc.dep, nil, ctx)
			assertFindings(t, errs, warns, nil, tc.wantWarn)
		})
	}
}

func TestTemplateChangeWarning(t *testing.T) {
	w := TemplateChangeWarning()
	assertFindings(t, field.ErrorList{}, Warnings{w}, nil, []finding{warn("DEP-002", "spec.template")})
}
