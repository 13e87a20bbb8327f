package chart

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// get walks m by map keys (string) and list indexes (int); nil when absent.
func get(m any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			mm, ok := m.(map[string]any)
			if !ok {
				return nil
			}
			m = mm[k]
		case int:
			l, ok := m.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			m = l[k]
		}
	}
	return m
}

// obj returns a release object's content, failing when it is missing.
func obj(t *testing.T, r *Result, kind, name string) map[string]any {
	t.Helper()
	o := r.Find(kind, name)
	require.NotNil(t, o, "%s/%s not rendered; have %v", kind, name, r.Kinds())
	return o.Object
}

func hook(t *testing.T, r *Result, kind, name string) map[string]any {
	t.Helper()
	o := r.FindHook(kind, name)
	require.NotNil(t, o, "hook %s/%s not rendered", kind, name)
	return o.Object
}

func podSpec(t *testing.T, r *Result) map[string]any {
	t.Helper()
	return get(obj(t, r, "Deployment", "stickyguard"), "spec", "template", "spec").(map[string]any)
}

func container(t *testing.T, r *Result) map[string]any {
	t.Helper()
	return get(podSpec(t, r), "containers", 0).(map[string]any)
}

// hookContainers returns every container of every hook Job.
func hookContainers(r *Result) []map[string]any {
	var out []map[string]any
	for _, h := range r.Hooks {
		if h.Object.GetKind() != "Job" {
			continue
		}
		for _, list := range []string{"initContainers", "containers"} {
			cs, _ := get(h.Object.Object, "spec", "template", "spec", list).([]any)
			for _, c := range cs {
				out = append(out, c.(map[string]any))
			}
		}
	}
	return out
}

// entries returns the webhook entries whose name has the given infix
// ("" for all): ".enforce.", ".audit." or a kind such as "services.".
func entries(t *testing.T, r *Result, infix string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, w := range webhooks(t, r) {
		if strings.Contains(w["name"].(string), infix) {
			out = append(out, w)
		}
	}
	require.NotEmpty(t, out)
	return out
}

func mutating(t *testing.T, r *Result) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, w := range webhooks(t, r) {
		if !strings.Contains(w["name"].(string), ".enforce.") && !strings.Contains(w["name"].(string), ".audit.") {
			out = append(out, w)
		}
	}
	require.NotEmpty(t, out)
	return out
}

type valueCase struct {
	name  string
	keys  []string // the documented keys the case proves
	set   []any    // dotted key, value pairs
	check func(t *testing.T, r *Result)
}

// valueCases prove that each documented value changes what its comment
// says; TestEveryDocumentedValueIsTested requires one case per key.
func valueCases() []valueCase {
	cases := append(podCases(), webhookCases()...)
	cases = append(cases, certCases()...)
	return append(cases, extraCases()...)
}

func TestValues(t *testing.T) {
	for _, tc := range valueCases() {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, render(t, tc.set...))
		})
	}
}

func TestEveryDocumentedValueIsTested(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	require.NoError(t, err)
	docs, err := DocumentValues(raw)
	require.NoError(t, err)
	documented := map[string]bool{}
	for _, d := range docs {
		documented[d.Key] = true
	}
	tested := map[string]bool{}
	for _, tc := range valueCases() {
		for _, k := range tc.keys {
			assert.True(t, documented[k], "case %q names %s, which values.yaml does not document", tc.name, k)
			tested[k] = true
		}
	}
	var untested []string
	for k := range documented {
		if !tested[k] {
			untested = append(untested, k)
		}
	}
	sort.Strings(untested)
	assert.Empty(t, untested, "documented values without a case in valueCases")
}

