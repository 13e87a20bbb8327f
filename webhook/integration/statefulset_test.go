package integration

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stickyguard/stickyguard/internal/sticky"
)

func statefulSet(ns, name, app string) *appsv1.StatefulSet {
	labels := map[string]string{"app": app}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr(int32(3)),
			ServiceName: name + "-headless",
			Selector:    &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}},
			},
		},
	}
}

// stsSpreads reports the preferred hostname term stickyguard adds.
func stsSpreads(s *appsv1.StatefulSet) bool {
	return spreads(&appsv1.Deployment{Spec: appsv1.DeploymentSpec{Template: s.Spec.Template}})
}

// createStatefulSetWithSpread creates a StatefulSet once the server's cache
// knows the sticky Service selecting it (informers lag the API by
// milliseconds): dry runs until the answer has the anti-affinity, then the
// real create.
func createStatefulSetWithSpread(t *testing.T, c client.Client, sts *appsv1.StatefulSet) {
	t.Helper()
	var err error // no require inside a condition: it runs on another goroutine
	ok := assert.Eventually(t, func() bool {
		s := sts.DeepCopy()
		err = c.Create(ctx(t), s, client.DryRunAll)
		return err == nil && stsSpreads(s)
	}, 10*time.Second, 50*time.Millisecond, "the StatefulSet never got anti-affinity")
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, c.Create(ctx(t), sts))
	require.True(t, stsSpreads(sts), "%+v", sts.Spec.Template.Spec.Affinity)
}

func TestStatefulSetAfterStickyServiceGetsAntiAffinity(t *testing.T) {
	c, w := newClient(t)
	app := uniq("app")
	require.NoError(t, c.Create(ctx(t), service(nsEnforce, uniq("sticky"), app, stickyLB)))
	sts := statefulSet(nsEnforce, uniq("chat"), app)
	createStatefulSetWithSpread(t, c, sts)
	assert.True(t, hasPrefix(w.take(), "DEP-001 spec.template.spec.affinity.podAntiAffinity: set"))

	var got appsv1.StatefulSet
	require.NoError(t, c.Get(ctx(t), client.ObjectKeyFromObject(sts), &got))
	assert.True(t, stsSpreads(&got), "stored with the anti-affinity")

	// Written again unchanged: nothing to add, no rollout warning.
	require.NoError(t, c.Update(ctx(t), &got))
	for _, warning := range w.take() {
		assert.NotRegexp(t, `^DEP-00[12] `, warning)
	}
}

// A sticky Service created after its StatefulSet warns about the pods that
// are not spread (SVC-012 names the StatefulSet).
func TestStickyServiceAfterStatefulSetWarns(t *testing.T) {
	c, w := newClient(t)
	app := uniq("app")
	sts := statefulSet(nsEnforce, uniq("chat"), app)
	require.NoError(t, c.Create(ctx(t), sts))
	w.take()
	var err error // no require inside a condition: it runs on another goroutine
	assert.Eventually(t, func() bool {
		err = c.Create(ctx(t), service(nsEnforce, uniq("sticky"), app, stickyLB), client.DryRunAll)
		return err == nil && hasPrefix(w.take(), "SVC-012 spec.selector: StatefulSets without hostname spread: "+sts.Name)
	}, 10*time.Second, 50*time.Millisecond, "no SVC-012 warning naming the StatefulSet")
	require.NoError(t, err)
}

// An ingress controller's own Local Service is not sticky: the StatefulSet
// behind it is stored as written.
func TestStatefulSetBehindNonStickyLocalServiceIsLeftAlone(t *testing.T) {
	c, w := newClient(t)
	app := uniq("app")
	local := service(nsEnforce, uniq("local"), app, func(s *corev1.Service) {
		s.Spec.Type = corev1.ServiceTypeLoadBalancer
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	})
	require.NoError(t, c.Create(ctx(t), local))
	// Fence: once a StatefulSet behind a sticky Service created after the
	// Local one gets the default, the cache has seen the Local one too.
	fence := uniq("app")
	require.NoError(t, c.Create(ctx(t), service(nsEnforce, uniq("fence"), fence, stickyLB)))
	createStatefulSetWithSpread(t, c, statefulSet(nsEnforce, uniq("fence"), fence))
	w.take()

	sts := statefulSet(nsEnforce, uniq("ingress"), app)
	require.NoError(t, c.Create(ctx(t), sts))
	assert.Nil(t, sts.Spec.Template.Spec.Affinity)
	for _, warning := range w.take() {
		assert.NotRegexp(t, `^DEP-00[13] `, warning)
	}
}

func TestEnforceDeniesBrokenStatefulSet(t *testing.T) {
	c, _ := newClient(t)
	sts := statefulSet(nsEnforce, uniq("db"), uniq("app"))
	sts.Annotations = map[string]string{sticky.AnnAntiAffinity: "hard"}
	err := c.Create(ctx(t), sts)
	requireInvalid(t, err, map[string]string{"metadata.annotations[stickyguard.io/anti-affinity]": "SG-002"})

	// Not opted in: the same object is stored untouched.
	sts = statefulSet(nsPlain, uniq("db"), uniq("app"))
	sts.Annotations = map[string]string{sticky.AnnAntiAffinity: "hard"}
	require.NoError(t, c.Create(ctx(t), sts))
}
