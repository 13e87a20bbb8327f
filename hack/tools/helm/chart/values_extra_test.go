package chart

import (
	"testing"

	"github.com/stickyguard/stickyguard/policy"
	"github.com/stickyguard/stickyguard/validators"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// renderedPolicy parses the ConfigMap's policy.yaml with serve's own parser.
func renderedPolicy(t *testing.T, r *Result) *policy.Policy {
	t.Helper()
	data := get(obj(t, r, "ConfigMap", "stickyguard-policy"), "data", "policy.yaml").(string)
	p, err := policy.Parse([]byte(data), validators.KnownRule)
	require.NoError(t, err, "serve would refuse this policy:\n%s", data)
	return p
}

func certCases() []valueCase {
	return []valueCase{
		{"selfSigned", []string{"certs.mode"}, []any{"certs.mode", "selfSigned"}, func(t *testing.T, r *Result) {
			assert.Empty(t, only(r.Objects, "Certificate", "Issuer"))
			for _, kind := range []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
				assert.Empty(t, r.Find(kind, "stickyguard").GetAnnotations(), "no cainjector annotation")
			}
			assert.Equal(t, []string{"Job/stickyguard-certs"}, jobs(r, "pre-install"))
			assert.Equal(t, []string{"Job/stickyguard-certs"}, jobs(r, "pre-upgrade"))
			assert.Equal(t, []string{"Job/stickyguard-cabundle"}, jobs(r, "post-install"))
			assert.Equal(t, []string{"Job/stickyguard-cabundle"}, jobs(r, "post-upgrade"))
		}},
		{"external issuer", []string{"certs.certManager.issuerRef"},
			[]any{"certs.certManager.issuerRef", map[string]any{"name": "corp-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"}},
			func(t *testing.T, r *Result) {
				assert.Empty(t, only(r.Objects, "Issuer"))
				certs := only(r.Objects, "Certificate")
				require.Len(t, certs, 1)
				assert.Equal(t, map[string]any{"name": "corp-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"}, get(certs[0].Object, "spec", "issuerRef"))
			}},
		{"cert-manager durations", []string{"certs.certManager.caDuration", "certs.certManager.duration", "certs.certManager.renewBefore"},
			[]any{"certs.certManager.caDuration", "43800h", "certs.certManager.duration", "2160h", "certs.certManager.renewBefore", "360h"},
			func(t *testing.T, r *Result) {
				ca, leaf := obj(t, r, "Certificate", "stickyguard-ca"), obj(t, r, "Certificate", "stickyguard-webhook")
				assert.Equal(t, "43800h", get(ca, "spec", "duration"))
				assert.Equal(t, "2160h", get(leaf, "spec", "duration"))
				assert.Equal(t, "360h", get(leaf, "spec", "renewBefore"))
				assert.Equal(t, "360h", get(ca, "spec", "renewBefore"))
			}},
		{"selfSigned certificates", []string{"certs.selfSigned.caValidity", "certs.selfSigned.validity", "certs.selfSigned.renewBefore", "certs.selfSigned.keyType"},
			[]any{"certs.mode", "selfSigned", "certs.selfSigned.caValidity", "43800h", "certs.selfSigned.validity", "2160h", "certs.selfSigned.renewBefore", "360h", "certs.selfSigned.keyType", "rsa"},
			func(t *testing.T, r *Result) {
				args := get(hook(t, r, "Job", "stickyguard-certs"), "spec", "template", "spec", "initContainers", 1, "args")
				assert.Subset(t, args, []any{"certs", "--ca-validity=43800h", "--validity=2160h", "--renew-before=360h", "--key-type=rsa",
					"--service=stickyguard-webhook", "--namespace=stickyguard-system", "--hosts="})
			}},
		{"hook image", []string{"hooks.image.repository", "hooks.image.tag", "hooks.image.pullPolicy", "hooks.resources"},
			[]any{"hooks.image.repository", "mirror.example.com/kubectl", "hooks.image.tag", "v9", "hooks.image.pullPolicy", "Never",
				"hooks.resources", map[string]any{"limits": map[string]any{"memory": "64Mi"}, "requests": nil}, "certs.mode", "selfSigned"},
			func(t *testing.T, r *Result) {
				cs := hookContainers(r)
				require.Len(t, cs, 5, "fetch, certs, store, cabundle, uninstall")
				for _, c := range cs {
					if c["name"] == "certs" {
						continue // runs the webhook image
					}
					assert.Equal(t, "mirror.example.com/kubectl:v9", c["image"], c["name"])
					assert.Equal(t, "Never", c["imagePullPolicy"], c["name"])
					assert.Equal(t, map[string]any{"limits": map[string]any{"memory": "64Mi"}}, c["resources"], c["name"])
				}
			}},
		{"no pre-delete hook", []string{"hooks.preDelete.enabled"}, []any{"hooks.preDelete.enabled", false}, func(t *testing.T, r *Result) {
			assert.Empty(t, r.Hooks, "certManager without the pre-delete hook needs no hook at all")
			assert.Equal(t, []string{"Job/stickyguard-uninstall"}, jobs(render(t), "pre-delete"), "on by default")
		}},
	}
}

