package audit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// PermissionError is a request the API server refused: 403 Forbidden (the
// RBAC verb is missing) or 401 Unauthorized (the credentials are not
// accepted). Its message names the verb and the resource to grant.
type PermissionError struct {
	Verb         string
	Resource     schema.GroupResource
	Namespace    string // "" for cluster-wide requests
	Unauthorized bool
	Err          error // the API server's answer
}

func (e *PermissionError) Error() string {
	where := "cluster-wide"
	if e.Namespace != "" {
		where = fmt.Sprintf("in namespace %q", e.Namespace)
	}
	if e.Unauthorized {
		return fmt.Sprintf("cannot %s %s %s: unauthorized (the API server did not accept the credentials of the kubeconfig user)",
			e.Verb, e.Resource, where)
	}
	group := fmt.Sprintf("%q", e.Resource.Group)
	if e.Resource.Group == "" {
		group = `"" (core)`
	}
	return fmt.Sprintf("cannot %s %s %s: forbidden (needs RBAC verb %q on %q in group %s)",
		e.Verb, e.Resource, where, e.Verb, e.Resource.Resource, group)
}

func (e *PermissionError) Unwrap() error { return e.Err }

// UnreachableError is a request that never got an answer from the API
// server: refused connection, DNS, TLS, timeout.
type UnreachableError struct {
	Err error
}

func (e *UnreachableError) Error() string {
	return "cannot reach the Kubernetes API server: " + e.Err.Error()
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// ErrNoPolicyReportCRD is returned when the cluster does not serve
// wgpolicyk8s.io/v1alpha2 PolicyReports.
var ErrNoPolicyReportCRD = errors.New("the PolicyReport CRD (policyreports.wgpolicyk8s.io, version v1alpha2) is not installed: kubectl apply -k manifests/policyreport")

// requestError turns the error of one API request into an error that says
// what to do about it.
func requestError(ctx context.Context, verb string, gr schema.GroupResource, ns string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	switch {
	case apierrors.IsForbidden(err):
		return &PermissionError{Verb: deniedVerb(err, verb), Resource: gr, Namespace: ns, Err: err}
	case apierrors.IsUnauthorized(err):
		return &PermissionError{Verb: verb, Resource: gr, Namespace: ns, Unauthorized: true, Err: err}
	case meta.IsNoMatchError(err):
		if gr == policyReportResource {
			return ErrNoPolicyReportCRD
		}
		return fmt.Errorf("the API server does not serve %s: %w", gr, err)
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return fmt.Errorf("cannot %s %s %s: %w", verb, gr, where(ns), err)
	}
	var ue *url.Error
	var ne net.Error
	if errors.As(err, &ue) || errors.As(err, &ne) {
		return &UnreachableError{Err: err}
	}
	return fmt.Errorf("cannot %s %s %s: %w", verb, gr, where(ns), err)
}

// deniedVerb reads the verb the authorizer denied from a 403 message
// ("User "x" cannot create resource ..."): a server-side apply that creates
// an object is a patch that also needs create.
func deniedVerb(err error, fallback string) string {
	if m := deniedVerbRE.FindStringSubmatch(err.Error()); m != nil {
		return m[1]
	}
	return fallback
}

var deniedVerbRE = regexp.MustCompile(`cannot ([a-z]+) resource "`)

func where(ns string) string {
	if ns == "" {
		return "cluster-wide"
	}
	return fmt.Sprintf("in namespace %q", ns)
}
