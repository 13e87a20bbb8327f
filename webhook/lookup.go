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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stickyguard/stickyguard/validators"
	"github.com/stickyguard/stickyguard/webhook/engine"
)

// Field indexes on the informer cache. Each value is one "key=value" label
// pair (or one Service name), so a lookup is one index hit, not a scan of
// the namespace.
const (
	indexServiceSelector   = "stickyguard.io/service-selector-pair"
	indexDeploymentLabels  = "stickyguard.io/pod-template-label-pair"
	indexIngressBackendSvc = "stickyguard.io/ingress-backend-service"
)

// ErrCacheNotSynced is returned by CacheLookup until every informer has
// synced; the review then fails with 500 (the failure policy decides).
var ErrCacheNotSynced = errors.New("the informer cache has not synced yet")

// CachedObjects are the kinds stickyguard caches (RBAC: get, list, watch).
func CachedObjects() []client.Object {
	return []client.Object{
		&corev1.Service{}, &appsv1.Deployment{}, &networkingv1.Ingress{},
		&networkingv1.IngressClass{}, &corev1.Namespace{},
	}
}

// lastApplied is kubectl's copy of the whole object; no rule reads it.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// StripForCache is the cache's transform: it drops managedFields and the
// last-applied-configuration annotation, which no rule reads and which
// hold most of an object's bytes. It changes only the freshly decoded
// object the informer is about to store.
func StripForCache(in any) (any, error) {
	obj, err := meta.Accessor(in)
	if err != nil {
		return in, nil
	}
	if obj.GetManagedFields() != nil {
		obj.SetManagedFields(nil)
	}
	if a := obj.GetAnnotations(); a != nil {
		if _, ok := a[lastApplied]; ok {
			delete(a, lastApplied)
		}
	}
	return in, nil
}

func pair(k, v string) string { return k + "=" + v }

func pairs(m map[string]string) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, pair(k, v))
	}
	return out
}

// fieldIndex is one field index of the cache.
type fieldIndex struct {
	obj  client.Object
	name string
	fn   client.IndexerFunc
}

// fieldIndexes lists stickyguard's field indexes.
func fieldIndexes() []fieldIndex {
	return []fieldIndex{
		{&corev1.Service{}, indexServiceSelector, func(o client.Object) []string {
			return pairs(o.(*corev1.Service).Spec.Selector)
		}},
		{&appsv1.Deployment{}, indexDeploymentLabels, func(o client.Object) []string {
			return pairs(o.(*appsv1.Deployment).Spec.Template.Labels)
		}},
		{&networkingv1.Ingress{}, indexIngressBackendSvc, func(o client.Object) []string {
			return engine.BackendServiceNames(o.(*networkingv1.Ingress))
		}},
	}
}

// RegisterIndexes adds stickyguard's field indexes. Call it before the
// cache starts.
func RegisterIndexes(ctx context.Context, idx client.FieldIndexer) error {
	for _, fi := range fieldIndexes() {
		if err := idx.IndexField(ctx, fi.obj, fi.name, fi.fn); err != nil {
			return fmt.Errorf("indexing %T by %s: %w", fi.obj, fi.name, err)
		}
	}
	return nil
}

// CacheLookup is the live engine.Lookup, backed by the informer cache. It
// never calls the API server. Objects it returns are shared with the cache
// (no deep copy) and must not be modified; the engine only reads them.
type CacheLookup struct {
	reader    client.Reader
	informers []cacheInformer
	synced    atomic.Bool
}

// cacheInformer is the part of an informer CacheLookup needs.
type cacheInformer interface{ HasSynced() bool }

var _ engine.Lookup = (*CacheLookup)(nil)

// NewCacheLookup registers the indexes and the informers of CachedObjects
// on c (which must not be started yet) and returns the Lookup reading it.
func NewCacheLookup(ctx context.Context, c cache.Cache) (*CacheLookup, error) {
	if err := RegisterIndexes(ctx, c); err != nil {
		return nil, err
	}
	l := &CacheLookup{reader: c}
	for _, o := range CachedObjects() {
		inf, err := c.GetInformer(ctx, o, cache.BlockUntilSynced(false))
		if err != nil {
			return nil, fmt.Errorf("creating the %T informer: %w", o, err)
		}
		l.informers = append(l.informers, inf)
	}
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
	if !l.Synced() {
		return ErrCacheNotSynced
	}
	return nil
}

func (l *CacheLookup) check() error {
	if !l.Synced() {
		return ErrCacheNotSynced
	}
	return nil
}

