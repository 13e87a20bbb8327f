package webhook

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/engine"
)

// Custom resources (Gateway API, Envoy Gateway, Istio, GKE) exist only where
// their CRDs are installed, and a CRD may be installed or removed while
// serve runs. GatewayCache caches the kinds routes and policies look up
// (cachedKinds) without ever holding up serve:
//
//   - Serve starts and turns ready whatever CRDs exist; these informers are
//     not part of readiness (a broken third-party CRD must not stop the
//     Service, Ingress and workload reviews).
//   - A kind is watched where the API server serves it (discovery) and
//     stickyguard may list and watch it cluster-wide (SelfSubjectAccessReview,
//     as for BackendConfigs). Elsewhere it is "not tracked": its lookups are
//     empty, as for a kind with no objects.
//   - CRDs installed later are picked up without a restart: a metadata-only
//     watch on CustomResourceDefinitions re-decides when one of ours
//     appears (retrying until the API server serves it), and every review of
//     a custom resource re-decides the kinds not watched (the reviewed kind
//     at once, since the API server serves it; the others at most every
//     recheckInterval). A removed CRD stops its informer.
//   - Before a review of a custom resource (Prepare), every watched informer
//     must have synced within prepareBudget; otherwise the review fails with
//     500 and the webhook's failurePolicy decides. A cache still filling
//     would answer "no siblings, no policies": a false allow or deny.
//   - The Gateway API bundle comes from the Gateway API CRDs' annotations
//     (bundle-version, channel); the HTTPRoute CRD's schema is fetched only
//     when those do not tell the sessionPersistence shape (a main build,
//     v0.0.0-dev, or a later release), once per CRD resourceVersion.
type GatewayCache struct {
	dyn    dynamic.Interface
	meta   metadata.Interface
	disco  discovery.DiscoveryInterface
	access AccessReviewer
	log    logr.Logger
	gauge  *prometheus.GaugeVec

	sem     chan struct{} // one decision round at a time
	kick    chan struct{} // a CRD of ours changed
	started chan struct{} // closed once Start has run its first decision

	mu    sync.RWMutex
	ctx   context.Context // the manager's, once started
	kinds map[string]*kindState
	crds  toolscache.SharedIndexInformer // nil when CRDs are not watched

	bundleMu  sync.Mutex
	bundleKey string // name/resourceVersion the bundle was computed from
	bundle    atomic.Pointer[apis.GatewayBundle]
}

// kindState is one cached kind: watched (informer set) or not, and why.
type kindState struct {
	kind     cachedKind
	informer toolscache.SharedIndexInformer
	stop     context.CancelFunc
	checked  time.Time // last decision that left it unwatched
	why      string
}

// Timing of GatewayCache.
const (
	// prepareBudget bounds what a review waits for the caches (webhook
	// timeoutSeconds is 5).
	prepareBudget = 3 * time.Second
	// recheckInterval is how often reviews re-decide kinds that were not
	// watched (the reviewed kind itself: recheckReviewed).
	recheckInterval = 30 * time.Second
	recheckReviewed = time.Second
	// crdRetryMax bounds the retries after a CRD of ours appeared until the
	// API server serves its kind.
	crdRetryMax = 30 * time.Second
	// decideTimeout bounds one decision round outside a review.
	decideTimeout = 30 * time.Second
)

// GatewayCacheOptions configure a GatewayCache.
type GatewayCacheOptions struct {
	Config *rest.Config
	// Access answers SelfSubjectAccessReviews; nil: a client on Config.
	Access   AccessReviewer
	Registry prometheus.Registerer // nil: no metrics
	Log      logr.Logger
}