func extraCases() []valueCase {
	return []valueCase{
		{"service monitor", []string{"serviceMonitor.enabled", "serviceMonitor.interval", "serviceMonitor.scrapeTimeout", "serviceMonitor.labels", "serviceMonitor.relabelings", "serviceMonitor.metricRelabelings"},
			[]any{"serviceMonitor.enabled", true, "serviceMonitor.interval", "15s", "serviceMonitor.scrapeTimeout", "10s",
				"serviceMonitor.labels", map[string]any{"release": "prom"},
				"serviceMonitor.relabelings", []any{map[string]any{"action": "keep"}},
				"serviceMonitor.metricRelabelings", []any{map[string]any{"action": "drop"}}},
			func(t *testing.T, r *Result) {
				sm := obj(t, r, "ServiceMonitor", "stickyguard")
				assert.Equal(t, "prom", get(sm, "metadata", "labels", "release"))
				ep := get(sm, "spec", "endpoints", 0)
				assert.Equal(t, "metrics", get(ep, "port"))
				assert.Equal(t, "15s", get(ep, "interval"))
				assert.Equal(t, "10s", get(ep, "scrapeTimeout"))
				assert.Equal(t, "keep", get(ep, "relabelings", 0, "action"))
				assert.Equal(t, "drop", get(ep, "metricRelabelings", 0, "action"))
				assert.Equal(t, map[string]any{"app.kubernetes.io/name": "stickyguard", "app.kubernetes.io/component": "webhook"}, get(sm, "spec", "selector", "matchLabels"))
				assert.Empty(t, only(render(t).Objects, "ServiceMonitor"), "off by default")
			}},
		{"prometheus rule", []string{"prometheusRule.enabled", "prometheusRule.labels", "prometheusRule.additionalRules"},
			[]any{"prometheusRule.enabled", true, "prometheusRule.labels", map[string]any{"release": "prom"},
				"prometheusRule.additionalRules", []any{map[string]any{"alert": "Mine", "expr": "vector(1)"}}},
			func(t *testing.T, r *Result) {
				pr := obj(t, r, "PrometheusRule", "stickyguard")
				assert.Equal(t, "prom", get(pr, "metadata", "labels", "release"))
				assert.Equal(t, []string{"StickyguardUnavailable", "StickyguardDegraded", "StickyguardWebhookCallsFailing", "StickyguardMutationsSkipped",
					"StickyguardSlow", "StickyguardErrors", "StickyguardCertificateExpiring", "Mine"}, alerts(pr))
				assert.Equal(t, `kube_deployment_status_replicas_available{namespace="stickyguard-system",deployment="stickyguard"} < 1`, get(pr, "spec", "groups", 0, "rules", 0, "expr"))
				self := obj(t, render(t, "prometheusRule.enabled", true, "certs.mode", "selfSigned", "audit.interval", "30m"), "PrometheusRule", "stickyguard")
				assert.NotContains(t, alerts(self), "StickyguardCertificateExpiring", "the cert-manager metric exists only with certManager")
				assert.Contains(t, alerts(self), "StickyguardAuditStale")
				assert.Contains(t, get(self, "spec", "groups", 0, "rules", 6, "expr"), "> 3 * 1800", "three audit intervals")
			}},
		{"network policy", []string{"networkPolicy.enabled", "networkPolicy.metricsNamespaceSelector"},
			[]any{"networkPolicy.enabled", true, "networkPolicy.metricsNamespaceSelector", map[string]any{"matchLabels": map[string]any{"name": "monitoring", "stickyguard.io/metrics-scraper": nil}}},
			func(t *testing.T, r *Result) {
				np := obj(t, r, "NetworkPolicy", "stickyguard")
				assert.Equal(t, map[string]any{"matchLabels": map[string]any{"name": "monitoring"}}, get(np, "spec", "ingress", 1, "from", 0, "namespaceSelector"))
				assert.Empty(t, only(render(t).Objects, "NetworkPolicy"), "off by default")
			}},
		{"audit", []string{"audit.interval", "audit.policyReports.installCRD"}, []any{"audit.interval", "1h", "audit.policyReports.installCRD", true}, func(t *testing.T, r *Result) {
			assert.Contains(t, container(t, r)["args"], "--audit-interval=1h")
			obj(t, r, "Role", "stickyguard-audit-leader-election")
			obj(t, r, "ClusterRole", "stickyguard-audit-report-writer")
			obj(t, r, "CustomResourceDefinition", "policyreports.wgpolicyk8s.io")
			off := render(t, "audit.interval", "1h")
			assert.Nil(t, off.Find("CustomResourceDefinition", "policyreports.wgpolicyk8s.io"), "the CRD is optional")
			assert.Empty(t, only(render(t).Objects, "Role"), "no audit, no writer role")
		}},
	}
}

