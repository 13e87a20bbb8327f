package integration

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stickyguard/stickyguard/internal/sticky"
)

const annACKPersistence = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-persistence-timeout"

var seq atomic.Int64

// uniq makes names unique across tests sharing the control plane.
func uniq(prefix string) string { return fmt.Sprintf("%s-%d", prefix, seq.Add(1)) }

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func service(ns, name, app string, mut ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": app},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80}},
		},
	}
	for _, m := range mut {
		m(s)
	}
	return s
}

// stickyLB relies on ACK source-IP persistence at the load balancer.
func stickyLB(s *corev1.Service) {
	s.Spec.Type = corev1.ServiceTypeLoadBalancer
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	s.Annotations[annACKPersistence] = "1800"
}

// brokenSelector writes sessionAffinity under spec.selector (SVC-001).
func brokenSelector(s *corev1.Service) { s.Spec.Selector["sessionAffinity"] = "ClientIP" }

func deployment(ns, name, app string) *appsv1.Deployment {
	labels := map[string]string{"app": app}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(int32(3)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}},
			},
		},
	}
}

func ingress(ns, name, backend string, annotations map[string]string) *networkingv1.Ingress {
	pt := networkingv1.PathTypePrefix
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: annotations},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr("nginx"),
			Rules: []networkingv1.IngressRule{{
				Host: "shop.example.com",
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &pt, Backend: networkingv1.IngressBackend{
						Service: &networkingv1.IngressServiceBackend{Name: backend, Port: networkingv1.ServiceBackendPort{Number: 80}},
					}}},
				}},
			}},
		},
	}
}

func ptr[T any](v T) *T { return &v }

// requireInvalid asserts a 422 Invalid with exactly these causes (field ->
// rule ID in the message).
func requireInvalid(t *testing.T, err error, causes map[string]string) {
	t.Helper()
	require.Error(t, err)
	require.True(t, apierrors.IsInvalid(err), "want 422 Invalid, got %v", err)
	st, ok := err.(apierrors.APIStatus)
	require.True(t, ok)
	details := st.Status().Details
	require.NotNil(t, details)
	got := map[string]string{}
	for _, c := range details.Causes {
		got[c.Field] = c.Message
	}
	require.Len(t, got, len(causes), "%+v", details.Causes)
	for f, rule := range causes {
		assert.Contains(t, got[f], rule, "cause for %s", f)
	}
}

func hasPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

func noStickyguardWarnings(t *testing.T, list []string) {
	t.Helper()
	for _, w := range list {
		assert.False(t, strings.Contains(w, "stickyguard") || strings.Contains(w, "[audit]") ||
			strings.HasPrefix(w, "SVC-") || strings.HasPrefix(w, "DEP-"), "unexpected warning %q", w)
	}
}

func TestEnforceDeniesBrokenObjects(t *testing.T) {
	c, _ := newClient(t)
	// A good sticky Ingress passes.
	require.NoError(t, c.Create(ctx(t), ingress(nsEnforce, uniq("good"), "web", map[string]string{
		"nginx.ingress.kubernetes.io/affinity": "cookie", "nginx.ingress.kubernetes.io/session-cookie-name": "route"})))

	svc := service(nsEnforce, uniq("broken"), "web", brokenSelector)
	err := c.Create(ctx(t), svc)
	requireInvalid(t, err, map[string]string{"spec.selector[sessionAffinity]": "SVC-001"})
	assert.True(t, apierrors.IsNotFound(c.Get(ctx(t), client.ObjectKeyFromObject(svc), &corev1.Service{})))

	// ingress-nginx silently ignores "Cookie" (it wants "cookie").
	ing := ingress(nsEnforce, uniq("broken"), "web", map[string]string{"nginx.ingress.kubernetes.io/affinity": "Cookie"})
	requireInvalid(t, c.Create(ctx(t), ing), map[string]string{"metadata.annotations[nginx.ingress.kubernetes.io/affinity]": "NGX-001"})

	ing = ingress(nsEnforce, uniq("broken"), "web", map[string]string{"stickyguard.io/ignore": " "})
	requireInvalid(t, c.Create(ctx(t), ing), map[string]string{"metadata.annotations[stickyguard.io/ignore]": "SG-001"})

	dep := deployment(nsEnforce, uniq("broken"), "web")
	dep.Annotations = map[string]string{"stickyguard.io/ignore": ""}
	requireInvalid(t, c.Create(ctx(t), dep), map[string]string{"metadata.annotations[stickyguard.io/ignore]": "SG-001"})
}

