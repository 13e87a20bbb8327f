package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/engine"
)

// The Gateway API and mesh custom resources exist only where their CRDs are
// installed. The audit lists each kind where it is served (a kind that is
// not is skipped with a note, never an error; one the caller may not list
// is skipped with a warning), and reads the Gateways and GatewayClasses
// routes attach to, and the Gateway API bundle from the HTTPRoute CRD.

// customKind is a custom resource kind the audit checks.
type customKind struct {
	resource schema.GroupResource
	kind     string
	versions []string // tried in order: the first served one is listed
	// legacy kinds (BackendLBPolicy, gone since Gateway API v1.3) are
	// checked where served but not named in the not-served note.
	legacy bool
}

// customKinds are listed in this order, after the core kinds and GKE
// BackendConfigs of a namespace.
var customKinds = []customKind{
	{schema.GroupResource{Group: apis.GroupGateway, Resource: "httproutes"}, apis.KindHTTPRoute, []string{"v1"}, false},
	{schema.GroupResource{Group: apis.GroupGateway, Resource: "grpcroutes"}, apis.KindGRPCRoute, []string{"v1"}, false},
	{schema.GroupResource{Group: apis.GroupGatewayX, Resource: "xbackendtrafficpolicies"}, apis.KindXBackendTrafficPolicy, []string{"v1alpha1"}, false},
	{schema.GroupResource{Group: apis.GroupGateway, Resource: "backendlbpolicies"}, apis.KindBackendLBPolicy, []string{"v1alpha2"}, true},
	{schema.GroupResource{Group: apis.GroupEnvoyGateway, Resource: "backendtrafficpolicies"}, apis.KindEnvoyBackendTrafficPolicy, []string{"v1alpha1"}, false},
	{schema.GroupResource{Group: apis.GroupIstio, Resource: "destinationrules"}, apis.KindDestinationRule, []string{"v1", "v1beta1"}, false},
	{schema.GroupResource{Group: apis.GroupGKENetworking, Resource: "gcpbackendpolicies"}, apis.KindGCPBackendPolicy, []string{"v1"}, false},
}

// Context kinds: routes' parents, listed once per run across namespaces.
var (
	gatewaysKind       = customKind{schema.GroupResource{Group: apis.GroupGateway, Resource: "gateways"}, apis.KindGateway, []string{"v1"}, false}
	gatewayClassesKind = customKind{schema.GroupResource{Group: apis.GroupGateway, Resource: "gatewayclasses"}, apis.KindGatewayClass, []string{"v1"}, false}
	crdResource        = schema.GroupResource{Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"}
)

func (k customKind) newList(version string) func() client.ObjectList {
	return func() client.ObjectList {
		l := &unstructured.UnstructuredList{}
		l.SetGroupVersionKind(schema.GroupVersionKind{Group: k.resource.Group, Version: version, Kind: k.kind + "List"})
		return l
	}
}

// customState is what the lister learnt of the custom kinds.
type customState struct {
	version    map[schema.GroupResource]string // the version listed
	notServed  map[schema.GroupResource]bool
	unreadable map[schema.GroupResource]bool // forbidden: warned once
}

// listCustom lists one custom kind in ns ("" for all namespaces) as apis
// objects. ok is false when the kind is not served, or the caller may not
// list it (a warning says what is lost).
func (l *lister) listCustom(ctx context.Context, k customKind, ns, lost string) (objs []runtime.Object, ok bool, err error) {
	s := &l.custom
	if s.notServed[k.resource] || s.unreadable[k.resource] {
		return nil, false, nil
	}
	versions := k.versions
	if v := s.version[k.resource]; v != "" {
		versions = []string{v}
	}
	for _, v := range versions {
		items, err := l.list(ctx, k.resource, ns, nil, k.newList(v))
		var pe *PermissionError
		switch {
		case notServed(err):
			continue
		case errors.As(err, &pe):
			s.mark(&s.unreadable, k.resource)
			l.warnings = append(l.warnings, err.Error()+"; "+lost)
			return nil, false, nil
		case err != nil:
			return nil, false, err
		}
		if s.version == nil {
			s.version = map[schema.GroupResource]string{}
		}
		s.version[k.resource] = v
		for _, it := range items {
			obj, err := toAPIObject(it)
			if err != nil {
				l.warnings = append(l.warnings, fmt.Sprintf("cannot read %s %s/%s (%v): not checked", k.kind, it.GetNamespace(), it.GetName(), err))
				continue
			}
			objs = append(objs, obj)
		}
		return objs, true, nil
	}
	s.mark(&s.notServed, k.resource)
	return nil, false, nil
}

func (s *customState) mark(m *map[schema.GroupResource]bool, gr schema.GroupResource) {
	if *m == nil {
		*m = map[schema.GroupResource]bool{}
	}
	(*m)[gr] = true
}

// notServed reports the error of reading a kind the API server does not
// serve (no CRD, or not that version) or an object that does not exist.
func notServed(err error) bool {
	return meta.IsNoMatchError(err) || apierrors.IsNotFound(err)
}

// toAPIObject reads a listed object into its apis type.
func toAPIObject(o client.Object) (runtime.Object, error) {
	u, ok := o.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("unexpected %T", o)
	}
	js, err := u.MarshalJSON()
	if err != nil {
		return nil, err
	}
	obj, err := apis.Decode(u.GetAPIVersion(), u.GetKind(), js)
	if err == nil && obj == nil {
		err = fmt.Errorf("no type for %s %s", u.GetAPIVersion(), u.GetKind())
	}
	return obj, err
}

