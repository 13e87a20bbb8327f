package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stickyguard/stickyguard/engine"
	"github.com/stickyguard/stickyguard/validators"
)

// ErrCacheNotSynced is returned by CacheLookup until every informer has
// synced; the review then fails with 500 (the failure policy decides).
var ErrCacheNotSynced = errors.New("the informer cache has not synced yet")

// CacheLookup is the live engine.Lookup, backed by the informers' stores
// and stickyguard's indexes on them. It never calls the API server and
// never copies: objects it returns are the cache's own and must not be
// modified (the engine only reads them).
type CacheLookup struct {
	services, deployments, sets, ingresses, classes toolscache.Indexer
	// backendConfigs is nil when BackendConfigs are not watched.
	backendConfigs toolscache.Indexer
	// gateway holds the Gateway API and mesh kinds (nil: not tracked).
	gateway gatewayStores
	// counts (Deployments) and setCounts (StatefulSets) say how many
	// workloads carry each pod label pair, so a Service's lookup starts
	// from its rarest selector pair.
	counts, setCounts *pairCounts
	informers         []cacheInformer
	synced            atomic.Bool
}

// cacheInformer is what CacheLookup needs to know whether it has synced.
type cacheInformer interface{ HasSynced() bool }

var _ engine.Lookup = (*CacheLookup)(nil)

// indexedInformer is an informer whose store can be read directly; every
// informer of controller-runtime's informer cache is one.
type indexedInformer interface {
	GetIndexer() toolscache.Indexer
}

// NewCacheLookup adds stickyguard's indexes and event handler to the
// informers of Services, Deployments, StatefulSets, Ingresses and
// IngressClasses (and Namespaces, for CacheModes) on c (which must not be
// started yet) and
// returns the Lookup reading their stores. With backendConfigs it also
// watches GKE BackendConfigs (see WatchBackendConfigs). gateway, when not
// nil, holds the Gateway API and mesh kinds; it is not part of readiness.
func NewCacheLookup(ctx context.Context, c cache.Cache, backendConfigs bool, gateway *GatewayCache) (*CacheLookup, error) {
	l := &CacheLookup{counts: newPairCounts(), setCounts: newPairCounts()}
	if gateway != nil {
		l.gateway = gateway
	}
	add := func(obj client.Object, indexers toolscache.Indexers) (toolscache.Indexer, cache.Informer, error) {
		inf, err := c.GetInformer(ctx, obj, cache.BlockUntilSynced(false))
		if err != nil {
			return nil, nil, fmt.Errorf("creating the %T informer: %w", obj, err)
		}
		if len(indexers) > 0 {
			if err := inf.AddIndexers(indexers); err != nil {
				return nil, nil, fmt.Errorf("indexing %T: %w", obj, err)
			}
		}
		ii, ok := inf.(indexedInformer)
		if !ok {
			return nil, nil, fmt.Errorf("the %T informer (%T) does not expose its store", obj, inf)
		}
		l.informers = append(l.informers, inf)
		return ii.GetIndexer(), inf, nil
	}
	var err error
	var deployments, sets cache.Informer
	if l.services, _, err = add(&corev1.Service{}, serviceIndexers()); err != nil {
		return nil, err
	}
	if l.deployments, deployments, err = add(&appsv1.Deployment{}, workloadIndexers()); err != nil {
		return nil, err
	}
	if l.sets, sets, err = add(&appsv1.StatefulSet{}, workloadIndexers()); err != nil {
		return nil, err
	}
	if l.ingresses, _, err = add(&networkingv1.Ingress{}, ingressIndexers()); err != nil {
		return nil, err
	}
	if l.classes, _, err = add(&networkingv1.IngressClass{}, nil); err != nil {
		return nil, err
	}
	if _, _, err = add(&corev1.Namespace{}, nil); err != nil { // read by CacheModes
		return nil, err
	}
	if backendConfigs {
		if l.backendConfigs, _, err = add(newBackendConfig(), nil); err != nil {
			return nil, err
		}
	}
	reg, err := deployments.AddEventHandler(l.counts.handler())
	if err != nil {
		return nil, fmt.Errorf("counting Deployment labels: %w", err)
	}
	setReg, err := sets.AddEventHandler(l.setCounts.handler())
	if err != nil {
		return nil, fmt.Errorf("counting StatefulSet labels: %w", err)
	}
	l.informers = append(l.informers, reg, setReg)
	return l, nil
}

