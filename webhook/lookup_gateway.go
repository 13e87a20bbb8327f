package webhook

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/engine"
)

// gatewayStores gives CacheLookup the stores of the cached custom resource
// kinds (GatewayCache; plain stores in tests).
type gatewayStores interface {
	// store returns a kind's store: nil when the kind is not watched
	// (not tracked), ErrCacheNotSynced while its informer syncs.
	store(k cachedKind) (toolscache.Indexer, error)
	// gatewayBundle is the cluster's Gateway API bundle (zero: unknown).
	gatewayBundle() apis.GatewayBundle
}

// Prepare implements Preparer: the custom resource caches start on demand.
func (l *CacheLookup) Prepare(ctx context.Context, kind schema.GroupKind) error {
	p, ok := l.gateway.(Preparer)
	if !ok {
		return nil
	}
	return p.Prepare(ctx, kind)
}

// GatewayBundle implements engine.Lookup.
func (l *CacheLookup) GatewayBundle() (apis.GatewayBundle, error) {
	if l.gateway == nil {
		return apis.GatewayBundle{}, nil
	}
	return l.gateway.gatewayBundle(), nil
}

// GatewayClass implements engine.Lookup.
func (l *CacheLookup) GatewayClass(name string) (*apis.GatewayClass, error) {
	return getCustom[*apis.GatewayClass](l, kindGatewayClasses, name)
}

// Gateway implements engine.Lookup.
func (l *CacheLookup) Gateway(namespace, name string) (*apis.Gateway, error) {
	return getCustom[*apis.Gateway](l, kindGateways, nsKey(namespace, name))
}

// Routes implements engine.Lookup.
func (l *CacheLookup) Routes(namespace string) ([]*apis.Route, error) {
	return l.routesBy(toolscache.NamespaceIndex, namespace)
}

// RoutesForParent implements engine.Lookup.
func (l *CacheLookup) RoutesForParent(parent engine.ParentKey) ([]*apis.Route, error) {
	return l.routesBy(indexRouteParent, parent.String())
}

// RoutesForBackend implements engine.Lookup.
func (l *CacheLookup) RoutesForBackend(namespace, service string) ([]*apis.Route, error) {
	return l.routesBy(indexRouteBackend, nsKey(namespace, service))
}

// BackendPolicies implements engine.Lookup (by kind, then name, as
// engine.Index).
func (l *CacheLookup) BackendPolicies(namespace string) ([]*apis.BackendPolicy, error) {
	var out []*apis.BackendPolicy
	for _, k := range []cachedKind{kindBackendLBPols, kindXBackendPols} {
		got, err := customByIndex[*apis.BackendPolicy](l, k, toolscache.NamespaceIndex, namespace)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	slices.SortFunc(out, func(a, b *apis.BackendPolicy) int {
		return strings.Compare(a.Kind+"/"+a.Name, b.Kind+"/"+b.Name)
	})
	return out, nil
}

// EnvoyPolicies implements engine.Lookup.
func (l *CacheLookup) EnvoyPolicies(namespace string) ([]*apis.EnvoyBackendTrafficPolicy, error) {
	out, err := customByIndex[*apis.EnvoyBackendTrafficPolicy](l, kindEnvoyPolicies, toolscache.NamespaceIndex, namespace)
	slices.SortFunc(out, func(a, b *apis.EnvoyBackendTrafficPolicy) int { return strings.Compare(a.Name, b.Name) })
	return out, err
}

// routesBy reads one bucket of an index of both route stores.
func (l *CacheLookup) routesBy(index, value string) ([]*apis.Route, error) {
	var out []*apis.Route
	for _, k := range []cachedKind{kindHTTPRoutes, kindGRPCRoutes} {
		got, err := customByIndex[*apis.Route](l, k, index, value)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	engine.SortRoutes(out)
	return out, nil
}

// getCustom reads one object of a cached kind; (nil, nil) when it does not
// exist or the kind is not tracked.
func getCustom[T any](l *CacheLookup, k cachedKind, key string) (T, error) {
	var zero T
	store, err := l.customStore(k)
	if store == nil || err != nil {
		return zero, err
	}
	item, ok, err := store.GetByKey(key)
	if err != nil || !ok {
		return zero, err
	}
	o, ok := item.(T)
	if !ok {
		return zero, fmt.Errorf("the %s cache holds a %T under %s", k.kind, item, key)
	}
	return o, nil
}

// customByIndex reads one index bucket of a cached kind (none when it is
// not tracked).
func customByIndex[T any](l *CacheLookup, k cachedKind, index, value string) ([]T, error) {
	store, err := l.customStore(k)
	if store == nil || err != nil {
		return nil, err
	}
	return byIndex[T](store, index, value)
}

func (l *CacheLookup) customStore(k cachedKind) (toolscache.Indexer, error) {
	if l.gateway == nil {
		return nil, nil
	}
	return l.gateway.store(k)
}
