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
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stickyguard/stickyguard/engine"
	"github.com/stickyguard/stickyguard/internal/sticky"
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
// randomCluster draws Services, Deployments, StatefulSets, Ingresses and
// IngressClasses in two namespaces, and the reference index over them.
func randomCluster(r *rand.Rand, hosts []string) (*engine.Index, []client.Object) {
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
			sts := statefulSet(ns, fmt.Sprintf("sts-%02d", i))
			sts.Spec.Template.Labels = randomLabels(r, 4)
			add(sts)
			ing := ingress(ns, fmt.Sprintf("ing-%02d", i), fmt.Sprintf("svc-%02d", r.IntN(10)))
			if i%3 == 0 {
				ing.Spec.DefaultBackend = &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: fmt.Sprintf("svc-%02d", r.IntN(10))}}
			}
			// Random hosts, a rule without a host, and a rule without HTTP
			// (which serves no host).
			ing.Spec.Rules[0].Host = hosts[r.IntN(len(hosts))]
			switch i % 4 {
			case 1:
				second := *ing.Spec.Rules[0].DeepCopy()
				second.Host = hosts[r.IntN(len(hosts))]
				ing.Spec.Rules = append(ing.Spec.Rules, second)
			case 2:
				ing.Spec.Rules = append(ing.Spec.Rules, networkingv1.IngressRule{Host: "no-http.example.com"})
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
	return idx, objs
}

func TestCacheLookupMatchesIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	hosts := []string{"", "a.example.com", "b.example.com", "c.example.com"}
	idx, objs := randomCluster(r, hosts)
	live := storeLookup(t, objs...)
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
		case []*appsv1.StatefulSet:
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
	matches, stsMatches := 0, 0
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

		wantSts, err := idx.StatefulSetsSelectedBy(ns, labels)
		require.NoError(t, err)
		gotSts, err := live.StatefulSetsSelectedBy(ns, labels)
		require.NoError(t, err)
		assert.Equal(t, names(wantSts), names(gotSts), "StatefulSetsSelectedBy(%s, %v)", ns, labels)
		stsMatches += len(wantSts)

		svc := fmt.Sprintf("svc-%02d", r.IntN(12))
		wantI, err := idx.IngressesForService(ns, svc)
		require.NoError(t, err)
		gotI, err := live.IngressesForService(ns, svc)
		require.NoError(t, err)
		assert.Equal(t, names(wantI), names(gotI), "IngressesForService(%s, %s)", ns, svc)

		host := append(hosts, "no-http.example.com")[r.IntN(len(hosts)+1)]
		wantH, err := idx.IngressesForHost(ns, host)
		require.NoError(t, err)
		gotH, err := live.IngressesForHost(ns, host)
		require.NoError(t, err)
		assert.Equal(t, names(wantH), names(gotH), "IngressesForHost(%s, %q)", ns, host)
		if host == "no-http.example.com" {
			assert.Empty(t, gotH, "a rule without HTTP serves no host")
		}
		matches += len(wantH)

		wantS, _ := idx.Service(ns, svc)
		gotS, err := live.Service(ns, svc)
		require.NoError(t, err)
		assert.Equal(t, wantS == nil, gotS == nil)
	}
	assert.Greater(t, matches, 100, "the random data should produce matches")
	assert.Greater(t, stsMatches, 20, "the random data should select StatefulSets")

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

// storeLookup is a CacheLookup over plain stores holding objs, stripped
// and indexed the way the informers store them.
func storeLookup(t *testing.T, objs ...client.Object) *CacheLookup {
	t.Helper()
	l := &CacheLookup{
		services:    toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, serviceIndexers()),
		deployments: toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, workloadIndexers()),
		sets:        toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, workloadIndexers()),
		ingresses:   toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, ingressIndexers()),
		classes:     toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{}),
		counts:      newPairCounts(),
		setCounts:   newPairCounts(),
	}
	h, setH := l.counts.handler(), l.setCounts.handler()
	for _, o := range objs {
		o = o.DeepCopyObject().(client.Object)
		_, err := StripForCache(o)
		require.NoError(t, err)
		switch o.(type) {
		case *corev1.Service:
			require.NoError(t, l.services.Add(o))
		case *appsv1.Deployment:
			require.NoError(t, l.deployments.Add(o))
			h.OnAdd(o, true)
		case *appsv1.StatefulSet:
			require.NoError(t, l.sets.Add(o))
			setH.OnAdd(o, true)
		case *networkingv1.Ingress:
			require.NoError(t, l.ingresses.Add(o))
		case *networkingv1.IngressClass:
			require.NoError(t, l.classes.Add(o))
		default:
			t.Fatalf("no store for %T", o)
		}
	}
	return l
}