// NewGatewayCache builds the cache; nothing runs until Start.
func NewGatewayCache(o GatewayCacheOptions) (*GatewayCache, error) {
	cfg := rest.CopyConfig(o.Config)
	// A review may need a dozen requests at once (discovery, access
	// reviews) when a CRD was just installed: don't queue them.
	cfg.QPS, cfg.Burst = 50, 100
	g := &GatewayCache{access: o.Access, log: o.Log, sem: make(chan struct{}, 1), kick: make(chan struct{}, 1),
		started: make(chan struct{}), kinds: map[string]*kindState{}}
	if g.log.GetSink() == nil {
		g.log = logr.Discard()
	}
	var err error
	if g.dyn, err = dynamic.NewForConfig(cfg); err != nil {
		return nil, err
	}
	if g.meta, err = metadata.NewForConfig(cfg); err != nil {
		return nil, err
	}
	if g.disco, err = discovery.NewDiscoveryClientForConfig(cfg); err != nil {
		return nil, err
	}
	if g.access == nil {
		if g.access, err = client.New(cfg, client.Options{Scheme: NewScheme()}); err != nil {
			return nil, err
		}
	}
	for _, k := range cachedKinds() {
		g.kinds[k.name()] = &kindState{kind: k, why: "not decided yet"}
	}
	g.bundle.Store(&apis.GatewayBundle{})
	if o.Registry != nil {
		gauge := prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "stickyguard_custom_resource_watched",
			Help: "1 when serve caches a custom resource kind (its CRD is served and RBAC allows list and watch), else 0, by group and kind.",
		}, []string{"group", "kind"})
		var regErr error
		g.gauge = register(o.Registry, gauge, &regErr)
		if regErr != nil {
			return nil, regErr
		}
		for _, k := range cachedKinds() {
			g.gauge.WithLabelValues(k.gvr.Group, k.kind).Set(0)
		}
	}
	return g, nil
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: every
// replica serves reviews.
func (g *GatewayCache) NeedLeaderElection() bool { return false }

// Start implements manager.Runnable: it watches CRDs, decides every kind
// once, then re-decides whenever a CRD of ours changes, until ctx ends
// (which stops every informer).
func (g *GatewayCache) Start(ctx context.Context) error {
	g.mu.Lock()
	g.ctx = ctx
	g.mu.Unlock()
	g.watchCRDs(ctx)
	g.decideBounded(ctx)
	close(g.started)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-g.kick:
			g.decideUntilServed(ctx)
		}
	}
}

// watchCRDs starts the metadata-only CRD informer where allowed.
func (g *GatewayCache) watchCRDs(ctx context.Context) {
	if ok, why := mayWatch(ctx, g.access, crdGVR); !ok {
		g.log.Info("not watching CustomResourceDefinitions: the Gateway API bundle is not read from the cluster and CRDs installed later are picked up on the next review", "reason", why)
		return
	}
	inf := metadatainformer.NewFilteredMetadataInformer(g.meta, crdGVR, metav1.NamespaceAll, 0, toolscache.Indexers{}, nil).Informer()
	if err := inf.SetTransform(slimCRD); err != nil {
		g.log.Error(err, "watching CustomResourceDefinitions")
		return
	}
	onCRD := func(o any, deleted bool) {
		if t, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
			o = t.Obj
		}
		m, ok := o.(*metav1.PartialObjectMetadata)
		if !ok {
			return
		}
		if deleted || m.DeletionTimestamp != nil {
			g.unwatch(m.Name, nil, "its CRD was deleted")
		}
		if _, ours := g.kinds[m.Name]; ours || isGatewayAPICRD(m.Name) {
			select {
			case g.kick <- struct{}{}:
			default:
			}
		}
	}
	_, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { onCRD(o, false) },
		UpdateFunc: func(_, o any) { onCRD(o, false) },
		DeleteFunc: func(o any) { onCRD(o, true) },
	})
	if err != nil {
		g.log.Error(err, "watching CustomResourceDefinitions")
		return
	}
	g.mu.Lock()
	g.crds = inf
	g.mu.Unlock()
	go inf.RunWithContext(ctx)
}

// decideUntilServed re-decides after a CRD change, retrying while a kind
// whose CRD exists is not served yet (a new CRD is served once established).
func (g *GatewayCache) decideUntilServed(ctx context.Context) {
	wait := 250 * time.Millisecond
	for deadline := time.Now().Add(crdRetryMax); ; wait *= 2 {
		g.decideBounded(ctx)
		if !g.crdWithoutInformer() || time.Now().After(deadline) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-g.kick:
		case <-time.After(wait):
		}
	}
}