// Synced reports whether every informer has synced. Once true it stays true.
func (l *CacheLookup) Synced() bool {
	if l.synced.Load() {
		return true
	}
	for _, inf := range l.informers {
		if !inf.HasSynced() {
			return false
		}
	}
	l.synced.Store(true)
	return true
}

// ReadyCheck is a readiness check: ready once the cache has synced.
func (l *CacheLookup) ReadyCheck(_ *http.Request) error {
	return l.check()
}

func (l *CacheLookup) check() error {
	if !l.Synced() {
		return ErrCacheNotSynced
	}
	return nil
}

// get reads one object by its store key; a missing object is (nil, nil).
func get[T any](l *CacheLookup, store toolscache.Indexer, key string) (T, error) {
	var zero T
	if err := l.check(); err != nil {
		return zero, err
	}
	item, ok, err := store.GetByKey(key)
	if err != nil || !ok {
		return zero, err
	}
	o, ok := item.(T)
	if !ok {
		return zero, fmt.Errorf("the cache holds a %T under %s", item, key)
	}
	return o, nil
}

// byIndex returns the objects of one index bucket.
func byIndex[T any](store toolscache.Indexer, index, value string) ([]T, error) {
	items, err := store.ByIndex(index, value)
	if err != nil {
		return nil, fmt.Errorf("reading the cache index %s: %w", index, err)
	}
	out := make([]T, 0, len(items))
	for _, item := range items {
		o, ok := item.(T)
		if !ok {
			return nil, fmt.Errorf("the cache index %s holds a %T", index, item)
		}
		out = append(out, o)
	}
	return out, nil
}

// IngressClass implements engine.Lookup.
func (l *CacheLookup) IngressClass(name string) (*networkingv1.IngressClass, error) {
	return get[*networkingv1.IngressClass](l, l.classes, name)
}

// DefaultIngressClass implements engine.Lookup: the first IngressClass by
// name that is annotated as the default (like engine.Index).
func (l *CacheLookup) DefaultIngressClass() (*networkingv1.IngressClass, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	var best *networkingv1.IngressClass
	for _, item := range l.classes.List() {
		ic, ok := item.(*networkingv1.IngressClass)
		if ok && ic.Annotations[networkingv1.AnnotationIsDefaultIngressClass] == "true" && (best == nil || ic.Name < best.Name) {
			best = ic
		}
	}
	return best, nil
}

// Service implements engine.Lookup.
func (l *CacheLookup) Service(namespace, name string) (*corev1.Service, error) {
	return get[*corev1.Service](l, l.services, nsKey(namespace, name))
}

