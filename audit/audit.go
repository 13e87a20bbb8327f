package audit

import (
	"context"
	"errors"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stickyguard/stickyguard/engine"
	"github.com/stickyguard/stickyguard/policy"
)

// OptedInModes are the sticky.LabelMode values of namespaces that opted in.
var OptedInModes = []string{"enforce", "audit"}

// Scope says which namespaces an audit covers; set exactly one field.
type Scope struct {
	// Namespace audits one namespace.
	Namespace string
	// AllNamespaces audits every namespace.
	AllNamespaces bool
	// OptedIn audits the namespaces labelled stickyguard.io/mode=enforce or
	// audit.
	OptedIn bool
}

func (s Scope) validate() error {
	n := 0
	if s.Namespace != "" {
		n++
	}
	if s.AllNamespaces {
		n++
	}
	if s.OptedIn {
		n++
	}
	if n != 1 {
		return errors.New("audit scope: set exactly one of Namespace, AllNamespaces, OptedIn")
	}
	return nil
}

// Options configure one audit run.
type Options struct {
	Scope  Scope
	Policy *policy.Policy // nil means policy.Default()
	// PageSize is the List limit per call; 0 means DefaultPageSize.
	PageSize int64
}

// NamespaceResult is the audit of one namespace: every Service, Ingress,
// Deployment and StatefulSet in it, then its GKE BackendConfigs, then its
// HTTPRoutes, GRPCRoutes, XBackendTrafficPolicies, BackendLBPolicies,
// Envoy Gateway BackendTrafficPolicies, Istio DestinationRules and GKE
// GCPBackendPolicies where those kinds are served, in that order, each
// sorted by name.
type NamespaceResult struct {
	Namespace string
	Checked   []engine.Checked
}

// Stats describe one run.
type Stats struct {
	Namespaces int // namespaces audited
	Objects    int // objects evaluated
	ListCalls  int // List requests sent (pages)
	// Warnings say what the audit could not see and how that limits it.
	Warnings []string
	// Notes say what the audit skipped because the cluster does not have
	// it (custom resource kinds whose CRD is not installed).
	Notes []string
}

// Run audits the namespaces of the scope one at a time, calling visit with
// each namespace's result as soon as it is evaluated, so only one namespace's
// objects are held in memory. reader must page (a client or the manager's API
// reader, not the informer cache). An error from visit stops the run.
//
// Errors name their cause: *PermissionError for a missing RBAC verb,
// *UnreachableError when the API server does not answer.
func Run(ctx context.Context, reader client.Reader, opts Options, visit func(*NamespaceResult) error) (st Stats, err error) {
	if err := opts.Scope.validate(); err != nil {
		return st, err
	}
	if opts.Policy == nil {
		opts.Policy = policy.Default()
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	l := &lister{reader: reader, pageSize: opts.PageSize}
	defer func() {
		st.ListCalls = l.calls
		st.Warnings = append(st.Warnings, l.warnings...)
		if n := l.notServedNote(); n != "" {
			st.Notes = append(st.Notes, n)
		}
	}()

	names, err := l.namespaces(ctx, opts.Scope)
	if err != nil {
		return st, err
	}
	classes, err := l.ingressClasses(ctx)
	var pe *PermissionError
	if errors.As(err, &pe) {
		// A namespace owner may not read cluster-scoped objects: resolve
		// classes from the policy alone, and say so.
		st.Warnings = append(st.Warnings, err.Error()+"; ingress classes are resolved from the policy's classControllers map only")
	} else if err != nil {
		return st, err
	}
	related := make([]any, 0, len(classes))
	for _, ic := range classes {
		related = append(related, ic)
	}
	eopts := engine.Options{Policy: opts.Policy}
	gatewayRead := false
	for _, ns := range names {
		docs, err := l.documents(ctx, ns)
		if err != nil {
			return st, err
		}
		if !gatewayRead && hasCustomKinds(docs) {
			// Read once, when the first namespace with custom resources
			// needs them: Gateways and classes, and the bundle.
			gatewayRead = true
			gateways, bundle, err := l.gatewayContext(ctx)
			if err != nil {
				return st, err
			}
			related, eopts.Bundle = append(related, gateways...), bundle
		}
		checked, err := engine.CheckStored(docs, related, eopts)
		if err != nil {
			return st, fmt.Errorf("namespace %s: %w", ns, err)
		}
		st.Namespaces++
		st.Objects += len(checked)
		if err := visit(&NamespaceResult{Namespace: ns, Checked: checked}); err != nil {
			return st, err
		}
	}
	return st, nil
}
