package corpus

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stickyguard/stickyguard/engine"
	"github.com/stickyguard/stickyguard/validators"
	"github.com/stickyguard/stickyguard/webhook"
)

// TestMatchConditionsSendEveryFailingExample is the safety proof of the
// shipped matchConditions. For every corpus example, on a real API server
// with manifests/base/webhook-configurations.yaml: the context objects are
// created for real in an enforce namespace, then the subject is created
// (or, for an UPDATE, written over its stored old object) with server-side
// dry-run. The subject must reach the validating webhook exactly once, the
// object the API server sent must still trigger the rule, and when the
// engine fills a default on it, it must have reached the mutating webhook.
func TestMatchConditionsSendEveryFailingExample(t *testing.T) {
	cp := apiserver(t)
	for _, ex := range loadCorpus(t) {
		t.Run(ex.File, func(t *testing.T) {
			ns := nsFor(ex.File)
			cp.createNamespace(t, ns, "enforce")
			context, old, subject := ex.inNamespace(ns)
			var stored []client.Object
			for _, o := range context {
				cp.create(t, o)
				stored = append(stored, o)
			}
			op := admissionv1.Create
			var err error
			if old != nil {
				op = admissionv1.Update
				cp.create(t, old)
				subject.SetResourceVersion(old.GetResourceVersion())
				err = cp.client.Update(testCtx(t), subject, client.DryRunAll)
			} else {
				err = cp.client.Create(testCtx(t), subject, client.DryRunAll)
			}
			require.NoError(t, err, "the API server must accept the subject (the recording webhook allows everything)")

			calls := cp.rec.to(ns, subject.GetName())
			var reviews []call
			for _, c := range calls[path(webhook.Validating, ex.Kind())] {
				if c.Operation == op && c.DryRun {
					reviews = append(reviews, c)
				}
			}
			require.Len(t, reviews, 1, "%s: the subject must reach the validating webhook exactly once (%s, dry run)", ex.Rule, op)

			// What the webhook received (API defaults applied) still
			// triggers the rule, with the stored context as the cache.
			sent := decodeAs(t, subject, reviews[0].Object)
			var sentOld client.Object
			if op == admissionv1.Update {
				sentOld = decodeAs(t, subject, reviews[0].OldObject)
			}
			res, err := ex.evaluate(ns, stored, sentOld, sent)
			require.NoError(t, err)
			assert.Contains(t, triggered(res), ex.Rule, "the object the API server sent must trigger %s", ex.Rule)

			// A default the engine fills must be reachable too.
			if len(res.Mutations) > 0 {
				var mutations int
				for _, c := range calls[path(webhook.Mutating, ex.Kind())] {
					if c.Operation == op && c.DryRun {
						mutations++
					}
				}
				assert.GreaterOrEqual(t, mutations, 1, "the engine fills %v, so the subject must reach the mutating webhook", mutationRules(res))
			}
		})
	}
}

func mutationRules(r *engine.Result) []string {
	var out []string
	for _, m := range r.Mutations {
		out = append(out, m.Rule)
	}
	return out
}

func plainService(name string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name:   name,
			Labels: map[string]string{"app.kubernetes.io/name": "web", "app.kubernetes.io/managed-by": "Helm"},
			Annotations: map[string]string{
				"meta.helm.sh/release-name": "web",
				"prometheus.io/scrape":      "true",
				// GKE adds this to every Service; it decides nothing on its own.
				"cloud.google.com/neg": `{"ingress":true}`,
			},
		},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web", "tier": "frontend"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80}},
		},
	}
}

func plainIngress(name string) *networkingv1.Ingress {
	pt := networkingv1.PathTypePrefix
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{"cert-manager.io/cluster-issuer": "letsencrypt"}},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr.To("nginx"),
			Rules: []networkingv1.IngressRule{{Host: name + ".example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &pt, Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Number: 80}}}}},
			}}}},
		},
	}
}

func plainDeployment(name string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27"}}},
			},
		},
	}
}

func plainStatefulSet(name string) *appsv1.StatefulSet {
	labels := map[string]string{"app": name}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr.To[int32](3),
			ServiceName: name + "-headless",
			Selector:    &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Image: "postgres:17"}}},
			},
		},
	}
}

// sentTo reports how many reviews of each half an object got.
func sentTo(cp *controlPlane, ns, name, kind string) (mutating, validating int) {
	calls := cp.rec.to(ns, name)
	return len(calls[path(webhook.Mutating, kind)]), len(calls[path(webhook.Validating, kind)])
}

