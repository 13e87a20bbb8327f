package engine

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/stickyguard/stickyguard/internal/sticky"
	"github.com/stickyguard/stickyguard/validators"
)

func statefulSet(name string, ann map[string]string) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", Annotations: ann},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr.To[int32](3),
			ServiceName: name + "-headless",
			Selector:    &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template:    corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}}},
		},
	}
}

func stsAntiAffinity(t *testing.T, r *Result) *corev1.PodAntiAffinity {
	t.Helper()
	a := r.Object.(*appsv1.StatefulSet).Spec.Template.Spec.Affinity
	if a == nil {
		return nil
	}
	return a.PodAntiAffinity
}

// stickyClientIPLocal is a sticky Service: ClientIP affinity through a
// LoadBalancer with externalTrafficPolicy Local.
func stickyClientIPLocal(name string) *corev1.Service {
	return lbService(name, nil, func(s *corev1.Service) {
		s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	})
}

func TestStatefulSetAntiAffinity(t *testing.T) {
	idx := NewIndex()
	idx.Put(stickyClientIPLocal("web"))
	// An ingress controller's own Service: Local for the client IP, not
	// sticky. Its pods are not stickyguard's business.
	idx.Put(lbService("ingress", nil, func(s *corev1.Service) {
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	}))
	t.Run("DEP-001 behind a sticky Service", func(t *testing.T) {
		r, err := Evaluate(statefulSet("web", nil), nil, Options{Lookup: idx})
		require.NoError(t, err)
		assert.Equal(t, []string{"DEP-001"}, rules(r.Mutations))
		assert.True(t, r.Allowed())
		paa := stsAntiAffinity(t, r)
		require.NotNil(t, paa)
		require.Len(t, paa.PreferredDuringSchedulingIgnoredDuringExecution, 1)
		term := paa.PreferredDuringSchedulingIgnoredDuringExecution[0]
		assert.Equal(t, int32(100), term.Weight)
		assert.Equal(t, corev1.LabelHostname, term.PodAffinityTerm.TopologyKey)
		assert.Equal(t, map[string]string{"app": "web"}, term.PodAffinityTerm.LabelSelector.MatchLabels)
		assert.NotContains(t, ruleIDs(r.Warnings), "DEP-002", "a create starts no rollout")
	})
	t.Run("behind a non-sticky Local Service: untouched", func(t *testing.T) {
		r, err := Evaluate(statefulSet("ingress", nil), nil, Options{Lookup: idx})
		require.NoError(t, err)
		assert.Empty(t, r.Mutations)
		assert.Nil(t, stsAntiAffinity(t, r))
		assert.NotContains(t, ruleIDs(r.Warnings), "DEP-001")
	})
	t.Run("apply twice: the second pass changes nothing", func(t *testing.T) {
		first, err := Mutate(statefulSet("web", nil), nil, Options{Lookup: idx})
		require.NoError(t, err)
		stored := first.Object.(*appsv1.StatefulSet)
		second, err := Evaluate(stored, stored, Options{Lookup: idx})
		require.NoError(t, err)
		assert.Empty(t, second.Mutations)
		assert.NotContains(t, ruleIDs(second.Warnings), "DEP-002", "nothing changed, so no rollout")
		patch, err := Diff(stored, second.Object)
		require.NoError(t, err)
		assert.Empty(t, patch)
	})
	t.Run("DEP-002 warns on update", func(t *testing.T) {
		r, err := Mutate(statefulSet("web", nil), statefulSet("web", nil), Options{Lookup: idx})
		require.NoError(t, err)
		assert.Contains(t, ruleIDs(r.Warnings), "DEP-002")
	})
	t.Run("annotation required", func(t *testing.T) {
		r, err := Mutate(statefulSet("web", map[string]string{sticky.AnnAntiAffinity: "required"}), nil, Options{Lookup: idx})
		require.NoError(t, err)
		assert.Len(t, stsAntiAffinity(t, r).RequiredDuringSchedulingIgnoredDuringExecution, 1)
	})
	t.Run("annotation disabled warns instead", func(t *testing.T) {
		r, err := Evaluate(statefulSet("web", map[string]string{sticky.AnnAntiAffinity: "disabled"}), nil, Options{Lookup: idx})
		require.NoError(t, err)
		assert.Empty(t, r.Mutations)
		assert.Contains(t, ruleIDs(r.Warnings), "DEP-001")
	})
	t.Run("SG-002 denies an unknown mode", func(t *testing.T) {
		r, err := Evaluate(statefulSet("web", map[string]string{sticky.AnnAntiAffinity: "soft"}), nil, Options{Lookup: idx})
		require.NoError(t, err)
		require.Len(t, r.Errors, 1)
		assert.Equal(t, "SG-002", validators.RuleOf(r.Errors[0]))
	})
	t.Run("exempt", func(t *testing.T) {
		r, err := Evaluate(statefulSet("web", map[string]string{sticky.AnnIgnore: "legacy, OPS-2"}), nil, Options{Lookup: idx})
		require.NoError(t, err)
		assert.Equal(t, "legacy, OPS-2", r.Exempt)
		assert.Empty(t, r.Mutations)
	})
}

// TestServiceSeesStatefulSets: SVC-012 on a sticky Service lists the
// unspread StatefulSets it selects.
func TestServiceSeesStatefulSets(t *testing.T) {
	idx := NewIndex()
	idx.Put(statefulSet("web", nil))
	svc := stickyClientIPLocal("web")
	r, err := Evaluate(svc, nil, Options{Lookup: idx})
	require.NoError(t, err)
	var msg string
	for _, w := range r.Warnings {
		if w.Rule == "SVC-012" {
			msg = w.String()
		}
	}
	assert.Contains(t, msg, "StatefulSets without hostname spread: web")

	_, err = Evaluate(svc, nil, Options{Lookup: failingStatefulSets{NewIndex()}})
	assert.ErrorIs(t, err, errCache, "a failed lookup is an error, never a finding")
}

// failingStatefulSets fails only the StatefulSet lookup.
type failingStatefulSets struct{ *Index }

func (failingStatefulSets) StatefulSetsSelectedBy(string, map[string]string) ([]*appsv1.StatefulSet, error) {
	return nil, errCache
}

// TestCheckDocumentsStatefulSet: offline, a StatefulSet in the same input as
// its sticky Service gets the default as a patch.
func TestCheckDocumentsStatefulSet(t *testing.T) {
	const input = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 600}}
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web, namespace: shop}
spec:
  replicas: 3
  serviceName: web-headless
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
`
	docs, err := ReadDocuments("in.yaml", strings.NewReader(input))
	require.NoError(t, err)
	require.Len(t, docs, 2)
	require.IsType(t, &appsv1.StatefulSet{}, docs[1].Object)
	checked, skipped, err := CheckDocuments(docs, Options{Offline: true})
	require.NoError(t, err)
	assert.Empty(t, skipped)
	require.Len(t, checked, 2)
	sts := checked[1]
	assert.True(t, sts.Allowed())
	assert.Equal(t, []string{"DEP-001"}, rules(sts.Result.Mutations))
	require.Len(t, sts.Patch, 1)
	assert.Equal(t, "add", sts.Patch[0].Operation)
	assert.Equal(t, "/spec/template/spec/affinity", sts.Patch[0].Path)
	assert.NotContains(t, ruleIDs(checked[0].Result.Warnings), "SVC-012", "the Service sees the StatefulSet as stickyguard would store it")
}
