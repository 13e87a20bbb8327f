package validators

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// FuzzServiceCore builds Services from fuzzed sticky fields and runs every
// Service family (core, meta, providers), live and offline, with a related
// Deployment and Ingress: no panic, input unchanged.
func FuzzServiceCore(f *testing.F) {
	f.Add("sessionAffinity", "ClientIP", "LoadBalancer", "ClientIP", "Cluster", int32(10800), "stickyguard.io/ignore", "")
	f.Add("app", "web", "NodePort", "None", "Local", int32(0), "kubernetes.io/elb.session-affinity-mode", "SOURCE_IP")
	f.Add("", "", "ExternalName", "clientip", "local", int32(-5), "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-persistence-timeout", "x")
	f.Fuzz(func(t *testing.T, selK, selV, typ, aff, etp string, timeout int32, annK, annV string) {
		svc := mkSvc(svcAnn(annK, annV), func(s *corev1.Service) {
			s.Spec.Selector[selK] = selV
			s.Spec.Type = corev1.ServiceType(typ)
			s.Spec.SessionAffinity = corev1.ServiceAffinity(aff)
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicy(etp)
			if timeout != 0 {
				s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: &timeout}}
			}
		})
		before := svc.DeepCopy()
		for _, offline := range []bool{false, true} {
			ctx := ctxFor(ControllerUnknown)
			ctx.Offline = offline
			ctx.Related.Deployments = []*appsv1.Deployment{mkDep()}
			ctx.Related.Ingresses = []RelatedIngress{{Ingress: mkIng(ingAnn(annK, annV)), Controller: ControllerNginx}}
			ValidateService(svc, before, ctx)
		}
		if before.String() != svc.String() {
			t.Fatal("rules modified the Service")
		}
	})
}

// FuzzDeploymentRules runs the Deployment families on fuzzed annotations,
// node pinning and replicas.
func FuzzDeploymentRules(f *testing.F) {
	f.Add("stickyguard.io/anti-affinity", "required", "node-1", int32(3))
	f.Add("stickyguard.io/ignore", "", "", int32(0))
	f.Fuzz(func(t *testing.T, annK, annV, node string, replicas int32) {
		d := mkDep(func(d *appsv1.Deployment) {
			d.Annotations = map[string]string{annK: annV}
			d.Spec.Replicas = &replicas
			d.Spec.Template.Spec.NodeName = node
		})
		before := d.DeepCopy()
		ctx := ctxFor(ControllerUnknown)
		ctx.Related.Services = []*corev1.Service{mkSvc(svcType(corev1.ServiceTypeLoadBalancer), svcETP(corev1.ServiceExternalTrafficPolicyLocal))}
		ValidateDeployment(d, nil, ctx)
		if before.String() != d.String() {
			t.Fatal("rules modified the Deployment")
		}
	})
}
