package audit_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stickyguard/stickyguard/audit"
	"github.com/stickyguard/stickyguard/audit/audittest"
)

// TestAuditPermissionErrors: a user whose Role lacks list on Deployments
// gets an error naming the verb and the resource to grant.
func TestAuditPermissionErrors(t *testing.T) {
	t.Parallel()
	e := testEnv(t)
	ctx := context.Background()
	ns := namespace(t, "perm", nil)
	user := "auditor-" + ns
	grant(t, ns, user,
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"services"}, Verbs: []string{"list"}},
		rbacv1.PolicyRule{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingresses"}, Verbs: []string{"list"}},
	)
	cfg, err := e.UserConfig(user)
	require.NoError(t, err)
	c, err := client.New(cfg, client.Options{})
	require.NoError(t, err)

	// Wait until the authorizer sees the Role (services are listed
	// before deployments).
	var pe *audit.PermissionError
	require.NoError(t, audittest.Eventually(ctx, 10*time.Second, func() (bool, error) {
		_, err = audit.Run(ctx, c, audit.Options{Scope: audit.Scope{Namespace: ns}}, func(*audit.NamespaceResult) error { return nil })
		return errors.As(err, &pe) && pe.Resource.Resource == "deployments", err
	}))
	assert.Equal(t, "list", pe.Verb)
	assert.Equal(t, schema.GroupResource{Group: "apps", Resource: "deployments"}, pe.Resource)
	assert.Equal(t, fmt.Sprintf(`cannot list deployments.apps in namespace %q: forbidden (needs RBAC verb "list" on "deployments" in group "apps")`, ns), err.Error())

	// The same user may read but not write reports: creating one with
	// server-side apply needs create (and patch).
	grant(t, ns, user, rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"list"}})
	var nr *audit.NamespaceResult
	var st audit.Stats
	require.NoError(t, audittest.Eventually(ctx, 10*time.Second, func() (bool, error) {
		st, err = audit.Run(ctx, c, audit.Options{Scope: audit.Scope{Namespace: ns}}, func(r *audit.NamespaceResult) error { nr = r; return nil })
		return err == nil, err
	}))
	// BackendConfigs are optional: not being allowed to list them is a
	// warning that says what is not checked, not a failure.
	assert.Contains(t, st.Warnings, fmt.Sprintf(`cannot list backendconfigs.cloud.google.com in namespace %q: forbidden (needs RBAC verb "list" on "backendconfigs" in group "cloud.google.com"); GKE-006 and GKE-008 (BackendConfig references) are not checked`, ns))
	// So are StatefulSets: a Role written before stickyguard checked them
	// keeps working, and the warning says what is not checked.
	assert.Contains(t, st.Warnings, fmt.Sprintf(`cannot list statefulsets.apps in namespace %q: forbidden (needs RBAC verb "list" on "statefulsets" in group "apps"); StatefulSets are not checked (DEP-001..DEP-003, SG-001, SG-002) and SVC-012 does not see them`, ns))
	err = audit.ApplyPolicyReport(ctx, c, audit.PolicyReport(ns, nr.Checked, time.Now()))
	require.ErrorAs(t, err, &pe)
	assert.Contains(t, err.Error(), fmt.Sprintf(`in namespace %q: forbidden (needs RBAC verb`, ns))
	assert.Contains(t, err.Error(), `on "policyreports" in group "wgpolicyk8s.io"`)

	// Cluster-wide scopes need list on namespaces.
	_, err = audit.Run(ctx, c, audit.Options{Scope: audit.Scope{AllNamespaces: true}}, func(*audit.NamespaceResult) error { return nil })
	assert.EqualError(t, err, `cannot list namespaces cluster-wide: forbidden (needs RBAC verb "list" on "namespaces" in group "" (core))`)
}

// grant gives user the rules in ns through a Role and RoleBinding, and list
// on IngressClasses cluster-wide.
func grant(t *testing.T, ns, user string, rules ...rbacv1.PolicyRule) {
	t.Helper()
	ctx := context.Background()
	c := testEnv(t).Client
	name := fmt.Sprintf("%s-%d", user, time.Now().UnixNano())
	create(t,
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Rules: rules},
		&rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
		},
	)
	cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: user}, Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingressclasses"}, Verbs: []string{"list"},
	}}}
	if err := c.Create(ctx, cr); err == nil {
		create(t, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: user},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: user},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
		})
	}
}

// TestAuditReportWriterRBAC: the report writer's ClusterRole grants only
// PolicyReports, and with the webhook's read-only role it is enough to
// audit and to create and then update a report with server-side apply.
func TestAuditReportWriterRBAC(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var roles []*unstructured.Unstructured
	for _, u := range manifestObjects(t, "policyreport/rbac.yaml") {
		if u.GetKind() == "ClusterRole" {
			roles = append(roles, u)
		}
	}
	require.Len(t, roles, 1)
	rules, _, _ := unstructured.NestedSlice(roles[0].Object, "rules")
	assert.Equal(t, []any{map[string]any{
		"apiGroups": []any{"wgpolicyk8s.io"},
		"resources": []any{"policyreports"},
		"verbs":     []any{"get", "list", "create", "update", "patch"},
	}}, rules)

	sa, err := client.New(serviceAccountConfig(t), client.Options{})
	require.NoError(t, err)
	ns := namespace(t, "writer", nil)
	create(t, service(ns, "broken", affinityInSelector))
	var nr *audit.NamespaceResult
	require.NoError(t, audittest.Eventually(ctx, 10*time.Second, func() (bool, error) {
		_, err := audit.Run(ctx, sa, audit.Options{Scope: audit.Scope{Namespace: ns}}, func(r *audit.NamespaceResult) error { nr = r; return nil })
		return err == nil, err
	}), "audit as the webhook's ServiceAccount")
	require.NoError(t, audittest.Eventually(ctx, 10*time.Second, func() (bool, error) {
		err := audit.ApplyPolicyReport(ctx, sa, audit.PolicyReport(ns, nr.Checked, time.Now()))
		return err == nil, err
	}), "create")
	assert.Equal(t, []string{"fail:SVC-001:Service/broken"}, reportRules(t, getReport(t, ns)))
	require.NoError(t, audit.ApplyPolicyReport(ctx, sa, audit.PolicyReport(ns, nil, time.Now())), "update")
	assert.Empty(t, reportRules(t, getReport(t, ns)))
}
