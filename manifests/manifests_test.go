package manifests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/stickyguard/stickyguard/certs"
	"github.com/stickyguard/stickyguard/internal/sticky"
	"github.com/stickyguard/stickyguard/policy"
)

const (
	ns          = "stickyguard-system"
	serviceName = "stickyguard-webhook"
	tlsSecret   = "stickyguard-webhook-tls"
	modeLabel   = sticky.LabelMode
)

// kustomizations lists every kustomization that ships, with what it must add.
func kustomizations(t *testing.T) map[string]string {
	root := repoRoot(t)
	tmp := t.TempDir()
	copyTree(t, filepath.Join(root, "manifests"), tmp)
	// self-managed needs certificates in its certs/ folder.
	_, err := certs.Generate(filepath.Join(tmp, "overlays", "self-managed", "certs"), certs.DefaultOptions(), certs.GenerateOptions{Force: true, NewCA: true})
	require.NoError(t, err)
	// the NetworkPolicy component, enabled the way its comment says.
	withNP := filepath.Join(tmp, "overlays", "with-networkpolicy")
	require.NoError(t, os.MkdirAll(withNP, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(withNP, "kustomization.yaml"), []byte(
		"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../../base]\ncomponents: [../../components/networkpolicy]\n"), 0o644))
	return map[string]string{
		"base":               filepath.Join(tmp, "base"),
		"cert-manager":       filepath.Join(tmp, "overlays", "cert-manager"),
		"self-managed":       filepath.Join(tmp, "overlays", "self-managed"),
		"with-networkpolicy": withNP,
	}
}

// TestOtherKustomizationsRender renders every other kustomization under
// manifests/ (e.g. policyreport/), so none ships broken. Components are
// rendered through with-networkpolicy above.
func TestOtherKustomizationsRender(t *testing.T) {
	root := filepath.Join(repoRoot(t), "manifests")
	known := map[string]bool{"base": true, "overlays/cert-manager": true, "overlays/self-managed": true}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "kustomization.yaml" {
			return err
		}
		dir := filepath.Dir(p)
		rel, _ := filepath.Rel(root, dir)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if known[filepath.ToSlash(rel)] || strings.Contains(string(b), "kind: Component") {
			return nil
		}
		t.Run(filepath.ToSlash(rel), func(t *testing.T) {
			assert.NotEmpty(t, render(t, dir))
		})
		return nil
	})
	require.NoError(t, err)
}

func TestEveryKustomizationRenders(t *testing.T) {
	for name, dir := range kustomizations(t) {
		t.Run(name, func(t *testing.T) {
			objs := render(t, dir)
			checkCommon(t, objs)
			switch name {
			case "cert-manager":
				checkCertManager(t, objs)
			case "self-managed":
				checkSelfManaged(t, objs, filepath.Join(dir, "certs"))
			case "with-networkpolicy":
				checkNetworkPolicy(t, objs)
			}
		})
	}
}

// checkCommon asserts what every install has in common.
func checkCommon(t *testing.T, objs objects) {
	for _, o := range objs {
		switch o.u.GetKind() {
		case "Namespace", "ClusterRole", "ClusterRoleBinding", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration":
		default:
			assert.Equal(t, ns, o.u.GetNamespace(), "%s %s lives in %s", o.u.GetKind(), o.u.GetName(), ns)
		}
	}
	require.Len(t, objs.all("Namespace"), 1)
	assert.Equal(t, ns, objs.all("Namespace")[0].u.GetName())
	checkRBAC(t, objs)
	dep := checkDeployment(t, objs)
	checkPDB(t, objs, dep)
	checkService(t, objs, dep)
	checkPolicyConfigMap(t, objs)
	checkWebhooks(t, objs)
}