// decideBounded decides every kind not watched, bounded in time (the
// requests it sends must not hang the loop).
func (g *GatewayCache) decideBounded(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, decideTimeout)
	defer cancel()
	if err := g.decide(ctx, nil, true); err != nil && ctx.Err() == nil {
		g.log.Error(err, "deciding which custom resources to cache; reviews will decide again")
	}
}

// crdWithoutInformer reports a kind whose CRD exists, not watched because
// it was not served (yet).
func (g *GatewayCache) crdWithoutInformer() bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.crds == nil {
		return false
	}
	for name, st := range g.kinds {
		if _, exists, _ := g.crds.GetStore().GetByKey(name); exists && st.informer == nil && strings.HasPrefix(st.why, "not served") {
			return true
		}
	}
	return false
}

// decide starts the informers of the kinds that are served and allowed and
// not watched yet. Without force, a kind is re-decided only when its last
// decision is older than recheckInterval (recheckReviewed for reviewed).
func (g *GatewayCache) decide(ctx context.Context, reviewed *cachedKind, force bool) error {
	select {
	case g.sem <- struct{}{}:
		defer func() { <-g.sem }()
	case <-ctx.Done():
		return ctx.Err()
	}
	g.mu.RLock()
	mctx := g.ctx
	var todo []*kindState
	for _, k := range cachedKinds() {
		st := g.kinds[k.name()]
		if st.informer != nil {
			continue
		}
		every := recheckInterval
		if reviewed != nil && k == *reviewed {
			every = recheckReviewed
		}
		if force || time.Since(st.checked) >= every {
			todo = append(todo, st)
		}
	}
	g.mu.RUnlock()
	if mctx == nil || len(todo) == 0 {
		return nil
	}
	served, err := g.served(ctx, todo)
	if err != nil {
		return err
	}
	for _, st := range todo {
		why := served[st.kind.name()]
		if why == "" {
			var ok bool
			ok, why = mayWatch(ctx, g.access, st.kind.gvr)
			if ok {
				g.start(mctx, st)
				continue
			}
		}
		g.mu.Lock()
		st.checked = time.Now()
		changed := st.why != why
		st.why = why
		g.mu.Unlock()
		if changed {
			g.log.Info("not caching "+st.kind.kind+" ("+st.kind.gvr.GroupVersion().String()+")", "reason", why)
		}
	}
	return nil
}

// served asks discovery, once per group version, which kinds are served:
// "" for served, else why not.
func (g *GatewayCache) served(ctx context.Context, states []*kindState) (map[string]string, error) {
	out := map[string]string{}
	byGV := map[schema.GroupVersion][]cachedKind{}
	for _, st := range states {
		gv := st.kind.gvr.GroupVersion()
		byGV[gv] = append(byGV[gv], st.kind)
	}
	for gv, kinds := range byGV {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		list, err := g.disco.ServerResourcesForGroupVersion(gv.String())
		for _, k := range kinds {
			switch {
			case apierrors.IsNotFound(err):
				out[k.name()] = "not served: the API server does not serve " + gv.String()
			case err != nil:
				out[k.name()] = "not served: cannot tell whether " + gv.String() + " is served (" + err.Error() + ")"
			case !slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == k.gvr.Resource }):
				out[k.name()] = "not served: " + gv.String() + " has no " + k.gvr.Resource
			case g.crdDeleting(k.name()):
				out[k.name()] = "not served: its CRD is being deleted"
			default:
				out[k.name()] = ""
			}
		}
	}
	return out, nil
}

// crdDeleting reports whether the CRD watch saw the CRD marked for
// deletion (discovery still serves it until its objects are gone).
func (g *GatewayCache) crdDeleting(name string) bool {
	g.mu.RLock()
	crds := g.crds
	g.mu.RUnlock()
	if crds == nil {
		return false
	}
	o, ok, _ := crds.GetStore().GetByKey(name)
	m, isMeta := o.(*metav1.PartialObjectMetadata)
	return ok && isMeta && m.DeletionTimestamp != nil
}

