package audit_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stickyguard/stickyguard/audit"
	"github.com/stickyguard/stickyguard/audit/audittest"
	"github.com/stickyguard/stickyguard/engine"
)

// The control plane is started by the first test that needs it and shared
// by the package; TestMain stops it.
var (
	envOnce sync.Once
	env     *audittest.Env
	envErr  error
)

func testEnv(t *testing.T) *audittest.Env {
	t.Helper()
	envOnce.Do(func() { env, envErr = audittest.Start() })
	require.NoError(t, envErr)
	return env
}

func TestMain(m *testing.M) {
	code := m.Run()
	if env != nil {
		_ = env.Stop()
	}
	os.Exit(code)
}

type svcOpt func(*corev1.Service)

// service is a ClusterIP Service selecting app=<name>.
func service(ns, name string, opts ...svcOpt) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": name},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80}},
		},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// stickyLB makes a LoadBalancer Service with ClientIP affinity and
// externalTrafficPolicy Local: its pods must run one per node.
func stickyLB(s *corev1.Service) {
	s.Spec.Type = corev1.ServiceTypeLoadBalancer
	s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
	s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
}

// selects points the Service at app=<app>.
func selects(app string) svcOpt {
	return func(s *corev1.Service) { s.Spec.Selector = map[string]string{"app": app} }
}

// affinityInSelector is SVC-001 (deny): sessionAffinity typed under
// spec.selector.
func affinityInSelector(s *corev1.Service) {
	s.Spec.Selector["sessionAffinity"] = "ClientIP"
}

func ignored(reason string) svcOpt {
	return func(s *corev1.Service) {
		s.Annotations = map[string]string{"stickyguard.io/ignore": reason}
	}
}

func headless(s *corev1.Service) { s.Spec.ClusterIP = corev1.ClusterIPNone }

// deployment runs replicas pods labelled app=<app>, not spread by hostname.
func deployment(ns, name, app string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": app}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}},
			},
		},
	}
}

// spreadByHostname adds the anti-affinity DEP-001 asks for.
func spreadByHostname(d *appsv1.Deployment) {
	d.Spec.Template.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
			Weight: 100,
			PodAffinityTerm: corev1.PodAffinityTerm{
				LabelSelector: &metav1.LabelSelector{MatchLabels: d.Spec.Template.Labels},
				TopologyKey:   corev1.LabelHostname,
			},
		}},
	}}
}

func create(t *testing.T, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		require.NoError(t, testEnv(t).Client.Create(context.Background(), o), "creating %T %s", o, o.GetName())
	}
}

func namespace(t *testing.T, prefix string, labels map[string]string) string {
	t.Helper()
	ns, err := testEnv(t).Namespace(context.Background(), prefix, labels)
	require.NoError(t, err)
	return ns
}

// auditNamespace runs the audit on one namespace and returns its result.
func auditNamespace(t *testing.T, r client.Reader, ns string) *audit.NamespaceResult {
	t.Helper()
	var got *audit.NamespaceResult
	_, err := audit.Run(context.Background(), r, audit.Options{Scope: audit.Scope{Namespace: ns}}, func(nr *audit.NamespaceResult) error {
		got = nr
		return nil
	})
	require.NoError(t, err)
	require.NotNil(t, got)
	return got
}

// rulesByObject maps "Kind/name" to the rule IDs found on it, in order;
// exempt objects map to ["exempt"].
func rulesByObject(checked []engine.Checked) map[string][]string {
	out := map[string][]string{}
	for _, f := range audit.Findings(checked) {
		k := f.Doc.Kind + "/" + f.Doc.Name
		if f.Result == audit.ResultSkip {
			out[k] = append(out[k], "exempt")
			continue
		}
		out[k] = append(out[k], f.Rule)
	}
	return out
}

// The webhook's ServiceAccount, as `serve` runs.
const (
	installNamespace = "stickyguard-system"
	serviceAccount   = "system:serviceaccount:stickyguard-system:stickyguard"
)

var rbacOnce sync.Once

// serviceAccountConfig installs the RBAC that ships (the webhook's read-only
// role, the report writer, the audit's leader election) once, and returns
// a configuration authenticated as the webhook's ServiceAccount.
func serviceAccountConfig(t *testing.T) *rest.Config {
	t.Helper()
	e := testEnv(t)
	rbacOnce.Do(func() {
		ctx := context.Background()
		require.NoError(t, e.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: installNamespace}}))
		for _, f := range []string{"base/rbac.yaml", "policyreport/rbac.yaml", "policyreport/leader-election.yaml"} {
			for _, u := range manifestObjects(t, f) {
				require.NoError(t, e.Client.Create(ctx, u), "%s: %s %s", f, u.GetKind(), u.GetName())
			}
		}
	})
	cfg, err := e.UserConfig(serviceAccount, "system:serviceaccounts", "system:serviceaccounts:"+installNamespace)
	require.NoError(t, err)
	return cfg
}

// manifestObjects reads the objects of a file under manifests/.
func manifestObjects(t *testing.T, name string) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testEnv(t).Root, "manifests", name))
	require.NoError(t, err)
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}

// getReport reads a namespace's PolicyReport.
func getReport(t *testing.T, ns string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(audit.PolicyReportGVK)
	require.NoError(t, testEnv(t).Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: audit.PolicyReportName}, u))
	return u
}

// reportRules lists "result:rule:Kind/name" for each result of a report.
func reportRules(t *testing.T, u *unstructured.Unstructured) []string {
	t.Helper()
	results, _, err := unstructured.NestedSlice(u.Object, "results")
	require.NoError(t, err)
	var out []string
	for _, r := range results {
		m := r.(map[string]any)
		res := m["resources"].([]any)[0].(map[string]any)
		out = append(out, m["result"].(string)+":"+m["rule"].(string)+":"+res["kind"].(string)+"/"+res["name"].(string))
	}
	return out
}
