package webhook

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/stickyguard/stickyguard/webhook/engine"
)

// randomLabels draws a small label set from a small alphabet, so selectors
// overlap, nest and collide.
func randomLabels(r *rand.Rand, max int) map[string]string {
	keys := []string{"app", "tier", "team", "version"}
	vals := []string{"a", "b", "c"}
	n := r.IntN(max + 1)
	m := map[string]string{}
	for i := 0; i < n; i++ {
		m[keys[r.IntN(len(keys))]] = vals[r.IntN(len(vals))]
	}
	return m
}

// TestCacheLookupMatchesIndex checks the cache-backed Lookup against the
// reference semantics of engine.Index on random objects.
func TestCacheLookupMatchesIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	idx := engine.NewIndex()
	var objs []client.Object
	add := func(o client.Object) {
		objs = append(objs, o)
		idx.Put(o)
	}
	for _, ns := range []string{"a", "b"} {
		for i := 0; i < 40; i++ {
			add(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("svc-%02d", i)},
				Spec: corev1.ServiceSpec{Selector: randomLabels(r, 3)}})
			d := deployment(ns, fmt.Sprintf("dep-%02d", i))
			d.Spec.Template.Labels = randomLabels(r, 4)
			add(d)
			ing := ingress(ns, fmt.Sprintf("ing-%02d", i), fmt.Sprintf("svc-%02d", r.IntN(10)))
			if i%3 == 0 {
				ing.Spec.DefaultBackend = &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: fmt.Sprintf("svc-%02d", r.IntN(10))}}
			}
			add(ing)
		}
	}
	for i, def := range []bool{false, true, true} {
		ic := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("class-%d", 2-i)},
			Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}}
		if def {
			ic.Annotations = map[string]string{networkingv1.AnnotationIsDefaultIngressClass: "true"}
		}
		add(ic)
	}

	b := fake.NewClientBuilder().WithScheme(NewScheme()).WithObjects(objs...)
	for _, fi := range fieldIndexes() {
		b = b.WithIndex(fi.obj, fi.name, fi.fn)
	}
	live := &CacheLookup{reader: b.Build()}
	require.True(t, live.Synced())

	names := func(list any) []string {
		var out []string
		switch l := list.(type) {
		case []*corev1.Service:
			for _, o := range l {
				out = append(out, o.Name)
			}
		case []*appsv1.Deployment:
			for _, o := range l {
				out = append(out, o.Name)
			}
		case []*networkingv1.Ingress:
			for _, o := range l {
				out = append(out, o.Name)
			}
		}
		return out
	}
	matches := 0
	for i := 0; i < 300; i++ {
		ns := []string{"a", "b", "none"}[r.IntN(3)]
		labels := randomLabels(r, 4)

		want, err := idx.ServicesSelecting(ns, labels)
		require.NoError(t, err)
		got, err := live.ServicesSelecting(ns, labels)
		require.NoError(t, err)
		assert.Equal(t, names(want), names(got), "ServicesSelecting(%s, %v)", ns, labels)
		matches += len(want)

		wantD, err := idx.DeploymentsSelectedBy(ns, labels)
		require.NoError(t, err)
		gotD, err := live.DeploymentsSelectedBy(ns, labels)
		require.NoError(t, err)
		assert.Equal(t, names(wantD), names(gotD), "DeploymentsSelectedBy(%s, %v)", ns, labels)
		matches += len(wantD)

		svc := fmt.Sprintf("svc-%02d", r.IntN(12))
		wantI, err := idx.IngressesForService(ns, svc)
		require.NoError(t, err)
		gotI, err := live.IngressesForService(ns, svc)
		require.NoError(t, err)
		assert.Equal(t, names(wantI), names(gotI), "IngressesForService(%s, %s)", ns, svc)

		wantS, _ := idx.Service(ns, svc)
		gotS, err := live.Service(ns, svc)
		require.NoError(t, err)
		assert.Equal(t, wantS == nil, gotS == nil)
	}
	assert.Greater(t, matches, 100, "the random data should produce matches")

	def, err := live.DefaultIngressClass()
	require.NoError(t, err)
	wantDef, _ := idx.DefaultIngressClass()
	assert.Equal(t, wantDef.Name, def.Name)
	ic, err := live.IngressClass("class-0")
	require.NoError(t, err)
	assert.Equal(t, "class-0", ic.Name)
	ic, err = live.IngressClass("missing")
	require.NoError(t, err)
	assert.Nil(t, ic)
	bc, err := live.BackendConfigs("a")
	assert.NoError(t, err)
	assert.Nil(t, bc, "BackendConfigs are not tracked live")
}

func TestCacheLookupNotSynced(t *testing.T) {
	l := &CacheLookup{informers: []cacheInformer{notSynced{}}}
	_, err := l.Service("a", "b")
	assert.ErrorIs(t, err, ErrCacheNotSynced)
	_, err = l.ServicesSelecting("a", map[string]string{"a": "b"})
	assert.ErrorIs(t, err, ErrCacheNotSynced)
	_, err = l.DefaultIngressClass()
	assert.ErrorIs(t, err, ErrCacheNotSynced)
	assert.Error(t, l.ReadyCheck(nil))
}

func TestStripForCache(t *testing.T) {
	s := service("a", "b")
	s.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	s.Annotations = map[string]string{lastApplied: "{...}", "keep": "me"}
	out, err := StripForCache(s)
	require.NoError(t, err)
	assert.Nil(t, out.(*corev1.Service).ManagedFields)
	assert.Equal(t, map[string]string{"keep": "me"}, out.(*corev1.Service).Annotations)
	out, err = StripForCache("not an object")
	assert.NoError(t, err)
	assert.Equal(t, "not an object", out)
}

type notSynced struct{}

func (notSynced) HasSynced() bool { return false }