// start runs a kind's informer under the manager's context.
func (g *GatewayCache) start(mctx context.Context, st *kindState) {
	inf := dynamicinformer.NewFilteredDynamicInformer(g.dyn, st.kind.gvr, metav1.NamespaceAll, 0, indexersFor(st.kind), nil).Informer()
	if err := inf.SetTransform(toCachedObject); err != nil {
		g.log.Error(err, "caching "+st.kind.kind)
		return
	}
	// A kind that is no longer served (its CRD was removed, and the CRD
	// watch is not there to say so) stops its informer rather than
	// failing every review that waits for it.
	name := st.kind.name()
	err := inf.SetWatchErrorHandlerWithContext(func(ctx context.Context, r *toolscache.Reflector, err error) {
		if apierrors.IsNotFound(err) {
			go g.unwatch(name, inf, "no longer served")
			return
		}
		toolscache.DefaultWatchErrorHandler(ctx, r, err)
	})
	if err != nil {
		g.log.Error(err, "caching "+st.kind.kind)
		return
	}
	ictx, cancel := context.WithCancel(mctx)
	g.mu.Lock()
	st.informer, st.stop, st.why = inf, cancel, ""
	g.mu.Unlock()
	go inf.RunWithContext(ictx)
	if g.gauge != nil {
		g.gauge.WithLabelValues(st.kind.gvr.Group, st.kind.kind).Set(1)
	}
	g.log.Info("caching "+st.kind.kind+" ("+st.kind.gvr.GroupVersion().String()+")", "crd", st.kind.name())
}

// unwatch stops a kind's informer (its CRD is gone), if it is still only's
// (nil: whichever runs); the next decision starts it again if the CRD comes
// back.
func (g *GatewayCache) unwatch(name string, only toolscache.SharedIndexInformer, why string) {
	g.mu.Lock()
	st, ok := g.kinds[name]
	if !ok || st.informer == nil || (only != nil && st.informer != only) {
		g.mu.Unlock()
		return
	}
	st.stop()
	st.informer, st.stop, st.why, st.checked = nil, nil, why, time.Time{}
	g.mu.Unlock()
	if g.gauge != nil {
		g.gauge.WithLabelValues(st.kind.gvr.Group, st.kind.kind).Set(0)
	}
	g.log.Info("stopped caching "+st.kind.kind, "reason", why)
}

// Prepare makes the caches ready for a review of a custom resource: the
// kinds not watched are re-decided (the reviewed kind at once), every
// watched informer must sync and the bundle be known within prepareBudget.
func (g *GatewayCache) Prepare(ctx context.Context, reviewed schema.GroupKind) error {
	ctx, cancel := context.WithTimeout(ctx, prepareBudget)
	defer cancel()
	select {
	case <-g.started:
	case <-ctx.Done():
		return errors.New("the cache of custom resources has not started yet")
	}
	var rk *cachedKind
	for _, k := range cachedKinds() {
		if k.gvk().GroupKind() == reviewed {
			rk = &k
		}
	}
	if err := g.decide(ctx, rk, false); err != nil {
		return fmt.Errorf("deciding which custom resources to cache: %w", err)
	}
	if err := g.waitSynced(ctx); err != nil {
		return err
	}
	return g.updateBundle(ctx)
}

// waitSynced waits until every watched informer (and the CRD informer)
// has synced, or ctx ends.
func (g *GatewayCache) waitSynced(ctx context.Context) error {
	for {
		pending := g.unsynced()
		if len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %s (custom resources)", ErrCacheNotSynced, strings.Join(pending, ", "))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (g *GatewayCache) unsynced() []string {
	g.mu.RLock()
	defer g.mu.RUnlock()
	var out []string
	if g.crds != nil && !g.crds.HasSynced() {
		out = append(out, "customresourcedefinitions")
	}
	for _, st := range g.kinds {
		if st.informer != nil && !st.informer.HasSynced() {
			out = append(out, st.kind.name())
		}
	}
	sort.Strings(out)
	return out
}

// store implements gatewayStores.
func (g *GatewayCache) store(k cachedKind) (toolscache.Indexer, error) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	st := g.kinds[k.name()]
	if st == nil || st.informer == nil {
		return nil, nil
	}
	if !st.informer.HasSynced() {
		return nil, fmt.Errorf("%w: %s", ErrCacheNotSynced, k.name())
	}
	return st.informer.GetIndexer(), nil
}