// TestDeploymentsSelectedByStartsFromTheRarestPair: with every Deployment
// sharing one pair, the lookup reads only the bucket of the rare pair (the
// counts follow updates and deletes).
func TestDeploymentsSelectedByStartsFromTheRarestPair(t *testing.T) {
	var objs []client.Object
	for i := 0; i < 50; i++ {
		d := deployment("a", fmt.Sprintf("dep-%02d", i))
		d.Spec.Template.Labels = map[string]string{"app.kubernetes.io/instance": "shop", "app.kubernetes.io/name": fmt.Sprintf("app-%02d", i)}
		objs = append(objs, d)
	}
	l := storeLookup(t, objs...)
	assert.Equal(t, 50, l.counts.get("a", "app.kubernetes.io/instance=shop"))
	assert.Equal(t, 1, l.counts.get("a", "app.kubernetes.io/name=app-07"))
	got, err := l.DeploymentsSelectedBy("a", map[string]string{"app.kubernetes.io/instance": "shop", "app.kubernetes.io/name": "app-07"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "dep-07", got[0].Name)

	h := l.counts.handler()
	old := objs[7].(*appsv1.Deployment)
	moved := old.DeepCopy()
	moved.Spec.Template.Labels["app.kubernetes.io/name"] = "renamed"
	h.OnUpdate(old, moved)
	assert.Zero(t, l.counts.get("a", "app.kubernetes.io/name=app-07"))
	assert.Equal(t, 1, l.counts.get("a", "app.kubernetes.io/name=renamed"))
	assert.Equal(t, 50, l.counts.get("a", "app.kubernetes.io/instance=shop"))
	h.OnDelete(toolscache.DeletedFinalStateUnknown{Key: "a/dep-07", Obj: moved})
	assert.Zero(t, l.counts.get("a", "app.kubernetes.io/name=renamed"))
	assert.Equal(t, 49, l.counts.get("a", "app.kubernetes.io/instance=shop"))
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
	s.Labels = map[string]string{"app": "b"}
	s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.1"}}
	out, err := StripForCache(s)
	require.NoError(t, err)
	assert.Nil(t, out.(*corev1.Service).ManagedFields)
	assert.Equal(t, map[string]string{"keep": "me"}, out.(*corev1.Service).Annotations, "rules read a neighbour's annotations")
	assert.Nil(t, out.(*corev1.Service).Labels)
	assert.Empty(t, out.(*corev1.Service).Status.LoadBalancer.Ingress)
	assert.NotEmpty(t, out.(*corev1.Service).Spec.Selector)

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{sticky.LabelMode: "enforce"}}}
	out, err = StripForCache(ns)
	require.NoError(t, err)
	assert.Equal(t, "enforce", out.(*corev1.Namespace).Labels[sticky.LabelMode], "the mode label is read from the cache")
	out, err = StripForCache("not an object")
	assert.NoError(t, err)
	assert.Equal(t, "not an object", out)

	// A Deployment keeps what the rules read from a cached backend.
	d := deployment("a", "web")
	d.Spec.Replicas = ptr(int32(4))
	pod := &d.Spec.Template.Spec
	pod.NodeName = "node-1"
	pod.NodeSelector = map[string]string{"kubernetes.io/os": "windows"}
	pod.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{}}
	pod.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{TopologyKey: "kubernetes.io/hostname"}}
	pod.Containers = []corev1.Container{{Name: "app", Image: "nginx", Env: []corev1.EnvVar{{Name: "A", Value: "b"}}}}
	d.Status.Replicas = 4
	want := d.DeepCopy()
	out, err = StripForCache(d)
	require.NoError(t, err)
	got := out.(*appsv1.Deployment)
	assert.Nil(t, got.Spec.Template.Spec.Containers)
	assert.Zero(t, got.Status.Replicas)
	assert.Equal(t, want.Name, got.Name)
	assert.Equal(t, want.Spec.Replicas, got.Spec.Replicas)
	assert.Equal(t, want.Spec.Selector, got.Spec.Selector)
	assert.Equal(t, want.Spec.Template.Labels, got.Spec.Template.Labels)
	assert.Equal(t, want.Spec.Template.Spec.NodeName, got.Spec.Template.Spec.NodeName)
	assert.Equal(t, want.Spec.Template.Spec.NodeSelector, got.Spec.Template.Spec.NodeSelector)
	assert.Equal(t, want.Spec.Template.Spec.Affinity, got.Spec.Template.Spec.Affinity)
	assert.Equal(t, want.Spec.Template.Spec.TopologySpreadConstraints, got.Spec.Template.Spec.TopologySpreadConstraints)
}

type notSynced struct{}

func (notSynced) HasSynced() bool { return false }

// TestStatefulSetCountsAreSeparate: StatefulSet label counts follow their
// own informer and do not mix with the Deployments'.
func TestStatefulSetCountsAreSeparate(t *testing.T) {
	d := deployment("a", "web")
	d.Spec.Template.Labels = map[string]string{"app": "web"}
	s := statefulSet("a", "db")
	s.Spec.Template.Labels = map[string]string{"app": "web", "role": "db"}
	l := storeLookup(t, d, s)
	assert.Equal(t, 1, l.counts.get("a", "app=web"))
	assert.Zero(t, l.counts.get("a", "role=db"))
	assert.Equal(t, 1, l.setCounts.get("a", "role=db"))
	got, err := l.StatefulSetsSelectedBy("a", map[string]string{"app": "web"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "db", got[0].Name)
	assert.Nil(t, got[0].Spec.Template.Spec.Containers, "the cache keeps a slim StatefulSet")

	h := l.setCounts.handler()
	h.OnDelete(toolscache.DeletedFinalStateUnknown{Key: "a/db", Obj: s})
	assert.Zero(t, l.setCounts.get("a", "role=db"))
	assert.Equal(t, 1, l.counts.get("a", "app=web"))
}