func jobs(r *Result, event string) []string {
	var out []string
	for _, h := range r.HooksFor(event) {
		if h.Object.GetKind() == "Job" {
			out = append(out, "Job/"+h.Object.GetName())
		}
	}
	return out
}

func alerts(pr map[string]any) []string {
	var out []string
	rules, _ := get(pr, "spec", "groups", 0, "rules").([]any)
	for _, r := range rules {
		out = append(out, get(r, "alert").(string))
	}
	return out
}

// A typo or a wrong value fails at install: values.schema.json rejects it
// and the error names the offending key.
func TestSchemaRejects(t *testing.T) {
	cases := []struct {
		name  string
		set   []any
		field string
	}{
		{"misspelled top-level key", []any{"replicaCout", 3}, "replicaCout"},
		{"misspelled nested key", []any{"image.tagg", "v1"}, "tagg"},
		{"lower-case failure policy", []any{"webhook.failurePolicy.enforce", "fail"}, "/webhook/failurePolicy/enforce"},
		{"unknown certs mode", []any{"certs.mode", "selfsigned"}, "/certs/mode"},
		{"timeout above 30 s", []any{"webhook.timeoutSeconds", 31}, "/webhook/timeoutSeconds"},
		{"unknown policy key", []any{"policy.service.clientIPTimout", 5}, "clientIPTimout"},
		{"anti-affinity mode", []any{"policy.antiAffinity.mode", "sometimes"}, "/policy/antiAffinity/mode"},
		{"anti-affinity weight", []any{"policy.antiAffinity.weight", 0}, "/policy/antiAffinity/weight"},
		{"rule override", []any{"policy.rules", map[string]any{"SVC-007": "block"}}, "/policy/rules/SVC-007"},
		{"timeout above the API maximum", []any{"policy.service.clientIPTimeout.max", 90000}, "/policy/service/clientIPTimeout/max"},
		{"duration", []any{"certs.certManager.duration", "1 year"}, "/certs/certManager/duration"},
		{"audit interval", []any{"audit.interval", "hourly"}, "/audit/interval"},
		{"issuer without name", []any{"certs.certManager.issuerRef", map[string]any{"kind": "ClusterIssuer"}}, "name"},
		{"flag without dashes", []any{"extraArgs", []any{"force-audit"}}, "/extraArgs/0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Render(Options{ChartDir: chartDir, Values: values(t, tc.set...)})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.field)
			assert.Contains(t, err.Error(), "values don't meet the specifications of the schema")
		})
	}
}