func TestEnforceAdmitsGoodStickyServiceWithDefaults(t *testing.T) {
	c, w := newClient(t)
	svc := service(nsEnforce, uniq("sticky"), uniq("app"), stickyLB)
	require.NoError(t, c.Create(ctx(t), svc))
	assert.True(t, hasPrefix(w.take(), "SVC-005 spec.externalTrafficPolicy: set spec.externalTrafficPolicy=Local"))

	var got corev1.Service
	require.NoError(t, c.Get(ctx(t), client.ObjectKeyFromObject(svc), &got))
	assert.Equal(t, corev1.ServiceExternalTrafficPolicyLocal, got.Spec.ExternalTrafficPolicy)
	assert.NotZero(t, got.Spec.HealthCheckNodePort, "the API server allocated the Local health check port")
}

func TestAuditAdmitsUnchangedWithWarnings(t *testing.T) {
	c, w := newClient(t)
	svc := service(nsAudit, uniq("broken"), "web", brokenSelector)
	require.NoError(t, c.Create(ctx(t), svc), "audit never denies")
	ws := w.take()
	assert.True(t, hasPrefix(ws, "[audit] would deny SVC-001: spec.selector[sessionAffinity]: "), "%q", ws)
	var got corev1.Service
	require.NoError(t, c.Get(ctx(t), client.ObjectKeyFromObject(svc), &got))
	assert.Equal(t, "ClientIP", got.Spec.Selector["sessionAffinity"], "audit changes nothing")

	sticky := service(nsAudit, uniq("sticky"), uniq("app"), stickyLB)
	require.NoError(t, c.Create(ctx(t), sticky))
	ws = w.take()
	assert.Contains(t, ws, "[audit] would set spec.externalTrafficPolicy=Local (SVC-005)")
	require.NoError(t, c.Get(ctx(t), client.ObjectKeyFromObject(sticky), &got))
	assert.Equal(t, corev1.ServiceExternalTrafficPolicyCluster, got.Spec.ExternalTrafficPolicy, "audit does not patch")

	ing := ingress(nsAudit, uniq("broken"), "web", map[string]string{"nginx.ingress.kubernetes.io/affinity": "Cookie"})
	require.NoError(t, c.Create(ctx(t), ing))
	assert.True(t, hasPrefix(w.take(), "[audit] would deny NGX-001: metadata.annotations[nginx.ingress.kubernetes.io/affinity]: "))
	var gotIng networkingv1.Ingress
	require.NoError(t, c.Get(ctx(t), client.ObjectKeyFromObject(ing), &gotIng))
	assert.Equal(t, "Cookie", gotIng.Annotations["nginx.ingress.kubernetes.io/affinity"])
}

func TestNamespacesNotOptedInAreUntouched(t *testing.T) {
	c, w := newClient(t)
	for _, ns := range []string{nsPlain, "kube-system"} {
		broken := service(ns, uniq("broken"), "web", brokenSelector)
		require.NoError(t, c.Create(ctx(t), broken), ns)
		sticky := service(ns, uniq("sticky"), uniq("app"), stickyLB)
		require.NoError(t, c.Create(ctx(t), sticky), ns)
		var got corev1.Service
		require.NoError(t, c.Get(ctx(t), client.ObjectKeyFromObject(sticky), &got))
		assert.Equal(t, corev1.ServiceExternalTrafficPolicyCluster, got.Spec.ExternalTrafficPolicy, ns)
		noStickyguardWarnings(t, w.take())
	}
}

func TestServerSideDryRun(t *testing.T) {
	c, w := newClient(t)
	broken := service(nsEnforce, uniq("broken"), "web", brokenSelector)
	requireInvalid(t, c.Create(ctx(t), broken, client.DryRunAll), map[string]string{"spec.selector[sessionAffinity]": "SVC-001"})

	sticky := service(nsEnforce, uniq("sticky"), uniq("app"), stickyLB)
	require.NoError(t, c.Create(ctx(t), sticky, client.DryRunAll))
	assert.Equal(t, corev1.ServiceExternalTrafficPolicyLocal, sticky.Spec.ExternalTrafficPolicy, "the dry-run answer has the default")
	assert.True(t, hasPrefix(w.take(), "SVC-005 "))
	assert.True(t, apierrors.IsNotFound(c.Get(ctx(t), client.ObjectKeyFromObject(sticky), &corev1.Service{})), "nothing stored")
}

func TestUpdateWithDefaultsIsNotPatched(t *testing.T) {
	c, w := newClient(t)
	app := uniq("app")
	svc := service(nsEnforce, uniq("sticky"), app, stickyLB)
	require.NoError(t, c.Create(ctx(t), svc))
	dep := deployment(nsEnforce, uniq("web"), app)
	createWithSpread(t, c, dep)
	w.take()

	for _, obj := range []client.Object{svc, dep} {
		rv, gen := obj.GetResourceVersion(), obj.GetGeneration()
		require.NoError(t, c.Update(ctx(t), obj, client.DryRunAll))
		require.NoError(t, c.Update(ctx(t), obj))
		assert.Equal(t, rv, obj.GetResourceVersion(), "%T: a no-op update stays a no-op (no patch)", obj)
		assert.Equal(t, gen, obj.GetGeneration())
	}
	for _, s := range w.take() {
		assert.NotContains(t, s, ": set ", "no default was set again")
	}
}

