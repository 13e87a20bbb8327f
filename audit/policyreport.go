package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/stickyguard/stickyguard/engine"
)

// The PolicyReports stickyguard writes: one per namespace, named
// PolicyReportName, labelled app.kubernetes.io/managed-by=stickyguard, and
// written with server-side apply as FieldManager.
const (
	PolicyReportName = "stickyguard-audit"
	FieldManager     = "stickyguard-audit"
	// PolicyName is the policy field of every result, and its source.
	PolicyName = "stickyguard"

	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "stickyguard"

	// AnnTruncated is set on a report whose results were cut to
	// MaxResults; the summary still counts every finding.
	AnnTruncated = "stickyguard.io/truncated"
)

// Bounds that keep a report far from etcd's 1.5 MiB object limit.
const (
	MaxResults     = 1000
	maxResultBytes = 1 << 20
)

// PolicyReportGVK is the kind stickyguard writes.
var PolicyReportGVK = schema.GroupVersionKind{Group: "wgpolicyk8s.io", Version: "v1alpha2", Kind: "PolicyReport"}

var policyReportResource = schema.GroupResource{Group: "wgpolicyk8s.io", Resource: "policyreports"}

// ErrNamespaceGone is returned when a report's namespace was deleted (or is
// terminating) while the audit ran; callers skip it.
var ErrNamespaceGone = errors.New("the namespace no longer exists")

// PolicyReport builds the wgpolicyk8s.io/v1alpha2 PolicyReport of one
// namespace: one result per finding (fail for what enforce mode would deny,
// warn for warnings and for defaults it would set, skip for exempt objects),
// failures first. summary.pass counts the objects without any finding; no
// pass results are written, to keep the report small.
func PolicyReport(namespace string, checked []engine.Checked, now time.Time) *unstructured.Unstructured {
	findings := Findings(checked)
	slices.SortStableFunc(findings, func(a, b Finding) int { return resultRank(a.Result) - resultRank(b.Result) })

	summary := map[string]int64{"pass": 0, "fail": 0, "warn": 0, "error": 0, "skip": 0}
	withFindings := map[*engine.Document]bool{}
	for _, f := range findings {
		summary[f.Result]++
		withFindings[f.Doc] = true
	}
	for _, c := range checked {
		if !withFindings[c.Doc] {
			summary["pass"]++
		}
	}

	ts := map[string]any{"seconds": now.Unix(), "nanos": int64(0)}
	results := make([]any, 0, min(len(findings), MaxResults))
	size := 0
	for _, f := range findings {
		size += resultSize(f)
		if len(results) == MaxResults || size > maxResultBytes {
			break
		}
		results = append(results, result(f, ts))
	}

	meta := map[string]any{
		"name":      PolicyReportName,
		"namespace": namespace,
		"labels":    map[string]any{LabelManagedBy: ManagedBy},
	}
	if len(results) < len(findings) {
		meta["annotations"] = map[string]any{AnnTruncated: fmt.Sprintf(
			"%d of %d results shown (failures first); run stickyguard audit -n %s for all", len(results), len(findings), namespace)}
	}
	sum := map[string]any{}
	for k, v := range summary {
		sum[k] = v
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": PolicyReportGVK.GroupVersion().String(),
		"kind":       PolicyReportGVK.Kind,
		"metadata":   meta,
		"scope":      map[string]any{"apiVersion": "v1", "kind": "Namespace", "name": namespace},
		"summary":    sum,
		"results":    results,
	}}
}

func resultRank(r string) int {
	switch r {
	case ResultFail:
		return 0
	case ResultWarn:
		return 1
	}
	return 2
}

func result(f Finding, ts map[string]any) map[string]any {
	d := f.Doc
	ref := map[string]any{"apiVersion": d.APIVersion, "kind": d.Kind, "namespace": d.Namespace, "name": d.Name}
	if f.UID != "" {
		ref["uid"] = string(f.UID)
	}
	r := map[string]any{
		"policy":    PolicyName,
		"source":    PolicyName,
		"result":    f.Result,
		"message":   f.Message,
		"timestamp": ts,
		"resources": []any{ref},
	}
	if f.Rule != "" {
		r["rule"] = f.Rule
		r["severity"] = severity(f.Rule)
		if c := category(f.Rule); c != "" {
			r["category"] = c
		}
	} else {
		r["rule"] = "exempt"
		r["severity"] = "info"
	}
	if f.Field != "" {
		r["properties"] = map[string]any{"field": f.Field}
	}
	return r
}

// resultSize estimates the serialized size of a result.
func resultSize(f Finding) int {
	return 400 + len(f.Message) + len(f.Field) + len(f.Doc.Name) + len(f.Doc.Namespace)
}

// ApplyPolicyReport creates or updates a report with server-side apply
// (field manager FieldManager; RBAC: patch, and create for a new report).
// The results list is atomic, so findings that were fixed disappear. rep is
// not modified.
func ApplyPolicyReport(ctx context.Context, c client.Client, rep *unstructured.Unstructured) error {
	// Apply stores the server's answer in its argument: give it a copy.
	err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(rep.DeepCopy()), client.FieldOwner(FieldManager), client.ForceOwnership)
	if err == nil {
		return nil
	}
	if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) || namespaceNotFound(err) {
		return fmt.Errorf("PolicyReport %s/%s: %w", rep.GetNamespace(), rep.GetName(), ErrNamespaceGone)
	}
	return requestError(ctx, "patch", policyReportResource, rep.GetNamespace(), err)
}

func namespaceNotFound(err error) bool {
	var status apierrors.APIStatus
	if !apierrors.IsNotFound(err) || !errors.As(err, &status) {
		return false
	}
	d := status.Status().Details
	return d != nil && d.Kind == "namespaces"
}

// WritePolicyReports prints reports as a multi-document YAML stream that
// kubectl apply -f accepts.
func WritePolicyReports(w io.Writer, reports []*unstructured.Unstructured) error {
	for _, r := range reports {
		b, err := yaml.Marshal(r.Object)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "---\n%s", b); err != nil {
			return err
		}
	}
	return nil
}