// Every rule ID the schema lets through must be one serve knows; the
// schema's pattern and enum agree with the policy parser.
func TestPolicyValuesParse(t *testing.T) {
	overrides := map[string]any{}
	for _, rule := range validators.Catalog() {
		overrides[rule.ID] = "disabled"
	}
	require.NotEmpty(t, overrides)
	p := renderedPolicy(t, render(t, "policy.rules", overrides))
	assert.Len(t, p.Rules, len(overrides))
	def := renderedPolicy(t, render(t))
	want := policy.Default()
	assert.Equal(t, want.Service, def.Service)
	assert.Equal(t, want.AntiAffinity, def.AntiAffinity)
	assert.Equal(t, want.Cluster, def.Cluster)
}

// The hook identity may touch only this release's webhook configurations
// and certificate Secrets, and exists before the Jobs that use it.
func TestHookRBACAndOrder(t *testing.T) {
	r := render(t, "certs.mode", "selfSigned", "fullnameOverride", "guard")
	cr := hook(t, r, "ClusterRole", "guard-hooks")
	assert.Equal(t, []any{map[string]any{
		"apiGroups":     []any{"admissionregistration.k8s.io"},
		"resources":     []any{"mutatingwebhookconfigurations", "validatingwebhookconfigurations"},
		"resourceNames": []any{"guard"},
		"verbs":         []any{"get", "patch", "delete"},
	}}, cr["rules"])
	role := hook(t, r, "Role", "guard-hooks")
	assert.Equal(t, []any{"guard-webhook-tls", "guard-ca"}, get(role, "rules", 1, "resourceNames"))
	assert.Equal(t, []any{"create"}, get(role, "rules", 0, "verbs"))
	for _, event := range []string{"pre-install", "pre-upgrade", "post-install", "post-upgrade", "pre-delete"} {
		hs := r.HooksFor(event)
		require.NotEmpty(t, hs, event)
		last := hs[len(hs)-1]
		assert.Equal(t, "Job", last.Object.GetKind(), "%s: the Job runs after its ServiceAccount and RBAC", event)
		for _, h := range hs {
			assert.True(t, h.DeleteSucceeded, "%s %s/%s is deleted when the event succeeded", event, h.Object.GetKind(), h.Object.GetName())
			if h.Object.GetKind() != "Job" {
				assert.Less(t, h.Weight, last.Weight, event)
			}
		}
	}
	script := get(hook(t, r, "Job", "guard-uninstall"), "spec", "template", "spec", "containers", 0, "args", 0).(string)
	assert.Contains(t, script, "kubectl delete mutatingwebhookconfiguration/guard validatingwebhookconfiguration/guard --ignore-not-found")
	assert.Contains(t, script, "delete secret guard-webhook-tls guard-ca")
}

// Upgrades render the caBundle the cluster holds (the serving Secret's
// ca.crt) into every entry, in both modes, so applying the upgrade never
// removes or changes it.
func TestUpgradeRendersTheClusterCABundle(t *testing.T) {
	secret := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": "stickyguard-webhook-tls", "namespace": DefaultNamespace},
		"data":     map[string]any{"ca.crt": "Q0EgUEVN", "tls.crt": "eA==", "tls.key": "eQ=="},
	}}
	for _, mode := range []string{"certManager", "selfSigned"} {
		t.Run(mode, func(t *testing.T) {
			r, err := Render(Options{ChartDir: chartDir, Values: values(t, "certs.mode", mode), Upgrade: true, Lookup: lookupOf(t, secret)})
			require.NoError(t, err)
			for _, w := range webhooks(t, r) {
				assert.Equal(t, "Q0EgUEVN", get(w, "clientConfig", "caBundle"), w["name"])
			}
		})
	}
}