// customDocuments lists the custom kinds of one namespace as Documents.
func (l *lister) customDocuments(ctx context.Context, ns string) ([]engine.Document, error) {
	var docs []engine.Document
	for _, k := range customKinds {
		objs, _, err := l.listCustom(ctx, k, ns, k.resource.String()+" are not checked")
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			m, err := meta.Accessor(o)
			if err != nil {
				return nil, err
			}
			docs = append(docs, engine.Document{
				Source:     fmt.Sprintf("cluster:%s/%s/%s", ns, k.kind, m.GetName()),
				APIVersion: o.GetObjectKind().GroupVersionKind().GroupVersion().String(),
				Kind:       k.kind,
				Namespace:  ns,
				Name:       m.GetName(),
				Object:     o,
			})
		}
	}
	return docs, nil
}

// gatewayContext lists the GatewayClasses and the Gateways of every
// namespace (routes attach to Gateways of other namespaces), and reads the
// Gateway API bundle of the cluster.
func (l *lister) gatewayContext(ctx context.Context) ([]any, apis.GatewayBundle, error) {
	var out []any
	for _, k := range []customKind{gatewayClassesKind, gatewaysKind} {
		objs, _, err := l.listCustom(ctx, k, "", "the implementation of routes is not resolved")
		if err != nil {
			return nil, apis.GatewayBundle{}, err
		}
		for _, o := range objs {
			out = append(out, o)
		}
	}
	b, err := l.clusterBundle(ctx)
	return out, b, err
}

// hasCustomKinds reports whether docs hold a custom resource.
func hasCustomKinds(docs []engine.Document) bool {
	for i := range docs {
		if apis.New(docs[i].APIVersion, docs[i].Kind) != nil {
			return true
		}
	}
	return false
}

// clusterBundle reads the Gateway API bundle from the HTTPRoute CRD (else
// the GRPCRoute one). Where neither exists the bundle is unknown; where the
// caller may not read CRDs a warning says so.
func (l *lister) clusterBundle(ctx context.Context) (apis.GatewayBundle, error) {
	for _, name := range []string{"httproutes." + apis.GroupGateway, "grpcroutes." + apis.GroupGateway} {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(schema.GroupVersionKind{Group: crdResource.Group, Version: "v1", Kind: apis.KindCustomResourceDefinition})
		err := l.reader.Get(ctx, client.ObjectKey{Name: name}, u)
		switch {
		case notServed(err):
			continue
		case apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err):
			l.warnings = append(l.warnings, requestError(ctx, "get", crdResource, "", err).Error()+
				"; the Gateway API version and channel are taken from the policy's cluster.gatewayAPI")
			return apis.GatewayBundle{}, nil
		case err != nil:
			return apis.GatewayBundle{}, requestError(ctx, "get", crdResource, "", err)
		}
		obj, err := toAPIObject(u)
		if err != nil {
			return apis.GatewayBundle{}, fmt.Errorf("reading CRD %s: %w", name, err)
		}
		if b, ok := engine.BundleFromCRD(obj.(*apis.CRD), "in the cluster"); ok {
			return b, nil
		}
	}
	return apis.GatewayBundle{}, nil
}

// notServedNote is the note naming the custom kinds that are not served.
func (l *lister) notServedNote() string {
	var kinds []string
	for _, k := range customKinds {
		if l.custom.notServed[k.resource] && !k.legacy {
			kinds = append(kinds, k.resource.String())
		}
	}
	if len(kinds) == 0 {
		return ""
	}
	return "not served in this cluster, so not checked: " + strings.Join(kinds, ", ")
}
