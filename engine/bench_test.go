package engine

import (
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/stickyguard/stickyguard/policy"
)

func benchIngress() *networkingv1.Ingress {
	pt := networkingv1.PathTypePrefix
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Annotations: map[string]string{
			"nginx.ingress.kubernetes.io/affinity":               "cookie",
			"nginx.ingress.kubernetes.io/affinity-mode":          "persistent",
			"nginx.ingress.kubernetes.io/session-cookie-name":    "route",
			"nginx.ingress.kubernetes.io/session-cookie-max-age": "172800",
		}},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr.To("nginx"),
			Rules: []networkingv1.IngressRule{{Host: "shop.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &pt, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}}},
			}}}},
		},
	}
}

func benchService() *corev1.Service {
	return lbService("web", map[string]string{ackPersistence: "1800"}, func(s *corev1.Service) {
		s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
		s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To[int32](3600)}}
	})
}

// BenchmarkEvaluate is the per-object cost of the rule engine (defaults and
// every rule family) on typical sticky objects, with a small namespace as
// the cross-object view.
func BenchmarkEvaluate(b *testing.B) {
	idx := NewIndex()
	idx.Put(benchService())
	idx.Put(deployment("web", nil))
	idx.Put(benchIngress())
	objs := map[string]func() any{
		"Service":    func() any { return benchService() },
		"Ingress":    func() any { return benchIngress() },
		"Deployment": func() any { return deployment("web", nil) },
	}
	for _, name := range []string{"Service", "Ingress", "Deployment"} {
		b.Run(name, func(b *testing.B) {
			obj := objs[name]()
			opts := Options{Lookup: idx, Policy: policy.Default()}
			b.ReportAllocs()
			for b.Loop() {
				var err error
				switch o := obj.(type) {
				case *corev1.Service:
					_, err = Evaluate(o, nil, opts)
				case *networkingv1.Ingress:
					_, err = Evaluate(o, nil, opts)
				case *appsv1.Deployment:
					_, err = Evaluate(o, nil, opts)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCheck10k reads and checks 10,000 generated objects (Services,
// Deployments, Ingresses in 100 namespaces), the way `stickyguard check`
// does: parse, index, defaults, rules, patches.
func BenchmarkCheck10k(b *testing.B) {
	var sb strings.Builder
	for i := 0; i < 10000/3+1; i++ {
		ns := fmt.Sprintf("ns%d", i%100)
		fmt.Fprintf(&sb, `---
apiVersion: v1
kind: Service
metadata: {name: s%[1]d, namespace: %[2]s, annotations: {service.beta.kubernetes.io/alibaba-cloud-loadbalancer-persistence-timeout: "1800"}}
spec: {type: LoadBalancer, selector: {app: a%[1]d}, sessionAffinity: ClientIP, ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d%[1]d, namespace: %[2]s}
spec: {replicas: 3, selector: {matchLabels: {app: a%[1]d}}, template: {metadata: {labels: {app: a%[1]d}}, spec: {containers: [{name: c, image: nginx}]}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i%[1]d, namespace: %[2]s, annotations: {nginx.ingress.kubernetes.io/affinity: cookie}}
spec: {ingressClassName: nginx, rules: [{host: h%[1]d.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: s%[1]d, port: {number: 80}}}}]}}]}
`, i, ns)
	}
	input := sb.String()
	b.ReportAllocs()
	for b.Loop() {
		docs, err := ReadDocuments("bench", strings.NewReader(input))
		if err != nil {
			b.Fatal(err)
		}
		checked, _, err := CheckDocuments(docs, Options{Offline: true})
		if err != nil || len(checked) < 10000 {
			b.Fatalf("checked %d: %v", len(checked), err)
		}
	}
}
