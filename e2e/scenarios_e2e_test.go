//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestE2E runs the scenarios in a fixed order: the ones that stop the
// webhook or change its certificate and policy come last and restore it.
func TestE2E(t *testing.T) {
	waitWebhookServing(t)
	t.Run("examples", testExamples)
	t.Run("sticky-backend-spread-by-scheduler", testSpread)
	t.Run("sticky-statefulset-spread-by-scheduler", testSpreadStatefulSet)
	t.Run("unlabelled-namespace-untouched", testUnlabelled)
	t.Run("gateway-api-routes", testGatewayRoutes)
	t.Run("metrics", testMetrics)
	t.Run("policy-reload", testPolicyReload)
	t.Run("cert-rotation-no-failures", testCertRotation)
	t.Run("webhook-down", testWebhookDown)
}

// stickyLB is a sticky LoadBalancer Service: ClientIP affinity, and ACK CLB
// source-IP persistence, which pins clients to nodes, so stickyguard sets
// externalTrafficPolicy: Local on it (SVC-005) in enforce mode. (Plain
// ClientIP on a LoadBalancer does not need Local: STICKY-FACTS Corrections.)
func stickyLB(name string, timeout *int32) *corev1.Service {
	s := &corev1.Service{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{
			"service.beta.kubernetes.io/alibaba-cloud-loadbalancer-persistence-timeout": "1800",
		}},
		Spec: corev1.ServiceSpec{
			Type:            corev1.ServiceTypeLoadBalancer,
			Selector:        map[string]string{"app": name},
			SessionAffinity: corev1.ServiceAffinityClientIP,
			Ports:           []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	}
	if timeout != nil {
		s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: timeout}}
	}
	return s
}

func backend(name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27"}}},
			},
		},
	}
}

func toJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// dryRunService creates svc with server-side dry-run (the webhooks still
// run: sideEffects None) and returns what the API server would store.
func dryRunService(ctx context.Context, ns string, svc *corev1.Service) (*corev1.Service, error) {
	return env.Client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
}

// waitWebhookServing waits until a review in an enforce namespace is
// answered by the webhook (the mutation shows), e.g. after a start.
func waitWebhookServing(t *testing.T) {
	t.Helper()
	ns := namespace(t, "probe", enforce)
	eventually(t, 90*time.Second, "the webhook to answer reviews", func() error {
		got, err := dryRunService(context.Background(), ns, stickyLB("probe", nil))
		if err != nil {
			return err
		}
		if got.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal {
			return fmt.Errorf("externalTrafficPolicy %q: the mutating webhook did not answer", got.Spec.ExternalTrafficPolicy)
		}
		return nil
	})
}

// testSpread: a sticky Local LoadBalancer Service and its 3-replica
// Deployment. The webhook injects hostname pod anti-affinity into the
// Deployment, and the real kube-scheduler puts the replicas on 3 nodes.
func testSpread(t *testing.T) {
	ns := namespace(t, "spread", enforce)
	svc := stickyLB("sticky", nil)
	svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	mustKubectl(t, toJSON(t, svc), "-n", ns, "apply", "--server-side", "-f", "-")

	dep := backend("sticky", 3)
	// The webhook's cache must have seen the Service before it can tell the
	// Deployment is a sticky backend.
	eventually(t, 20*time.Second, "DEP-001 on a dry run", func() error {
		r := kubectl(t, toJSON(t, dep), "-n", ns, "apply", "--server-side", "--dry-run=server", "-o", "json", "-f", "-")
		if r.Err != nil {
			return r.Err
		}
		if !strings.Contains(r.Stdout, "podAntiAffinity") {
			return fmt.Errorf("no anti-affinity injected yet")
		}
		return nil
	})
	r := mustKubectl(t, toJSON(t, dep), "-n", ns, "apply", "--server-side", "-f", "-")
	assert.True(t, anyContains(r.Warnings(), "DEP-001"), "enforce reports the injected default: %q", r.Warnings())

	got, err := env.Client.AppsV1().Deployments(ns).Get(context.Background(), "sticky", metav1.GetOptions{})
	require.NoError(t, err)
	assertHostnameAntiAffinity(t, got.Spec.Template.Spec.Affinity, "sticky")
	assertOnePerNode(t, ns, "sticky", 3)
}