// gatewayBundle implements gatewayStores.
func (g *GatewayCache) gatewayBundle() apis.GatewayBundle { return *g.bundle.Load() }

// updateBundle recomputes the bundle when the Gateway API CRDs changed: from
// the HTTPRoute CRD (else the GRPCRoute one, else any Gateway API CRD)
// annotations; the HTTPRoute schema is fetched only when they do not tell
// the shape.
func (g *GatewayCache) updateBundle(ctx context.Context) error {
	g.mu.RLock()
	crds := g.crds
	g.mu.RUnlock()
	if crds == nil {
		return nil
	}
	var best *metav1.PartialObjectMetadata
	for _, o := range crds.GetStore().List() {
		m, ok := o.(*metav1.PartialObjectMetadata)
		if !ok || !isGatewayAPICRD(m.Name) || (m.Annotations[apis.AnnBundleVersion] == "" && m.Annotations[apis.AnnChannel] == "") {
			continue
		}
		if best == nil || engine.CRDRank(m.Name) < engine.CRDRank(best.Name) || (engine.CRDRank(m.Name) == engine.CRDRank(best.Name) && m.Name < best.Name) {
			best = m
		}
	}
	key := ""
	if best != nil {
		key = best.Name + "/" + best.ResourceVersion
	}
	g.bundleMu.Lock()
	defer g.bundleMu.Unlock()
	if key == g.bundleKey {
		return nil
	}
	var b apis.GatewayBundle
	if best != nil {
		b = apis.BundleFor(best.Annotations[apis.AnnBundleVersion], best.Annotations[apis.AnnChannel], "CRD "+best.Name+" in the cluster")
		if b.Shape == apis.ShapeUnknown && engine.CRDRank(best.Name) < 2 {
			crd, err := g.fetchCRD(ctx, best.Name)
			if err != nil {
				return fmt.Errorf("reading the schema of CRD %s: %w", best.Name, err)
			}
			if fromSchema, ok := engine.BundleFromCRD(crd, "in the cluster"); ok {
				b = fromSchema
			}
		}
	}
	g.bundle.Store(&b)
	g.bundleKey = key
	g.log.Info("Gateway API bundle", "version", b.Version, "channel", b.Channel, "shape", string(b.Shape), "source", b.Source)
	return nil
}

// fetchCRD reads one whole CRD (its schema) into apis.CRD.
func (g *GatewayCache) fetchCRD(ctx context.Context, name string) (*apis.CRD, error) {
	u, err := g.dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	js, err := u.MarshalJSON()
	if err != nil {
		return nil, err
	}
	obj, err := apis.Decode("apiextensions.k8s.io/v1", apis.KindCustomResourceDefinition, js)
	if err != nil {
		return nil, err
	}
	crd, ok := obj.(*apis.CRD)
	if !ok {
		return nil, fmt.Errorf("decoding CRD %s: got %T", name, obj)
	}
	return crd, nil
}

// mayWatch reports whether stickyguard may list and watch a resource
// cluster-wide; why says what was decided, for the log.
func mayWatch(ctx context.Context, c AccessReviewer, gvr schema.GroupVersionResource) (bool, string) {
	res := gvr.GroupResource().String()
	for _, verb := range []string{"list", "watch"} {
		r := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Group: gvr.Group, Version: gvr.Version, Resource: gvr.Resource, Verb: verb,
			},
		}}
		if err := c.Create(ctx, r); err != nil {
			return false, "cannot check access to " + res + " (" + err.Error() + ")"
		}
		if !r.Status.Allowed {
			return false, fmt.Sprintf("not allowed to %s %s (see manifests/base/rbac.yaml)", verb, res)
		}
	}
	return true, ""
}