func podCases() []valueCase {
	return []valueCase{
		{"replicas", []string{"replicaCount"}, []any{"replicaCount", 3}, func(t *testing.T, r *Result) {
			assert.EqualValues(t, 3, get(obj(t, r, "Deployment", "stickyguard"), "spec", "replicas"))
		}},
		{"image", []string{"image.repository", "image.tag", "image.pullPolicy"},
			[]any{"image.repository", "registry.example.com/sg", "image.tag", "v1.2.3", "image.pullPolicy", "Always", "certs.mode", "selfSigned"},
			func(t *testing.T, r *Result) {
				assert.Equal(t, "registry.example.com/sg:v1.2.3", container(t, r)["image"])
				assert.Equal(t, "Always", container(t, r)["imagePullPolicy"])
				job := hook(t, r, "Job", "stickyguard-certs")
				assert.Equal(t, "registry.example.com/sg:v1.2.3", get(job, "spec", "template", "spec", "initContainers", 1, "image"), "the certs hook runs the same image")
			}},
		{"image digest", []string{"image.digest"}, []any{"image.digest", "sha256:" + strings.Repeat("ab", 32)}, func(t *testing.T, r *Result) {
			assert.Equal(t, "stickyguard@sha256:"+strings.Repeat("ab", 32), container(t, r)["image"])
		}},
		{"pull secrets", []string{"imagePullSecrets"}, []any{"imagePullSecrets", []any{map[string]any{"name": "regcred"}}, "certs.mode", "selfSigned"}, func(t *testing.T, r *Result) {
			want := []any{map[string]any{"name": "regcred"}}
			assert.Equal(t, want, podSpec(t, r)["imagePullSecrets"])
			for _, h := range r.HooksFor("pre-install") {
				if h.Object.GetKind() == "Job" {
					assert.Equal(t, want, get(h.Object.Object, "spec", "template", "spec", "imagePullSecrets"))
				}
			}
		}},
		{"nameOverride", []string{"nameOverride"}, []any{"nameOverride", "sg"}, func(t *testing.T, r *Result) {
			d := obj(t, r, "Deployment", "stickyguard-sg")
			assert.Equal(t, "sg", get(d, "metadata", "labels", "app.kubernetes.io/name"))
			assert.Equal(t, "sg", get(d, "spec", "selector", "matchLabels", "app.kubernetes.io/name"))
			obj(t, r, "Service", "stickyguard-sg-webhook")
		}},
		{"fullnameOverride", []string{"fullnameOverride"}, []any{"fullnameOverride", "guard"}, func(t *testing.T, r *Result) {
			obj(t, r, "Deployment", "guard")
			obj(t, r, "Service", "guard-webhook")
			obj(t, r, "ConfigMap", "guard-policy")
			cfg := obj(t, r, "ValidatingWebhookConfiguration", "guard")
			assert.Equal(t, "guard-webhook", get(cfg, "webhooks", 0, "clientConfig", "service", "name"))
			assert.Equal(t, "stickyguard-system/guard-webhook", get(cfg, "metadata", "annotations", "cert-manager.io/inject-ca-from"))
			cert := obj(t, r, "Certificate", "guard-webhook")
			assert.Equal(t, "guard-webhook-tls", get(cert, "spec", "secretName"))
			assert.Equal(t, "guard-webhook.stickyguard-system.svc", get(cert, "spec", "dnsNames", 0))
		}},
		{"namespace", []string{"namespace.create", "namespace.labels"},
			[]any{"namespace.create", true, "namespace.labels", map[string]any{"pod-security.kubernetes.io/enforce": "baseline"}},
			func(t *testing.T, r *Result) {
				ns := obj(t, r, "Namespace", DefaultNamespace)
				assert.Equal(t, "baseline", get(ns, "metadata", "labels", "pod-security.kubernetes.io/enforce"))
			}},
		{"existing service account", []string{"serviceAccount.create"}, []any{"serviceAccount.create", false, "serviceAccount.name", "existing"}, func(t *testing.T, r *Result) {
			assert.Nil(t, r.Find("ServiceAccount", "existing"))
			assert.Nil(t, r.Find("ServiceAccount", "stickyguard"))
			assert.Equal(t, "existing", podSpec(t, r)["serviceAccountName"])
			assert.Equal(t, "existing", get(obj(t, r, "ClusterRoleBinding", "stickyguard"), "subjects", 0, "name"))
		}},
		{"service account", []string{"serviceAccount.name", "serviceAccount.annotations"},
			[]any{"serviceAccount.name", "custom", "serviceAccount.annotations", map[string]any{"iam.example.com/role": "r"}},
			func(t *testing.T, r *Result) {
				sa := obj(t, r, "ServiceAccount", "custom")
				assert.Equal(t, "r", get(sa, "metadata", "annotations", "iam.example.com/role"))
				assert.Equal(t, "custom", podSpec(t, r)["serviceAccountName"])
			}},
		{"no rbac", []string{"rbac.create"}, []any{"rbac.create", false, "audit.interval", "1h"}, func(t *testing.T, r *Result) {
			for _, k := range []string{"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"} {
				assert.Empty(t, only(r.Objects, k), k)
			}
		}},
		{"pod metadata", []string{"podAnnotations", "podLabels"},
			[]any{"podAnnotations", map[string]any{"a.example.com/x": "1"}, "podLabels", map[string]any{"team": "platform"}},
			func(t *testing.T, r *Result) {
				tpl := get(obj(t, r, "Deployment", "stickyguard"), "spec", "template", "metadata")
				assert.Equal(t, "1", get(tpl, "annotations", "a.example.com/x"))
				assert.Equal(t, "platform", get(tpl, "labels", "team"))
				assert.Equal(t, "webhook", get(tpl, "labels", "app.kubernetes.io/component"), "selector labels stay")
			}},
		{"security contexts", []string{"podSecurityContext", "securityContext"},
			[]any{"podSecurityContext", map[string]any{"runAsUser": 1000, "fsGroup": 2000}, "securityContext", map[string]any{"privileged": false}},
			func(t *testing.T, r *Result) {
				assert.EqualValues(t, 1000, get(podSpec(t, r), "securityContext", "runAsUser"))
				assert.EqualValues(t, 2000, get(podSpec(t, r), "securityContext", "fsGroup"))
				assert.Equal(t, false, get(container(t, r), "securityContext", "privileged"))
				assert.Equal(t, true, get(container(t, r), "securityContext", "readOnlyRootFilesystem"), "Helm merges a map value into the default")
			}},
		{"resources", []string{"resources"}, []any{"resources", map[string]any{"limits": map[string]any{"memory": "1Gi"}, "requests": nil}}, func(t *testing.T, r *Result) {
			assert.Equal(t, map[string]any{"limits": map[string]any{"memory": "1Gi"}}, container(t, r)["resources"])
		}},
		{"priority class", []string{"priorityClassName"}, []any{"priorityClassName", ""}, func(t *testing.T, r *Result) {
			assert.NotContains(t, podSpec(t, r), "priorityClassName")
		}},
		{"scheduling", []string{"nodeSelector", "tolerations", "affinity"},
			[]any{
				"nodeSelector", map[string]any{"kubernetes.io/os": "linux"},
				"tolerations", []any{map[string]any{"key": "infra", "operator": "Exists"}},
				"affinity", map[string]any{"nodeAffinity": map[string]any{"x": "y"}},
			},
			func(t *testing.T, r *Result) {
				ps := podSpec(t, r)
				assert.Equal(t, "linux", get(ps, "nodeSelector", "kubernetes.io/os"))
				assert.Equal(t, "infra", get(ps, "tolerations", 0, "key"))
				assert.Equal(t, "y", get(ps, "affinity", "nodeAffinity", "x"))
			}},
		{"topology spread", []string{"topologySpreadConstraints"},
			[]any{"topologySpreadConstraints", []any{
				map[string]any{"maxSkew": 2, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"},
				map[string]any{"maxSkew": 1, "topologyKey": "host", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": map[string]any{"matchLabels": map[string]any{"x": "y"}}},
			}},
			func(t *testing.T, r *Result) {
				tsc := podSpec(t, r)["topologySpreadConstraints"]
				assert.EqualValues(t, 2, get(tsc, 0, "maxSkew"))
				assert.Equal(t, map[string]any{"app.kubernetes.io/name": "stickyguard", "app.kubernetes.io/component": "webhook"}, get(tsc, 0, "labelSelector", "matchLabels"))
				assert.Equal(t, map[string]any{"x": "y"}, get(tsc, 1, "labelSelector", "matchLabels"), "a given labelSelector is kept")
			}},
		{"rollout", []string{"updateStrategy", "revisionHistoryLimit", "terminationGracePeriodSeconds"},
			[]any{"updateStrategy", map[string]any{"type": "Recreate", "rollingUpdate": nil}, "revisionHistoryLimit", 1, "terminationGracePeriodSeconds", 90},
			func(t *testing.T, r *Result) {
				d := obj(t, r, "Deployment", "stickyguard")
				assert.Equal(t, map[string]any{"type": "Recreate"}, get(d, "spec", "strategy"))
				assert.EqualValues(t, 1, get(d, "spec", "revisionHistoryLimit"))
				assert.EqualValues(t, 90, podSpec(t, r)["terminationGracePeriodSeconds"])
			}},
		{"extra args", []string{"extraArgs"}, []any{"extraArgs", []any{"--force-audit", "--zap-log-level=debug"}}, func(t *testing.T, r *Result) {
			assert.Equal(t, []any{"serve", "--cert-dir=/tls", "--policy=/etc/stickyguard/policy.yaml", "--force-audit", "--zap-log-level=debug"}, container(t, r)["args"])
		}},
		{"pdb off", []string{"podDisruptionBudget.enabled"}, []any{"podDisruptionBudget.enabled", false}, func(t *testing.T, r *Result) {
			assert.Empty(t, only(r.Objects, "PodDisruptionBudget"))
		}},
		{"pdb percentage", []string{"podDisruptionBudget.minAvailable"}, []any{"podDisruptionBudget.minAvailable", "50%"}, func(t *testing.T, r *Result) {
			assert.Equal(t, "50%", get(obj(t, r, "PodDisruptionBudget", "stickyguard"), "spec", "minAvailable"))
		}},
	}
}

func webhookCases() []valueCase {
	return []valueCase{
		{"timeout", []string{"webhook.timeoutSeconds"}, []any{"webhook.timeoutSeconds", 10}, func(t *testing.T, r *Result) {
			for _, w := range entries(t, r, "") {
				assert.EqualValues(t, 10, w["timeoutSeconds"], w["name"])
			}
		}},
		{"failure policies", []string{"webhook.failurePolicy.enforce", "webhook.failurePolicy.audit", "webhook.failurePolicy.mutating"},
			[]any{"webhook.failurePolicy.enforce", "Ignore", "webhook.failurePolicy.audit", "Fail", "webhook.failurePolicy.mutating", "Fail"},
			func(t *testing.T, r *Result) {
				for infix, want := range map[string]string{".enforce.": "Ignore", ".audit.": "Fail"} {
					es := entries(t, r, infix)
					assert.Len(t, es, 10, "one enforce and one audit entry per kind: 4 core and 6 Gateway API and mesh kinds")
					for _, w := range es {
						assert.Equal(t, want, w["failurePolicy"], w["name"])
					}
				}
				for _, w := range mutating(t, r) {
					assert.Equal(t, "Fail", w["failurePolicy"], w["name"])
				}
			}},
		{"excluded namespaces", []string{"webhook.excludedNamespaces"}, []any{"webhook.excludedNamespaces", []any{"kube-system", "monitoring"}}, func(t *testing.T, r *Result) {
			for _, w := range entries(t, r, "") {
				assert.Equal(t, []any{"kube-system", "monitoring", DefaultNamespace}, get(w, "namespaceSelector", "matchExpressions", 1, "values"), w["name"])
			}
		}},
		{"namespace selector", []string{"webhook.namespaceSelector.matchExpressions", "webhook.namespaceSelector.matchLabels"},
			[]any{
				"webhook.namespaceSelector.matchExpressions", []any{map[string]any{"key": "team", "operator": "Exists"}},
				"webhook.namespaceSelector.matchLabels", map[string]any{"env": "prod"},
			},
			func(t *testing.T, r *Result) {
				for _, w := range entries(t, r, "") {
					sel := w["namespaceSelector"]
					assert.Len(t, get(sel, "matchExpressions"), 3, w["name"])
					assert.Equal(t, "stickyguard.io/mode", get(sel, "matchExpressions", 0, "key"))
					assert.Equal(t, "team", get(sel, "matchExpressions", 2, "key"))
					assert.Equal(t, "prod", get(sel, "matchLabels", "env"))
				}
			}},
		{"object selector", []string{"webhook.objectSelector"}, []any{"webhook.objectSelector", map[string]any{"matchLabels": map[string]any{"bot": "no"}}}, func(t *testing.T, r *Result) {
			for _, w := range entries(t, r, "") {
				assert.Equal(t, "no", get(w, "objectSelector", "matchLabels", "bot"), w["name"])
			}
		}},
		{"match conditions off", []string{"webhook.matchConditions.enabled"}, []any{"webhook.matchConditions.enabled", false}, func(t *testing.T, r *Result) {
			for _, w := range entries(t, r, "") {
				assert.NotContains(t, w, "matchConditions", w["name"])
			}
			assert.Len(t, conditioned(t, render(t)), 12, "on by default: 2 mutating and 2 validating Service entries, 2 each for XBackendTrafficPolicy, BackendTrafficPolicy, DestinationRule and GCPBackendPolicy")
		}},
		{"policy", []string{"policy"},
			[]any{"policy.antiAffinity.mode", "required", "policy.rules", map[string]any{"SVC-007": "warn"}, "policy.ingress.defaultController", "k8s.io/ingress-nginx"},
			func(t *testing.T, r *Result) {
				p := renderedPolicy(t, r)
				assert.Equal(t, "required", string(p.AntiAffinity.Mode))
				assert.Equal(t, "warn", string(p.Rules["SVC-007"]))
				assert.Equal(t, "k8s.io/ingress-nginx", p.Ingress.DefaultController)
				assert.EqualValues(t, 100, p.AntiAffinity.Weight, "values not set keep their defaults")
			}},
	}
}

func conditioned(t *testing.T, r *Result) []string {
	var out []string
	for _, w := range entries(t, r, "") {
		if _, ok := w["matchConditions"]; ok {
			out = append(out, w["name"].(string))
		}
	}
	return out
}