// TestMatchConditionsSkipPlainObjects: what the filter keeps away from the
// webhook, and what it must still send.
func TestMatchConditionsSkipPlainObjects(t *testing.T) {
	cp := apiserver(t)
	const ns = "filter-plain"
	cp.createNamespace(t, ns, "enforce")
	cp.rec.forget()

	t.Run("plain Service: not sent (create, update)", func(t *testing.T) {
		svc := plainService("plain")
		svc.Namespace = ns
		require.NoError(t, cp.client.Create(testCtx(t), svc))
		svc.Annotations["prometheus.io/port"] = "9090"
		require.NoError(t, cp.client.Update(testCtx(t), svc))
		m, v := sentTo(cp, ns, "plain", validators.KindService)
		assert.Zero(t, m, "mutating")
		assert.Zero(t, v, "validating")
	})

	t.Run("removing ClientIP is judged: the old object matched", func(t *testing.T) {
		svc := plainService("was-sticky")
		svc.Namespace = ns
		svc.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
		require.NoError(t, cp.client.Create(testCtx(t), svc))
		cp.rec.forget()
		svc.Spec.SessionAffinity = corev1.ServiceAffinityNone
		svc.Spec.SessionAffinityConfig = nil
		require.NoError(t, cp.client.Update(testCtx(t), svc, client.DryRunAll))
		m, v := sentTo(cp, ns, "was-sticky", validators.KindService)
		assert.Zero(t, m, "nothing left to fill a default on")
		assert.Equal(t, 1, v, "validating")
	})

	t.Run("ClientIP with its own timeout: nothing to fill, still judged", func(t *testing.T) {
		svc := plainService("own-timeout")
		svc.Namespace = ns
		svc.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
		svc.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To[int32](3600)}}
		require.NoError(t, cp.client.Create(testCtx(t), svc, client.DryRunAll))
		m, v := sentTo(cp, ns, "own-timeout", validators.KindService)
		assert.Zero(t, m, "SVC-008 keeps a timeout other than the API default")
		assert.Equal(t, 1, v)

		svc = plainService("api-default-timeout")
		svc.Namespace = ns
		svc.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
		require.NoError(t, cp.client.Create(testCtx(t), svc, client.DryRunAll))
		m, v = sentTo(cp, ns, "api-default-timeout", validators.KindService)
		assert.Equal(t, 1, m, "the API server wrote 10800; the policy's default may differ")
		assert.Equal(t, 1, v)
	})

	t.Run("plain Ingress: validating only", func(t *testing.T) {
		require.NoError(t, cp.client.Create(testCtx(t), withNS(plainIngress("plain"), ns), client.DryRunAll))
		m, v := sentTo(cp, ns, "plain", validators.KindIngress)
		assert.Zero(t, m, "stickyguard fills no Ingress defaults")
		assert.Equal(t, 1, v, "NGX-023/NGX-024 can fire on an Ingress without annotations")
	})

	t.Run("plain Deployment: always sent", func(t *testing.T) {
		require.NoError(t, cp.client.Create(testCtx(t), withNS(plainDeployment("plain"), ns), client.DryRunAll))
		m, v := sentTo(cp, ns, "plain", validators.KindDeployment)
		assert.Equal(t, 1, m, "DEP-001 depends on the Services selecting the pods, which CEL cannot see")
		assert.Equal(t, 1, v)
	})

	t.Run("plain StatefulSet: always sent, like a Deployment", func(t *testing.T) {
		require.NoError(t, cp.client.Create(testCtx(t), withNS(plainStatefulSet("plain-sts"), ns), client.DryRunAll))
		m, v := sentTo(cp, ns, "plain-sts", validators.KindStatefulSet)
		assert.Equal(t, 1, m, "DEP-001 depends on the Services selecting the pods, which CEL cannot see")
		assert.Equal(t, 1, v)
		md, vd := sentTo(cp, ns, "plain-sts", validators.KindDeployment)
		assert.Zero(t, md+vd, "a StatefulSet reaches only the StatefulSet paths")
	})

	t.Run("audit namespace: one validating review", func(t *testing.T) {
		const audit = "filter-audit"
		cp.createNamespace(t, audit, "audit")
		svc := plainService("sticky")
		svc.Namespace = audit
		svc.Spec.Type = corev1.ServiceTypeLoadBalancer
		require.NoError(t, cp.client.Create(testCtx(t), svc, client.DryRunAll))
		m, v := sentTo(cp, audit, "sticky", validators.KindService)
		assert.Equal(t, 1, m)
		assert.Equal(t, 1, v, "the enforce and audit entries select disjoint namespaces")
	})

	t.Run("namespace without the label: nothing sent", func(t *testing.T) {
		const off = "filter-off"
		cp.createNamespace(t, off, "")
		svc := plainService("sticky")
		svc.Namespace = off
		svc.Spec.Type = corev1.ServiceTypeLoadBalancer
		require.NoError(t, cp.client.Create(testCtx(t), svc, client.DryRunAll))
		m, v := sentTo(cp, off, "sticky", validators.KindService)
		assert.Zero(t, m+v)
		require.NoError(t, cp.client.Create(testCtx(t), withNS(plainStatefulSet("sts"), off), client.DryRunAll))
		m, v = sentTo(cp, off, "sts", validators.KindStatefulSet)
		assert.Zero(t, m+v, "StatefulSets of namespaces that did not opt in never reach the webhook")
	})
}

func withNS[T client.Object](o T, ns string) T {
	o.SetNamespace(ns)
	return o
}
