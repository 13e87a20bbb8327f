package audit

import (
	"os"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stickyguard/stickyguard/webhook/engine"
)

func TestScratch(t *testing.T) {
	r := int32(3)
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "web"}, Spec: appsv1.DeploymentSpec{Replicas: &r, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}}}}
	to := int32(10800)
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "web"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer,
		Selector: map[string]string{"app": "web"}, SessionAffinity: corev1.ServiceAffinityClientIP, ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyLocal,
		SessionAffinityConfig: &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: &to}}}}
	docs := []engine.Document{{Source: "d", APIVersion: "apps/v1", Kind: "Deployment", Namespace: "a", Name: "web", Object: dep},
		{Source: "s", APIVersion: "v1", Kind: "Service", Namespace: "a", Name: "web", Object: svc}}
	c, s, err := engine.CheckDocuments(docs, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	engine.NewReport(c, s).WriteText(os.Stdout)
	idx := engine.NewIndex()
	idx.Put(dep); idx.Put(svc)
	for _, o := range []interface{ }{dep, svc} {
		_ = o
	}
	r1, _ := engine.Evaluate(dep, nil, engine.Options{Lookup: idx})
	r2, _ := engine.Evaluate(svc, nil, engine.Options{Lookup: idx})
	for _, w := range append(r1.Warnings, r2.Warnings...) { t.Log(w.String()) }
}
