package audit_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stickyguard/stickyguard/audit"
	"github.com/stickyguard/stickyguard/audit/audittest"
)

// statefulSet runs replicas pods labelled app=<app>, not spread by hostname.
func statefulSet(ns, name, app string, replicas int32) *appsv1.StatefulSet {
	labels := map[string]string{"app": app}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr.To(replicas),
			ServiceName: name + "-headless",
			Selector:    &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}},
			},
		},
	}
}

// TestAuditUnspreadStatefulSet: a StatefulSet stored before its sticky
// Service (or with the webhook off) is reported on both objects, in the
// listing and in the namespace's PolicyReport, read as the webhook's
// ServiceAccount with the RBAC that ships.
func TestAuditUnspreadStatefulSet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := namespace(t, "sts", nil)
	create(t, statefulSet(ns, "chat", "chat", 3), statefulSet(ns, "db", "db", 3))
	create(t, service(ns, "chat", stickyLB))

	sa, err := client.New(serviceAccountConfig(t), client.Options{})
	require.NoError(t, err)
	var nr *audit.NamespaceResult
	var st audit.Stats
	require.NoError(t, audittest.Eventually(ctx, 10*time.Second, func() (bool, error) {
		st, err = audit.Run(ctx, sa, audit.Options{Scope: audit.Scope{Namespace: ns}}, func(r *audit.NamespaceResult) error { nr = r; return nil })
		return err == nil, err
	}), "audit as the webhook's ServiceAccount")
	for _, w := range st.Warnings {
		assert.NotContains(t, w, "statefulsets", "the shipped role may list StatefulSets")
	}

	got := rulesByObject(nr.Checked)
	assert.Contains(t, got["StatefulSet/chat"], "DEP-001", "the default enforce mode would add on the next write")
	assert.Contains(t, got["StatefulSet/chat"], "DEP-002", "and that write rolls the pods")
	assert.NotContains(t, got, "StatefulSet/db", "no sticky Service selects it")
	assert.Contains(t, got["Service/chat"], "SVC-012")
	for _, f := range audit.Findings(nr.Checked) {
		if f.Rule == "SVC-012" {
			assert.Contains(t, f.Message, "StatefulSets without hostname spread: chat")
		}
	}
	var kinds []string
	for _, c := range nr.Checked {
		kinds = append(kinds, c.Doc.Kind+"/"+c.Doc.Name)
	}
	assert.Equal(t, []string{"Service/chat", "StatefulSet/chat", "StatefulSet/db"}, kinds, "Services, then StatefulSets, each by name")

	require.NoError(t, audit.ApplyPolicyReport(ctx, testEnv(t).Client, audit.PolicyReport(ns, nr.Checked, time.Now())))
	report := getReport(t, ns)
	rules := reportRules(t, report)
	assert.Contains(t, rules, "warn:DEP-001:StatefulSet/chat")
	assert.Contains(t, rules, "warn:SVC-012:Service/chat")
	results, _, _ := unstructured.NestedSlice(report.Object, "results")
	for _, r := range results {
		ref := r.(map[string]any)["resources"].([]any)[0].(map[string]any)
		if ref["kind"] == "StatefulSet" {
			assert.Equal(t, "apps/v1", ref["apiVersion"])
			assert.NotEmpty(t, ref["uid"])
		}
	}
	for _, r := range rules {
		assert.False(t, strings.HasSuffix(r, "StatefulSet/db"), r)
	}
}
