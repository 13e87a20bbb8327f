package audit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/stickyguard/stickyguard/audit"
	"github.com/stickyguard/stickyguard/engine"
	"github.com/stickyguard/stickyguard/validators"
	"github.com/stickyguard/stickyguard/webhook"
)

// TestAuditModeLabelMatchesWebhook: the audit opts namespaces in exactly as
// the webhook does.
func TestAuditModeLabelMatchesWebhook(t *testing.T) {
	assert.Equal(t, []string{string(webhook.ModeEnforce), string(webhook.ModeAudit)}, audit.OptedInModes)
}

// checkedService is a stored Service with the given findings.
func checkedService(name string, errs field.ErrorList, warns validators.Warnings, exempt string) engine.Checked {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, UID: types.UID("uid-" + name)}}
	return engine.Checked{
		Doc:    &engine.Document{Source: "cluster:shop/Service/" + name, APIVersion: "v1", Kind: "Service", Namespace: "shop", Name: name, Object: svc},
		Result: &engine.Result{Errors: errs, Warnings: warns, Exempt: exempt},
	}
}

func deny(rule, path string) *field.Error {
	return field.Invalid(field.NewPath(path), "x", "bad; fix: do better").WithOrigin(rule)
}

func warn(rule, path string) validators.Warning {
	return validators.Warning{Rule: rule, Field: field.NewPath(path), Detail: "careful; fix: be careful"}
}

func TestAuditPolicyReportShape(t *testing.T) {
	checked := []engine.Checked{
		checkedService("clean", nil, nil, ""),
		checkedService("warned", nil, validators.Warnings{warn("SVC-012", "spec.selector")}, ""),
		checkedService("denied", field.ErrorList{deny("SVC-001", "spec.selector")}, validators.Warnings{warn("SVC-004", "spec.externalTrafficPolicy")}, ""),
		checkedService("exempt", nil, nil, "legacy"),
	}
	now := time.Unix(1700000000, 0)
	u := audit.PolicyReport("shop", checked, now)

	assert.Equal(t, "wgpolicyk8s.io/v1alpha2", u.GetAPIVersion())
	assert.Equal(t, "PolicyReport", u.GetKind())
	assert.Equal(t, "stickyguard-audit", u.GetName())
	assert.Equal(t, "shop", u.GetNamespace())
	assert.Equal(t, map[string]string{"app.kubernetes.io/managed-by": "stickyguard"}, u.GetLabels())
	assert.Empty(t, u.GetAnnotations())
	summary, _, _ := unstructured.NestedMap(u.Object, "summary")
	assert.Equal(t, map[string]any{"pass": int64(1), "fail": int64(1), "warn": int64(2), "error": int64(0), "skip": int64(1)}, summary)

	got := reportRules(t, u)
	assert.Equal(t, []string{
		"fail:SVC-001:Service/denied",
		"warn:SVC-012:Service/warned", "warn:SVC-004:Service/denied",
		"skip:exempt:Service/exempt",
	}, got, "failures first, then warnings, then exemptions; no pass results")

	results, _, _ := unstructured.NestedSlice(u.Object, "results")
	fail := results[0].(map[string]any)
	assert.Equal(t, map[string]any{
		"policy": "stickyguard", "source": "stickyguard", "rule": "SVC-001", "result": "fail",
		"severity": "high", "category": "Service",
		"message":    `Invalid value: "x": SVC-001: bad; fix: do better`,
		"timestamp":  map[string]any{"seconds": int64(1700000000), "nanos": int64(0)},
		"resources":  []any{map[string]any{"apiVersion": "v1", "kind": "Service", "namespace": "shop", "name": "denied", "uid": "uid-denied"}},
		"properties": map[string]any{"field": "spec.selector"},
	}, fail)
	assert.Equal(t, "medium", results[1].(map[string]any)["severity"])
	skip := results[3].(map[string]any)
	assert.Equal(t, "info", skip["severity"])
	assert.Equal(t, "exempt (stickyguard.io/ignore): legacy", skip["message"])
}

