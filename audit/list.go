package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stickyguard/stickyguard/engine"
	"github.com/stickyguard/stickyguard/internal/sticky"
	"github.com/stickyguard/stickyguard/validators"
)

// DefaultPageSize is the List limit of one call.
const DefaultPageSize = 500

// maxRestarts bounds how often a List starts over after its continue token
// expired (410 Gone: the API server compacted the snapshot being paged).
const maxRestarts = 3

// cacheContinue is the token controller-runtime's informer cache returns: it
// ignores Continue, so a cache-backed reader cannot page.
const cacheContinue = "continue-not-supported"

// auditedKind is one kind the audit lists in every namespace.
type auditedKind struct {
	resource   schema.GroupResource
	apiVersion string
	kind       string
	newList    func() client.ObjectList
	// unchecked, when set, makes the kind optional: where the caller may not
	// list it, the audit goes on without it and warns "<error>; <unchecked>".
	unchecked string
}

// auditedKinds are listed in this order, and reported in this order within a
// namespace.
var auditedKinds = []auditedKind{
	{schema.GroupResource{Resource: "services"}, "v1", validators.KindService,
		func() client.ObjectList { return &corev1.ServiceList{} }, ""},
	{schema.GroupResource{Group: "networking.k8s.io", Resource: "ingresses"}, "networking.k8s.io/v1", validators.KindIngress,
		func() client.ObjectList { return &networkingv1.IngressList{} }, ""},
	{schema.GroupResource{Group: "apps", Resource: "deployments"}, "apps/v1", validators.KindDeployment,
		func() client.ObjectList { return &appsv1.DeploymentList{} }, ""},
	// Optional: Roles written before stickyguard checked StatefulSets may
	// not grant list on them.
	{schema.GroupResource{Group: "apps", Resource: "statefulsets"}, "apps/v1", validators.KindStatefulSet,
		func() client.ObjectList { return &appsv1.StatefulSetList{} },
		"StatefulSets are not checked (DEP-001..DEP-003, SG-001, SG-002) and SVC-012 does not see them"},
}

var (
	namespacesResource     = schema.GroupResource{Resource: "namespaces"}
	ingressClassesResource = schema.GroupResource{Group: "networking.k8s.io", Resource: "ingressclasses"}
)

// backendConfigKind is the GKE BackendConfig, listed where its CRD is
// served so GKE-006 and GKE-008 can tell a missing BackendConfig.
var backendConfigKind = auditedKind{
	schema.GroupResource{Group: "cloud.google.com", Resource: "backendconfigs"}, "cloud.google.com/v1", validators.KindBackendConfig,
	func() client.ObjectList {
		l := &unstructured.UnstructuredList{}
		l.SetGroupVersionKind(schema.GroupVersionKind{Group: "cloud.google.com", Version: "v1", Kind: "BackendConfigList"})
		return l
	},
	"",
}

// lister lists in pages of at most pageSize objects.
type lister struct {
	reader   client.Reader
	pageSize int64
	calls    int
	// noBackendConfigs is set once BackendConfigs turned out not to be
	// served or not to be readable; warnings says the latter.
	noBackendConfigs bool
	// denied holds the optional kinds the caller turned out not to be
	// allowed to list; they are not asked for again.
	denied map[schema.GroupResource]bool
	// custom is what is known of the custom resource kinds (custom.go).
	custom   customState
	warnings []string
}

// list returns every object of a kind in ns ("" for cluster-scoped kinds or
// all namespaces) matching sel (nil for all), one page per call.
func (l *lister) list(ctx context.Context, gr schema.GroupResource, ns string, sel labels.Selector, newList func() client.ObjectList) ([]client.Object, error) {
	var out []client.Object
	cont := ""
	for restarts := 0; ; {
		page := newList()
		opts := []client.ListOption{client.Limit(l.pageSize)}
		if cont != "" {
			opts = append(opts, client.Continue(cont))
		}
		if ns != "" {
			opts = append(opts, client.InNamespace(ns))
		}
		if sel != nil {
			opts = append(opts, client.MatchingLabelsSelector{Selector: sel})
		}
		l.calls++
		if err := l.reader.List(ctx, page, opts...); err != nil {
			if apierrors.IsResourceExpired(err) && cont != "" && restarts < maxRestarts {
				// The snapshot being paged is gone: start over.
				out, cont = nil, ""
				restarts++
				continue
			}
			return nil, requestError(ctx, "list", gr, ns, err)
		}
		items, err := meta.ExtractList(page)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			o, ok := it.(client.Object)
			if !ok {
				return nil, fmt.Errorf("listing %s: unexpected item %T", gr, it)
			}
			// No rule reads managedFields; they are often most of the bytes.
			o.SetManagedFields(nil)
			out = append(out, o)
		}
		cont = page.GetContinue()
		if cont == "" {
			return out, nil
		}
		if cont == cacheContinue {
			return nil, errors.New("the audit needs a reader that pages (the manager's API reader), not the informer cache")
		}
	}
}