func checkRBAC(t *testing.T, objs objects) {
	assert.Empty(t, objs.all("Role"), "no namespaced roles")
	assert.Empty(t, objs.all("RoleBinding"))
	cr := one[rbacv1.ClusterRole](t, objs, "ClusterRole")
	granted := map[string]bool{}
	for _, r := range cr.Rules {
		assert.ElementsMatch(t, []string{"get", "list", "watch"}, r.Verbs, "read-only verbs only: %v", r)
		assert.Empty(t, r.NonResourceURLs)
		assert.Empty(t, r.ResourceNames)
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				assert.NotContains(t, res, "/", "no subresources")
				assert.NotEqual(t, "*", res)
				granted[g+"/"+res] = true
			}
		}
	}
	want := []string{"/services", "/namespaces", "apps/deployments", "apps/statefulsets", "networking.k8s.io/ingresses", "networking.k8s.io/ingressclasses",
		"cloud.google.com/backendconfigs", // watched only where the CRD is served (webhook.WatchBackendConfigs)
		// the route and policy rules' related objects, and the CRDs' metadata (the installed Gateway API bundle)
		"gateway.networking.k8s.io/gateways", "gateway.networking.k8s.io/gatewayclasses",
		"gateway.networking.k8s.io/httproutes", "gateway.networking.k8s.io/grpcroutes",
		"gateway.networking.x-k8s.io/xbackendtrafficpolicies", "gateway.envoyproxy.io/backendtrafficpolicies",
		"networking.istio.io/destinationrules", "networking.gke.io/gcpbackendpolicies",
		"apiextensions.k8s.io/customresourcedefinitions"}
	got := make([]string, 0, len(granted))
	for k := range granted {
		got = append(got, k)
	}
	assert.ElementsMatch(t, want, got)

	crb := one[rbacv1.ClusterRoleBinding](t, objs, "ClusterRoleBinding")
	assert.Equal(t, cr.Name, crb.RoleRef.Name)
	sa := one[corev1.ServiceAccount](t, objs, "ServiceAccount")
	require.Len(t, crb.Subjects, 1)
	assert.Equal(t, rbacv1.Subject{Kind: "ServiceAccount", Name: sa.Name, Namespace: ns}, crb.Subjects[0])
}

func checkDeployment(t *testing.T, objs objects) *appsv1.Deployment {
	dep := one[appsv1.Deployment](t, objs, "Deployment")
	require.NotNil(t, dep.Spec.Replicas)
	assert.EqualValues(t, 2, *dep.Spec.Replicas)
	pod := dep.Spec.Template.Spec
	assert.Equal(t, "system-cluster-critical", pod.PriorityClassName)
	assert.Equal(t, "stickyguard", pod.ServiceAccountName)
	require.NotNil(t, dep.Spec.Selector)
	for k, v := range dep.Spec.Selector.MatchLabels {
		assert.Equal(t, v, dep.Spec.Template.Labels[k], "selector matches the template")
	}
	require.NotNil(t, dep.Spec.Strategy.RollingUpdate)
	assert.Equal(t, intstr.FromInt32(0), *dep.Spec.Strategy.RollingUpdate.MaxUnavailable, "upgrades keep both replicas")

	var spreadsByHost bool
	for _, c := range pod.TopologySpreadConstraints {
		if c.TopologyKey == "kubernetes.io/hostname" {
			spreadsByHost = true
			assert.Equal(t, corev1.DoNotSchedule, c.WhenUnsatisfiable)
			assert.Equal(t, dep.Spec.Selector.MatchLabels, c.LabelSelector.MatchLabels)
		}
	}
	assert.True(t, spreadsByHost, "replicas spread across nodes")

	psc := pod.SecurityContext
	require.NotNil(t, psc)
	assert.Equal(t, ptrTrue, psc.RunAsNonRoot)
	require.NotNil(t, psc.SeccompProfile)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, psc.SeccompProfile.Type)

	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	sc := c.SecurityContext
	require.NotNil(t, sc)
	assert.Equal(t, ptrTrue, sc.RunAsNonRoot)
	assert.Equal(t, ptrTrue, sc.ReadOnlyRootFilesystem)
	assert.Equal(t, ptrFalse, sc.AllowPrivilegeEscalation)
	require.NotNil(t, sc.Capabilities)
	assert.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
	assert.Empty(t, sc.Capabilities.Add)
	assert.Nil(t, sc.Privileged)
	require.NotNil(t, sc.SeccompProfile)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, sc.SeccompProfile.Type)

	assert.Equal(t, []string{"/stickyguard"}, c.Command)
	require.NotEmpty(t, c.Args)
	assert.Equal(t, "serve", c.Args[0])
	assert.Contains(t, c.Args, "--cert-dir=/tls")
	assert.Contains(t, c.Args, "--policy=/etc/stickyguard/policy.yaml")

	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	assert.Equal(t, map[string]int32{"webhook": 9443, "metrics": 8080, "health": 8081}, ports)
	for probe, path := range map[*corev1.Probe]string{c.LivenessProbe: "/healthz", c.ReadinessProbe: "/readyz"} {
		require.NotNil(t, probe)
		require.NotNil(t, probe.HTTPGet)
		assert.Equal(t, path, probe.HTTPGet.Path)
		assert.Equal(t, intstr.FromString("health"), probe.HTTPGet.Port)
	}
	assert.False(t, c.Resources.Requests.Cpu().IsZero(), "cpu request")
	assert.False(t, c.Resources.Requests.Memory().IsZero(), "memory request")
	assert.False(t, c.Resources.Limits.Memory().IsZero(), "memory limit")

	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
		assert.True(t, m.ReadOnly || m.Name == "tmp", "mount %s is read-only", m.Name)
	}
	assert.Equal(t, "/tls", mounts["tls"])
	assert.Equal(t, "/etc/stickyguard", mounts["policy"])
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		vols[v.Name] = v
	}
	require.NotNil(t, vols["tls"].Secret)
	assert.Equal(t, tlsSecret, vols["tls"].Secret.SecretName)
	require.NotNil(t, vols["policy"].ConfigMap)
	assert.Equal(t, "stickyguard-policy", vols["policy"].ConfigMap.Name)
	return dep
}

