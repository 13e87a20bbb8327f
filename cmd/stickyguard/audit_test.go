package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stickyguard/stickyguard/audit"
	"github.com/stickyguard/stickyguard/audit/audittest"
	"github.com/stickyguard/stickyguard/internal/sticky"
)

// TestAuditFlags: flag errors exit 2 before any request.
func TestAuditFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-n", "a", "--all-namespaces"},
		{"-A", "--opted-in"},
		{"-o", "yaml"},
		{"--page-size", "0"},
		{"somefile.yaml"},
		{"--kubeconfig", filepath.Join(t.TempDir(), "missing")},
	} {
		code, _, errs := runCmd(t, "", append([]string{"audit"}, args...)...)
		assert.Equal(t, exitError, code, "%v: %s", args, errs)
		assert.Contains(t, errs, "stickyguard audit: ", "%v", args)
	}
}

// TestAuditCommand runs `stickyguard audit` against a real API server.
func TestAuditCommand(t *testing.T) {
	e, err := audittest.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Stop() })
	ctx := context.Background()
	dir := t.TempDir()
	kubeconfig := func(name string, groups ...string) string {
		t.Helper()
		b, err := e.Kubeconfig(name, groups...)
		require.NoError(t, err)
		p := filepath.Join(dir, name+".kubeconfig")
		require.NoError(t, os.WriteFile(p, b, 0o600))
		return p
	}
	admin := kubeconfig("admin", "system:masters")

	newNS := func(prefix string, labels map[string]string) string {
		ns, err := e.Namespace(ctx, prefix, labels)
		require.NoError(t, err)
		return ns
	}
	svc := func(ns, name string, selector map[string]string) *corev1.Service {
		return &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec:       corev1.ServiceSpec{Selector: selector, Ports: []corev1.ServicePort{{Port: 80}}},
		}
	}
	// A broken namespace (opted in) and a clean one (not opted in).
	broken := newNS("cli-broken", map[string]string{sticky.LabelMode: "audit"})
	clean := newNS("cli-clean", nil)
	for _, o := range []client.Object{
		svc(broken, "web", map[string]string{"app": "web", "sessionAffinity": "ClientIP"}),
		svc(clean, "web", map[string]string{"app": "web"}),
	} {
		require.NoError(t, e.Client.Create(ctx, o))
	}

	t.Run("text", func(t *testing.T) {
		code, out, errs := runCmd(t, "", "audit", "--kubeconfig", admin, "-n", broken)
		assert.Equal(t, exitDenied, code, errs)
		assert.Contains(t, out, fmt.Sprintf("cluster:%s/Service/web Service/%s/web SVC-001 spec.selector[sessionAffinity]: ", broken, broken))
		assert.Contains(t, out, "1 objects checked: 1 denied")

		code, out, errs = runCmd(t, "", "audit", "--kubeconfig", admin, "-n", clean)
		assert.Equal(t, exitOK, code, errs)
		assert.Contains(t, out, "1 objects checked: 0 denied")
	})

	t.Run("json has the check schema", func(t *testing.T) {
		code, out, errs := runCmd(t, "", "audit", "--kubeconfig", admin, "--opted-in", "-o", "json")
		assert.Equal(t, exitDenied, code, errs)
		rep := decodeReport(t, out)
		var sources []string
		for _, r := range rep.Results {
			sources = append(sources, r.Source)
		}
		assert.Contains(t, sources, "cluster:"+broken+"/Service/web")
		assert.NotContains(t, sources, "cluster:"+clean+"/Service/web", "not opted in")
		assert.NotNil(t, rep.Skipped)

		code, out, errs = runCmd(t, "", "audit", "--kubeconfig", admin, "-A", "-o", "json")
		assert.Equal(t, exitDenied, code, errs)
		assert.Contains(t, out, `"source": "cluster:`+clean+`/Service/web"`)
	})

	t.Run("policyreport prints YAML, --apply writes it", func(t *testing.T) {
		code, out, errs := runCmd(t, "", "audit", "--kubeconfig", admin, "-n", broken, "-o", "policyreport")
		assert.Equal(t, exitDenied, code, errs)
		dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(out), 4096)
		var u unstructured.Unstructured
		require.NoError(t, dec.Decode(&u.Object))
		assert.Equal(t, "PolicyReport", u.GetKind())
		assert.Equal(t, broken, u.GetNamespace())
		assert.NotContains(t, errs, "applied", "nothing applied without --apply")
		// The cluster has none of the Gateway API and mesh CRDs: a note,
		// not an error.
		assert.Equal(t, "stickyguard audit: note: not served in this cluster, so not checked: httproutes.gateway.networking.k8s.io, "+
			"grpcroutes.gateway.networking.k8s.io, xbackendtrafficpolicies.gateway.networking.x-k8s.io, backendtrafficpolicies.gateway.envoyproxy.io, "+
			"destinationrules.networking.istio.io, gcpbackendpolicies.networking.gke.io\n", errs)
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(audit.PolicyReportGVK)
		assert.Error(t, e.Client.Get(ctx, client.ObjectKey{Namespace: broken, Name: audit.PolicyReportName}, got))

		code, _, errs = runCmd(t, "", "audit", "--kubeconfig", admin, "-n", broken, "--apply")
		assert.Equal(t, exitDenied, code, errs)
		assert.Contains(t, errs, fmt.Sprintf("policyreport.wgpolicyk8s.io/stickyguard-audit applied in namespace %s (1 fail, 0 warn)", broken))
		require.NoError(t, e.Client.Get(ctx, client.ObjectKey{Namespace: broken, Name: audit.PolicyReportName}, got))
		fail, _, _ := unstructured.NestedInt64(got.Object, "summary", "fail")
		assert.EqualValues(t, 1, fail)

		code, out, errs = runCmd(t, "", "audit", "--kubeconfig", admin, "-n", broken, "--apply", "-o", "policyreport")
		assert.Equal(t, exitDenied, code, errs)
		assert.Contains(t, out, "kind: PolicyReport")
		assert.NotContains(t, out, "managedFields", "prints what it applied, not the server's copy")
	})

	t.Run("a namespace owner audits without cluster-wide reads", func(t *testing.T) {
		user := "cli-owner"
		for _, o := range []client.Object{
			&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: broken, Name: user}, Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"services"}, Verbs: []string{"list"}},
				{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingresses"}, Verbs: []string{"list"}},
				{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"list"}},
			}},
			&rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Namespace: broken, Name: user},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: user},
				Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
			},
		} {
			require.NoError(t, e.Client.Create(ctx, o))
		}
		kc := kubeconfig(user)
		var code int
		var out, errs string
		require.NoError(t, audittest.Eventually(ctx, 10*time.Second, func() (bool, error) {
			code, out, errs = runCmd(t, "", "audit", "--kubeconfig", kc, "-n", broken)
			return code == exitDenied, nil
		}), "stderr: %s", errs)
		assert.Contains(t, out, "SVC-001")
		assert.Contains(t, errs, `stickyguard audit: warning: cannot list ingressclasses.networking.k8s.io cluster-wide: forbidden (needs RBAC verb "list" on "ingressclasses" in group "networking.k8s.io"); ingress classes are resolved from the policy's classControllers map only`)
	})

	t.Run("no permission names the verb and resource", func(t *testing.T) {
		user := "cli-auditor"
		rules := []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"services"}, Verbs: []string{"list"}},
			{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingresses", "ingressclasses"}, Verbs: []string{"list"}},
		}
		for _, o := range []client.Object{
			&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: user}, Rules: rules},
			&rbacv1.ClusterRoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: user},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: user},
				Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
			},
		} {
			require.NoError(t, e.Client.Create(ctx, o))
		}
		kc := kubeconfig(user)
		want := fmt.Sprintf(`stickyguard audit: cannot list deployments.apps in namespace %q: forbidden (needs RBAC verb "list" on "deployments" in group "apps")`, broken)
		var code int
		var errs string
		require.NoError(t, audittest.Eventually(ctx, 10*time.Second, func() (bool, error) {
			code, _, errs = runCmd(t, "", "audit", "--kubeconfig", kc, "-n", broken)
			return strings.Contains(errs, want), nil
		}), "stderr: %s", errs)
		assert.Equal(t, exitError, code)
	})

	t.Run("unreachable API server", func(t *testing.T) {
		cfg, err := os.ReadFile(admin)
		require.NoError(t, err)
		// The same credentials, a port nothing listens on.
		dead := regexp.MustCompile(`server: \S+`).ReplaceAllString(string(cfg), "server: https://127.0.0.1:1")
		require.Contains(t, dead, "server: https://127.0.0.1:1\n")
		p := filepath.Join(dir, "dead.kubeconfig")
		require.NoError(t, os.WriteFile(p, []byte(dead), 0o600))
		start := time.Now()
		code, out, errs := runCmd(t, "", "audit", "--kubeconfig", p, "-n", "default")
		assert.Equal(t, exitError, code)
		assert.Empty(t, out)
		assert.Contains(t, errs, "stickyguard audit: cannot reach the Kubernetes API server: ")
		assert.Contains(t, errs, "127.0.0.1:1")
		assert.Less(t, time.Since(start), 20*time.Second)
	})
}