func TestAuditPolicyReportTruncated(t *testing.T) {
	var checked []engine.Checked
	for i := range 1500 {
		checked = append(checked, checkedService(fmt.Sprintf("w-%04d", i), nil, validators.Warnings{warn("SVC-003", "spec.sessionAffinity")}, ""))
	}
	checked = append(checked, checkedService("z-denied", field.ErrorList{deny("SVC-001", "spec.selector")}, nil, ""))
	u := audit.PolicyReport("shop", checked, time.Now())
	results, _, _ := unstructured.NestedSlice(u.Object, "results")
	require.Len(t, results, audit.MaxResults)
	assert.Equal(t, "fail", results[0].(map[string]any)["result"], "the failure is kept although it comes last")
	summary, _, _ := unstructured.NestedMap(u.Object, "summary")
	assert.EqualValues(t, 1500, summary["warn"])
	assert.EqualValues(t, 1, summary["fail"])
	assert.Equal(t, "1000 of 1501 results shown (failures first); run stickyguard audit -n shop for all", u.GetAnnotations()[audit.AnnTruncated])
}

func TestAuditWritePolicyReports(t *testing.T) {
	reps := []*unstructured.Unstructured{
		audit.PolicyReport("a", []engine.Checked{checkedService("x", field.ErrorList{deny("SVC-001", "spec.selector")}, nil, "")}, time.Now()),
		audit.PolicyReport("b", nil, time.Now()),
	}
	var buf bytes.Buffer
	require.NoError(t, audit.WritePolicyReports(&buf, reps))
	dec := utilyaml.NewYAMLOrJSONDecoder(&buf, 4096)
	var names []string
	for {
		var u unstructured.Unstructured
		if err := dec.Decode(&u.Object); err != nil {
			break
		}
		assert.Equal(t, "PolicyReport", u.GetKind())
		names = append(names, u.GetNamespace()+"/"+u.GetName())
	}
	assert.Equal(t, []string{"a/stickyguard-audit", "b/stickyguard-audit"}, names)
}

func TestAuditPermissionErrorMessages(t *testing.T) {
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "", errors.New("nope"))
	tests := []struct {
		err  *audit.PermissionError
		want string
	}{
		{&audit.PermissionError{Verb: "list", Resource: schema.GroupResource{Group: "apps", Resource: "deployments"}, Namespace: "shop", Err: forbidden},
			`cannot list deployments.apps in namespace "shop": forbidden (needs RBAC verb "list" on "deployments" in group "apps")`},
		{&audit.PermissionError{Verb: "list", Resource: schema.GroupResource{Resource: "services"}, Namespace: "shop"},
			`cannot list services in namespace "shop": forbidden (needs RBAC verb "list" on "services" in group "" (core))`},
		{&audit.PermissionError{Verb: "list", Resource: schema.GroupResource{Group: "networking.k8s.io", Resource: "ingressclasses"}},
			`cannot list ingressclasses.networking.k8s.io cluster-wide: forbidden (needs RBAC verb "list" on "ingressclasses" in group "networking.k8s.io")`},
		{&audit.PermissionError{Verb: "list", Resource: schema.GroupResource{Resource: "namespaces"}, Unauthorized: true},
			`cannot list namespaces cluster-wide: unauthorized (the API server did not accept the credentials of the kubeconfig user)`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.err.Error())
	}
	assert.ErrorIs(t, tests[0].err, forbidden)
}

func TestAuditScopeNeedsExactlyOne(t *testing.T) {
	for _, s := range []audit.Scope{{}, {Namespace: "a", OptedIn: true}, {AllNamespaces: true, OptedIn: true}} {
		_, err := audit.Run(context.Background(), nil, audit.Options{Scope: s}, nil)
		assert.ErrorContains(t, err, "exactly one", "%+v", s)
	}
}