// createWithSpread creates a Deployment once the server's cache knows the
// sticky Service that selects it (informers lag the API by milliseconds):
// dry runs until the answer has the anti-affinity, then the real create.
func createWithSpread(t *testing.T, c client.Client, dep *appsv1.Deployment) {
	t.Helper()
	var err error // no require inside a condition: it runs on another goroutine
	ok := assert.Eventually(t, func() bool {
		d := dep.DeepCopy()
		err = c.Create(ctx(t), d, client.DryRunAll)
		return err == nil && spreads(d)
	}, 10*time.Second, 50*time.Millisecond, "the Deployment never got anti-affinity")
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, c.Create(ctx(t), dep))
	require.True(t, spreads(dep), "%+v", dep.Spec.Template.Spec.Affinity)
}

func spreads(d *appsv1.Deployment) bool {
	a := d.Spec.Template.Spec.Affinity
	if a == nil || a.PodAntiAffinity == nil || len(a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) != 1 {
		return false
	}
	term := a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0]
	return term.Weight == 100 && term.PodAffinityTerm.TopologyKey == "kubernetes.io/hostname" &&
		term.PodAffinityTerm.LabelSelector != nil && term.PodAffinityTerm.LabelSelector.MatchLabels["app"] == d.Spec.Template.Labels["app"]
}

func TestDeploymentAfterStickyServiceGetsAntiAffinity(t *testing.T) {
	c, w := newClient(t)
	app := uniq("app")
	require.NoError(t, c.Create(ctx(t), service(nsEnforce, uniq("sticky"), app, stickyLB)))
	dep := deployment(nsEnforce, uniq("web"), app)
	createWithSpread(t, c, dep)
	assert.True(t, hasPrefix(w.take(), "DEP-001 spec.template.spec.affinity.podAntiAffinity: set"))

	var got appsv1.Deployment
	require.NoError(t, c.Get(ctx(t), client.ObjectKeyFromObject(dep), &got))
	assert.True(t, spreads(&got))

	// Without a sticky Service, nothing is added.
	plain := deployment(nsEnforce, uniq("plain"), uniq("app"))
	require.NoError(t, c.Create(ctx(t), plain))
	assert.Nil(t, plain.Spec.Template.Spec.Affinity)
}

// A sticky Service created after its Deployment warns about the pods that
// are not spread (SVC-012); the Deployment gets the default on its next write.
func TestStickyServiceAfterDeploymentWarns(t *testing.T) {
	c, w := newClient(t)
	app := uniq("app")
	dep := deployment(nsEnforce, uniq("web"), app)
	require.NoError(t, c.Create(ctx(t), dep))
	w.take()
	var err error // no require inside a condition: it runs on another goroutine
	assert.Eventually(t, func() bool {
		svc := service(nsEnforce, uniq("sticky"), app, stickyLB)
		err = c.Create(ctx(t), svc, client.DryRunAll)
		return err == nil && hasPrefix(w.take(), "SVC-012 ")
	}, 10*time.Second, 50*time.Millisecond, "no SVC-012 warning naming the Deployment")
	require.NoError(t, err)
}

func TestIgnoreAnnotationExempts(t *testing.T) {
	c, w := newClient(t)
	svc := service(nsEnforce, uniq("exempt"), "web", brokenSelector, stickyLB)
	svc.Annotations["stickyguard.io/ignore"] = "legacy app, ticket OPS-123"
	require.NoError(t, c.Create(ctx(t), svc))
	assert.Contains(t, w.take(),
		`stickyguard: this Service is exempt from stickyguard's rules by stickyguard.io/ignore; reason: "legacy app, ticket OPS-123"`)
	var got corev1.Service
	require.NoError(t, c.Get(ctx(t), client.ObjectKeyFromObject(svc), &got))
	assert.Equal(t, corev1.ServiceExternalTrafficPolicyCluster, got.Spec.ExternalTrafficPolicy, "exempt objects are not mutated")
}

// A namespace labelled a moment ago may not be in the informer cache yet;
// the server then reads it with one GET, so it is enforced at once.
func TestNewNamespaceIsEnforcedAtOnce(t *testing.T) {
	c, _ := newClient(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: uniq("fresh"), Labels: map[string]string{sticky.LabelMode: "enforce"}}}
	require.NoError(t, c.Create(ctx(t), ns))
	err := c.Create(ctx(t), service(ns.Name, "broken", "web", brokenSelector))
	requireInvalid(t, err, map[string]string{"spec.selector[sessionAffinity]": "SVC-001"})
}