// namespaces resolves the scope to namespace names, sorted (the API server
// lists in key order).
func (l *lister) namespaces(ctx context.Context, s Scope) ([]string, error) {
	if s.Namespace != "" {
		var nsObj corev1.Namespace
		err := l.reader.Get(ctx, client.ObjectKey{Name: s.Namespace}, &nsObj)
		switch {
		case apierrors.IsNotFound(err):
			return nil, fmt.Errorf("namespace %q not found", s.Namespace)
		case err != nil && !apierrors.IsForbidden(err):
			// Reading the Namespace object is only a courtesy check;
			// users with a namespaced Role may not be allowed to.
			return nil, requestError(ctx, "get", namespacesResource, "", err)
		}
		return []string{s.Namespace}, nil
	}
	var sel labels.Selector
	if s.OptedIn {
		req, err := labels.NewRequirement(sticky.LabelMode, selection.In, OptedInModes)
		if err != nil {
			return nil, err
		}
		sel = labels.NewSelector().Add(*req)
	}
	objs, err := l.list(ctx, namespacesResource, "", sel, func() client.ObjectList { return &corev1.NamespaceList{} })
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(objs))
	for _, o := range objs {
		names = append(names, o.GetName())
	}
	return names, nil
}

// ingressClasses lists the cluster's IngressClasses.
func (l *lister) ingressClasses(ctx context.Context) ([]*networkingv1.IngressClass, error) {
	objs, err := l.list(ctx, ingressClassesResource, "", nil, func() client.ObjectList { return &networkingv1.IngressClassList{} })
	if err != nil {
		return nil, err
	}
	out := make([]*networkingv1.IngressClass, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(*networkingv1.IngressClass))
	}
	return out, nil
}

// documents lists the audited kinds of one namespace as engine Documents.
func (l *lister) documents(ctx context.Context, ns string) ([]engine.Document, error) {
	var docs []engine.Document
	for _, k := range auditedKinds {
		if l.denied[k.resource] {
			continue
		}
		objs, err := l.list(ctx, k.resource, ns, nil, k.newList)
		var pe *PermissionError
		if k.unchecked != "" && errors.As(err, &pe) {
			if l.denied == nil {
				l.denied = map[schema.GroupResource]bool{}
			}
			l.denied[k.resource] = true
			l.warnings = append(l.warnings, err.Error()+"; "+k.unchecked)
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			docs = append(docs, engine.Document{
				Source:     fmt.Sprintf("cluster:%s/%s/%s", ns, k.kind, o.GetName()),
				APIVersion: k.apiVersion,
				Kind:       k.kind,
				Namespace:  ns,
				Name:       o.GetName(),
				Object:     o,
			})
		}
	}
	bcs, err := l.backendConfigs(ctx, ns)
	if err != nil {
		return nil, err
	}
	docs = append(docs, bcs...)
	custom, err := l.customDocuments(ctx, ns)
	if err != nil {
		return nil, err
	}
	return append(docs, custom...), nil
}

// backendConfigs lists a namespace's GKE BackendConfigs as Documents. Where
// the kind is not served, or the caller may not list it, there are none
// (and GKE-006/GKE-008 cannot tell a missing one; the latter is a warning).
func (l *lister) backendConfigs(ctx context.Context, ns string) ([]engine.Document, error) {
	if l.noBackendConfigs {
		return nil, nil
	}
	k := backendConfigKind
	objs, err := l.list(ctx, k.resource, ns, nil, k.newList)
	var pe *PermissionError
	switch {
	case meta.IsNoMatchError(err) || apierrors.IsNotFound(err):
		l.noBackendConfigs = true
		return nil, nil
	case errors.As(err, &pe):
		l.noBackendConfigs = true
		l.warnings = append(l.warnings, err.Error()+"; GKE-006 and GKE-008 (BackendConfig references) are not checked")
		return nil, nil
	case err != nil:
		return nil, err
	}
	docs := make([]engine.Document, 0, len(objs))
	for _, o := range objs {
		u, ok := o.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		d := engine.Document{
			Source:     fmt.Sprintf("cluster:%s/%s/%s", ns, k.kind, o.GetName()),
			APIVersion: u.GetAPIVersion(),
			Kind:       k.kind,
			Namespace:  ns,
			Name:       o.GetName(),
			Object:     o,
		}
		js, err := json.Marshal(map[string]any{"spec": u.Object["spec"]})
		if err == nil {
			d.BackendConfig, err = engine.BackendConfigFromJSON(ns, o.GetName(), js)
		}
		if err != nil {
			// Exists, but its affinity cannot be read (the CRD may not
			// enforce its schema): the references to it still resolve.
			d.BackendConfig = &validators.BackendConfig{Namespace: ns, Name: o.GetName()}
		}
		docs = append(docs, d)
	}
	return docs, nil
}