// ServicesSelecting implements engine.Lookup. A Service selects the pods
// exactly when its selector equals the pod labels restricted to the
// selector's keys. So for each selector shape (key set) in the namespace
// that the pod labels have, one exact-selector hit returns exactly the
// Services selecting them: the cost depends on the number of shapes (one
// or two in practice), not on the number of Services.
func (l *CacheLookup) ServicesSelecting(namespace string, podLabels map[string]string) ([]*corev1.Service, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	if len(podLabels) == 0 {
		return nil, nil
	}
	prefix := namespace + "/"
	var out []*corev1.Service
	for _, v := range l.services.ListIndexFuncValues(indexServiceSelectorKeys) {
		keys, ok := strings.CutPrefix(v, prefix)
		if !ok {
			continue
		}
		sel := make(map[string]string, strings.Count(keys, ",")+1)
		for _, k := range strings.Split(keys, ",") {
			val, has := podLabels[k]
			if !has {
				sel = nil
				break
			}
			sel[k] = val
		}
		if sel == nil {
			continue
		}
		full, _ := canonicalSelector(sel)
		svcs, err := byIndex[*corev1.Service](l.services, indexServiceSelector, prefix+full)
		if err != nil {
			return nil, err
		}
		for _, s := range svcs {
			if validators.SelectorMatches(s.Spec.Selector, podLabels) {
				out = append(out, s)
			}
		}
	}
	slices.SortFunc(out, func(a, b *corev1.Service) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// DeploymentsSelectedBy implements engine.Lookup: every selected Deployment
// carries every pair of the selector, so one index hit on the selector's
// rarest pair (by the live counts) finds them all; the whole selector is
// then checked.
func (l *CacheLookup) DeploymentsSelectedBy(namespace string, selector map[string]string) ([]*appsv1.Deployment, error) {
	return selectedBy(l, l.deployments, l.counts, namespace, selector,
		func(d *appsv1.Deployment) (string, map[string]string) { return d.Name, d.Spec.Template.Labels })
}

// StatefulSetsSelectedBy implements engine.Lookup, like DeploymentsSelectedBy.
func (l *CacheLookup) StatefulSetsSelectedBy(namespace string, selector map[string]string) ([]*appsv1.StatefulSet, error) {
	return selectedBy(l, l.sets, l.setCounts, namespace, selector,
		func(s *appsv1.StatefulSet) (string, map[string]string) { return s.Name, s.Spec.Template.Labels })
}

// selectedBy reads the workloads of one kind whose pod template labels the
// selector selects, sorted by name, starting from the selector's rarest
// pair in store's pod template label index.
func selectedBy[T any](l *CacheLookup, store toolscache.Indexer, counts *pairCounts, namespace string, selector map[string]string,
	of func(T) (name string, podLabels map[string]string)) ([]T, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	if len(selector) == 0 {
		return nil, nil
	}
	best, bestN := "", -1
	for k, v := range selector {
		p := pair(k, v)
		n := counts.get(namespace, p)
		if bestN < 0 || n < bestN || (n == bestN && p < best) {
			best, bestN = p, n
		}
	}
	// A count of 0 may lag the store by a moment: read the bucket anyway.
	objs, err := byIndex[T](store, indexPodTemplateLabels, nsKey(namespace, best))
	if err != nil {
		return nil, err
	}
	out := objs[:0]
	for _, o := range objs {
		if _, labels := of(o); validators.SelectorMatches(selector, labels) {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b T) int {
		an, _ := of(a)
		bn, _ := of(b)
		return strings.Compare(an, bn)
	})
	return out, nil
}

// IngressesForService implements engine.Lookup.
func (l *CacheLookup) IngressesForService(namespace, service string) ([]*networkingv1.Ingress, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	return l.ingressesBy(indexIngressBackendSvc, nsKey(namespace, service))
}

// IngressesForHost implements engine.Lookup.
func (l *CacheLookup) IngressesForHost(namespace, host string) ([]*networkingv1.Ingress, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	return l.ingressesBy(indexIngressHost, nsKey(namespace, host))
}

// ingressesBy reads one bucket of an Ingress index, sorted by name.
func (l *CacheLookup) ingressesBy(index, key string) ([]*networkingv1.Ingress, error) {
	out, err := byIndex[*networkingv1.Ingress](l.ingresses, index, key)
	if err != nil || len(out) == 0 {
		return nil, err
	}
	slices.SortFunc(out, func(a, b *networkingv1.Ingress) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// BackendConfigs implements engine.Lookup. When BackendConfigs are not
// watched (the CRD is not served, or RBAC does not allow it) it returns nil:
// "not tracked", so no reference is reported missing.
func (l *CacheLookup) BackendConfigs(namespace string) (map[string]*validators.BackendConfig, error) {
	if l.backendConfigs == nil {
		return nil, nil
	}
	if err := l.check(); err != nil {
		return nil, err
	}
	return backendConfigsIn(l.backendConfigs, namespace)
}