// get reads one object; a missing object is (false, nil).
func (l *CacheLookup) get(key client.ObjectKey, obj client.Object) (bool, error) {
	if err := l.check(); err != nil {
		return false, err
	}
	if err := l.reader.Get(context.Background(), key, obj, client.UnsafeDisableDeepCopy); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// IngressClass implements engine.Lookup.
func (l *CacheLookup) IngressClass(name string) (*networkingv1.IngressClass, error) {
	ic := &networkingv1.IngressClass{}
	if ok, err := l.get(client.ObjectKey{Name: name}, ic); !ok {
		return nil, err
	}
	return ic, nil
}

// DefaultIngressClass implements engine.Lookup: the first IngressClass by
// name that is annotated as the default (like engine.Index).
func (l *CacheLookup) DefaultIngressClass() (*networkingv1.IngressClass, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	var list networkingv1.IngressClassList
	if err := l.reader.List(context.Background(), &list, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing IngressClasses from the cache: %w", err)
	}
	var best *networkingv1.IngressClass
	for i := range list.Items {
		ic := &list.Items[i]
		if ic.Annotations[networkingv1.AnnotationIsDefaultIngressClass] == "true" && (best == nil || ic.Name < best.Name) {
			best = ic
		}
	}
	return best, nil
}

// Service implements engine.Lookup.
func (l *CacheLookup) Service(namespace, name string) (*corev1.Service, error) {
	svc := &corev1.Service{}
	if ok, err := l.get(client.ObjectKey{Namespace: namespace, Name: name}, svc); !ok {
		return nil, err
	}
	return svc, nil
}

// ServicesSelecting implements engine.Lookup. A Service selects the pods
// only if every pair of its selector is among the pod labels, so it is
// indexed under each of its pairs: one index hit per pod label finds every
// candidate. A candidate is taken only at the hit for its smallest selector
// key (so it is seen once without a set) and only if its whole selector
// matches.
func (l *CacheLookup) ServicesSelecting(namespace string, podLabels map[string]string) ([]*corev1.Service, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	var out []*corev1.Service
	for k, v := range podLabels {
		var list corev1.ServiceList
		if err := l.reader.List(context.Background(), &list, client.InNamespace(namespace),
			client.MatchingFields{indexServiceSelector: pair(k, v)}, client.UnsafeDisableDeepCopy); err != nil {
			return nil, fmt.Errorf("listing Services from the cache: %w", err)
		}
		for i := range list.Items {
			s := &list.Items[i]
			if minKey(s.Spec.Selector) == k && validators.SelectorMatches(s.Spec.Selector, podLabels) {
				out = append(out, s)
			}
		}
	}
	slices.SortFunc(out, func(a, b *corev1.Service) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// DeploymentsSelectedBy implements engine.Lookup: one index hit on one pair
// of the selector (every selected Deployment has it), then the whole
// selector is checked.
func (l *CacheLookup) DeploymentsSelectedBy(namespace string, selector map[string]string) ([]*appsv1.Deployment, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	if len(selector) == 0 {
		return nil, nil
	}
	k := minKey(selector)
	var list appsv1.DeploymentList
	if err := l.reader.List(context.Background(), &list, client.InNamespace(namespace),
		client.MatchingFields{indexDeploymentLabels: pair(k, selector[k])}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing Deployments from the cache: %w", err)
	}
	var out []*appsv1.Deployment
	for i := range list.Items {
		d := &list.Items[i]
		if validators.SelectorMatches(selector, d.Spec.Template.Labels) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b *appsv1.Deployment) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// IngressesForService implements engine.Lookup.
func (l *CacheLookup) IngressesForService(namespace, service string) ([]*networkingv1.Ingress, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	var list networkingv1.IngressList
	if err := l.reader.List(context.Background(), &list, client.InNamespace(namespace),
		client.MatchingFields{indexIngressBackendSvc: service}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing Ingresses from the cache: %w", err)
	}
	if len(list.Items) == 0 {
		return nil, nil
	}
	out := make([]*networkingv1.Ingress, len(list.Items))
	for i := range list.Items {
		out[i] = &list.Items[i]
	}
	slices.SortFunc(out, func(a, b *networkingv1.Ingress) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// BackendConfigs implements engine.Lookup. GKE BackendConfigs are not
// watched live (a CRD that may not exist): nil means "not tracked", so no
// reference is reported missing.
func (l *CacheLookup) BackendConfigs(string) (map[string]*validators.BackendConfig, error) {
	return nil, nil
}

// minKey is the smallest key of a map ("" for an empty map).
func minKey(m map[string]string) string {
	first := true
	var min string
	for k := range m {
		if first || k < min {
			min, first = k, false
		}
	}
	return min
}