var (
	ptrTrue  = func() *bool { b := true; return &b }()
	ptrFalse = func() *bool { b := false; return &b }()
)

func checkPDB(t *testing.T, objs objects, dep *appsv1.Deployment) {
	pdb := one[policyv1.PodDisruptionBudget](t, objs, "PodDisruptionBudget")
	require.NotNil(t, pdb.Spec.MinAvailable)
	assert.Equal(t, intstr.FromInt32(1), *pdb.Spec.MinAvailable)
	assert.Nil(t, pdb.Spec.MaxUnavailable)
	assert.Equal(t, dep.Spec.Selector.MatchLabels, pdb.Spec.Selector.MatchLabels)
}

func checkService(t *testing.T, objs objects, dep *appsv1.Deployment) {
	svc := one[corev1.Service](t, objs, "Service")
	assert.Equal(t, serviceName, svc.Name)
	assert.Equal(t, dep.Spec.Selector.MatchLabels, svc.Spec.Selector)
	ports := map[int32]intstr.IntOrString{}
	for _, p := range svc.Spec.Ports {
		ports[p.Port] = p.TargetPort
	}
	assert.Equal(t, map[int32]intstr.IntOrString{443: intstr.FromString("webhook"), 8080: intstr.FromString("metrics")}, ports)
}

func checkPolicyConfigMap(t *testing.T, objs objects) {
	var cm *corev1.ConfigMap
	for _, o := range objs.all("ConfigMap") {
		if o.u.GetName() == "stickyguard-policy" {
			cm = decode[corev1.ConfigMap](t, o)
		}
	}
	require.NotNil(t, cm, "ConfigMap stickyguard-policy (unhashed name, mounted by the Deployment)")
	doc, ok := cm.Data["policy.yaml"]
	require.True(t, ok, "policy.yaml key")
	p, err := policy.Parse([]byte(doc), nil)
	require.NoError(t, err, "the shipped policy parses")
	assert.Equal(t, policy.Default().Service.ClientIPTimeout, p.Service.ClientIPTimeout, "the shipped policy spells out the defaults")
}

func checkNetworkPolicy(t *testing.T, objs objects) {
	np := one[networkingv1.NetworkPolicy](t, objs, "NetworkPolicy")
	dep := one[appsv1.Deployment](t, objs, "Deployment")
	assert.Equal(t, dep.Spec.Selector.MatchLabels, np.Spec.PodSelector.MatchLabels)
	assert.Equal(t, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}, np.Spec.PolicyTypes)
	var ports []int32
	for _, r := range np.Spec.Ingress {
		for _, p := range r.Ports {
			ports = append(ports, p.Port.IntVal)
		}
	}
	assert.ElementsMatch(t, []int32{9443, 8080}, ports, "only webhook and metrics traffic")
}