// testSpreadStatefulSet: the same for a StatefulSet behind a sticky Local
// LoadBalancer Service: the webhook injects the anti-affinity, and the
// StatefulSet controller's pods land one per node.
func testSpreadStatefulSet(t *testing.T) {
	ns := namespace(t, "spread-sts", enforce)
	svc := stickyLB("chat", nil)
	svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	mustKubectl(t, toJSON(t, svc), "-n", ns, "apply", "--server-side", "-f", "-")

	sts := statefulBackend("chat", 3)
	eventually(t, 20*time.Second, "DEP-001 on a dry run", func() error {
		r := kubectl(t, toJSON(t, sts), "-n", ns, "apply", "--server-side", "--dry-run=server", "-o", "json", "-f", "-")
		if r.Err != nil {
			return r.Err
		}
		if !strings.Contains(r.Stdout, "podAntiAffinity") {
			return fmt.Errorf("no anti-affinity injected yet")
		}
		return nil
	})
	r := mustKubectl(t, toJSON(t, sts), "-n", ns, "apply", "--server-side", "-f", "-")
	assert.True(t, anyContains(r.Warnings(), "DEP-001"), "enforce reports the injected default: %q", r.Warnings())

	got, err := env.Client.AppsV1().StatefulSets(ns).Get(context.Background(), "chat", metav1.GetOptions{})
	require.NoError(t, err)
	assertHostnameAntiAffinity(t, got.Spec.Template.Spec.Affinity, "chat")
	assertOnePerNode(t, ns, "chat", 3)
}

// statefulBackend is a StatefulSet whose pods start in parallel (the
// scheduler then places them all at once).
func statefulBackend(name string, replicas int32) *appsv1.StatefulSet {
	labels := map[string]string{"app": name}
	return &appsv1.StatefulSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            &replicas,
			ServiceName:         name + "-headless",
			PodManagementPolicy: appsv1.ParallelPodManagement,
			Selector:            &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: "nginx:1.27"}}},
			},
		},
	}
}

// assertHostnameAntiAffinity checks a hostname anti-affinity term selecting
// app=<app>.
func assertHostnameAntiAffinity(t *testing.T, aff *corev1.Affinity, app string) {
	t.Helper()
	require.NotNil(t, aff, "affinity injected")
	require.NotNil(t, aff.PodAntiAffinity)
	var selectors []map[string]string
	for _, w := range aff.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
		assert.Equal(t, "kubernetes.io/hostname", w.PodAffinityTerm.TopologyKey)
		selectors = append(selectors, w.PodAffinityTerm.LabelSelector.MatchLabels)
	}
	for _, term := range aff.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
		assert.Equal(t, "kubernetes.io/hostname", term.TopologyKey)
		selectors = append(selectors, term.LabelSelector.MatchLabels)
	}
	require.NotEmpty(t, selectors, "a hostname anti-affinity term")
	assert.Contains(t, selectors, map[string]string{"app": app})
}

// assertOnePerNode waits for n scheduled pods labelled app=<app> and checks
// that they run on n distinct nodes.
func assertOnePerNode(t *testing.T, ns, app string, n int) {
	t.Helper()
	var nodes map[string]string
	eventually(t, 90*time.Second, fmt.Sprintf("%d scheduled replicas", n), func() error {
		pods, err := env.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + app})
		if err != nil {
			return err
		}
		nodes = map[string]string{}
		for _, p := range pods.Items {
			if p.DeletionTimestamp == nil && p.Spec.NodeName != "" {
				nodes[p.Name] = p.Spec.NodeName
			}
		}
		if len(nodes) < n {
			return fmt.Errorf("%d of %d pods scheduled: %v", len(nodes), n, nodes)
		}
		return nil
	})
	distinct := map[string]bool{}
	for _, node := range nodes {
		distinct[node] = true
	}
	t.Logf("replicas: %v", nodes)
	assert.Len(t, distinct, n, "one replica per node: %v", nodes)
}

// testUnlabelled: the same sticky pair in a namespace without the label is
// stored exactly as written.
func testUnlabelled(t *testing.T) {
	ns := namespace(t, "plain", off)
	r := mustKubectl(t, toJSON(t, stickyLB("sticky", nil)), "-n", ns, "apply", "--server-side", "-f", "-")
	assert.Empty(t, r.Warnings())
	r = mustKubectl(t, toJSON(t, backend("sticky", 3)), "-n", ns, "apply", "--server-side", "-f", "-")
	assert.Empty(t, r.Warnings())
	// Give a (wrongly) subscribed webhook every chance: re-apply after a moment.
	time.Sleep(time.Second)
	mustKubectl(t, toJSON(t, backend("sticky", 3)), "-n", ns, "apply", "--server-side", "-f", "-")

	svc, err := env.Client.CoreV1().Services(ns).Get(context.Background(), "sticky", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, corev1.ServiceExternalTrafficPolicyCluster, svc.Spec.ExternalTrafficPolicy, "the API default, not stickyguard's Local")
	dep, err := env.Client.AppsV1().Deployments(ns).Get(context.Background(), "sticky", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Nil(t, dep.Spec.Template.Spec.Affinity, "no anti-affinity injected")
}
