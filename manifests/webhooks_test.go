package manifests

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/stickyguard/stickyguard/certs"
)

// checkWebhooks asserts the shipped webhook configurations' safety properties.
func checkWebhooks(t *testing.T, objs objects) {
	mwc := one[admissionregistrationv1.MutatingWebhookConfiguration](t, objs, "MutatingWebhookConfiguration")
	vwc := one[admissionregistrationv1.ValidatingWebhookConfiguration](t, objs, "ValidatingWebhookConfiguration")
	require.NotEmpty(t, mwc.Webhooks)
	require.NotEmpty(t, vwc.Webhooks)
	for _, h := range mwc.Webhooks {
		t.Run("mutating/"+h.Name, func(t *testing.T) {
			checkWebhook(t, h.ClientConfig, h.NamespaceSelector, h.SideEffects, h.TimeoutSeconds, h.AdmissionReviewVersions, h.MatchPolicy, h.Rules)
			assert.ElementsMatch(t, []string{"enforce", "audit"}, modesSelected(t, h.NamespaceSelector), "defaults are filled (enforce) or reported (audit)")
			require.NotNil(t, h.FailurePolicy)
			assert.Equal(t, admissionregistrationv1.Ignore, *h.FailurePolicy, "a missing default must not block writes")
			require.NotNil(t, h.ReinvocationPolicy)
			assert.Equal(t, admissionregistrationv1.IfNeededReinvocationPolicy, *h.ReinvocationPolicy)
		})
	}
	// The validating configuration has one entry per kind and mode: enforce
	// fails closed, audit (which promises never to block) fails open.
	modes := map[string][]string{}
	for _, h := range vwc.Webhooks {
		t.Run("validating/"+h.Name, func(t *testing.T) {
			checkWebhook(t, h.ClientConfig, h.NamespaceSelector, h.SideEffects, h.TimeoutSeconds, h.AdmissionReviewVersions, h.MatchPolicy, h.Rules)
			selected := modesSelected(t, h.NamespaceSelector)
			require.Len(t, selected, 1, "each validating entry selects exactly one mode")
			mode := selected[0]
			assert.Equal(t, fmt.Sprintf("%s.%s.stickyguard.io", h.Rules[0].Resources[0], mode), h.Name)
			require.NotNil(t, h.FailurePolicy)
			switch mode {
			case "enforce":
				assert.Equal(t, admissionregistrationv1.Fail, *h.FailurePolicy, "validation is never skipped in enforce namespaces")
			case "audit":
				assert.Equal(t, admissionregistrationv1.Ignore, *h.FailurePolicy, "audit never blocks a write, not even when the webhook is down")
			default:
				t.Errorf("unknown mode %q", mode)
			}
			modes[*h.ClientConfig.Service.Path] = append(modes[*h.ClientConfig.Service.Path], mode)
		})
	}
	for path, m := range modes {
		assert.ElementsMatch(t, []string{"enforce", "audit"}, m, "%s has one enforce and one audit entry", path)
	}
	checkMatchConditions(t, mwc, vwc)
}

// checkMatchConditions: the filter is the same for every entry of a kind
// and a half (enforce and audit see the same objects), and exists only
// where a sound object-only filter does (webhook/corpus proves it): every
// Deployment and every Ingress is validated.
func checkMatchConditions(t *testing.T, mwc *admissionregistrationv1.MutatingWebhookConfiguration, vwc *admissionregistrationv1.ValidatingWebhookConfiguration) {
	byResource := map[string][][]admissionregistrationv1.MatchCondition{}
	for _, h := range mwc.Webhooks {
		assert.LessOrEqual(t, len(h.MatchConditions), 1, h.Name)
		byResource["mutate/"+h.Rules[0].Resources[0]] = append(byResource["mutate/"+h.Rules[0].Resources[0]], h.MatchConditions)
	}
	for _, h := range vwc.Webhooks {
		assert.LessOrEqual(t, len(h.MatchConditions), 1, h.Name)
		byResource["validate/"+h.Rules[0].Resources[0]] = append(byResource["validate/"+h.Rules[0].Resources[0]], h.MatchConditions)
	}
	for key, conds := range byResource {
		for _, c := range conds[1:] {
			assert.Equal(t, conds[0], c, "every %s entry has the same matchConditions", key)
		}
	}
	assert.Empty(t, byResource["validate/deployments"][0], "DEP-001/DEP-003 depend on Services CEL cannot see: every Deployment is validated")
	assert.Empty(t, byResource["mutate/deployments"][0], "the DEP-001 default depends on Services CEL cannot see")
	assert.Empty(t, byResource["validate/statefulsets"][0], "StatefulSets get the Deployment rules: every one is validated")
	assert.Empty(t, byResource["mutate/statefulsets"][0], "the DEP-001 default on a StatefulSet depends on Services CEL cannot see")
	assert.Empty(t, byResource["validate/ingresses"][0], "NGX-023/NGX-024 can fire on an Ingress without annotations")
	require.NotEmpty(t, byResource["validate/services"][0], "Services without sticky-relevant fields are not sent")
	for _, c := range byResource["validate/services"][0] {
		assert.Contains(t, c.Expression, "oldObject", "an UPDATE that removes a sticky field is still judged")
	}
	// The kinds without defaults: no mutating entry, and the validating
	// entries are sent only objects carrying something sticky, now or on
	// UPDATE before (removing it is judged too).
	for res, field := range validatedOnly {
		assert.NotContains(t, byResource, "mutate/"+res, "stickyguard fills no %s defaults", res)
		require.Len(t, byResource["validate/"+res], 2, "%s: one enforce and one audit entry", res)
		if field == "" {
			assert.Empty(t, byResource["validate/"+res][0], "every %s is validated", res)
			continue
		}
		require.Len(t, byResource["validate/"+res][0], 1, "%s has its matchCondition", res)
		c := byResource["validate/"+res][0][0]
		assert.Contains(t, c.Expression, "has(object.spec)", "%s: a missing spec is no CEL error (which would fail closed)", res)
		assert.Contains(t, c.Expression, "oldObject", res)
		assert.Contains(t, c.Expression, field, res)
	}
	// Istio's persistent-session labels on a Service (IST-010, IST-011).
	for _, c := range byResource["validate/services"][0] {
		assert.Contains(t, c.Expression, "'istio.io/persistent-session', 'istio.io/persistent-session-header'")
	}

	// The mutating Service entry is sent only what it can fill a default on.
	require.NotEmpty(t, byResource["mutate/services"][0])
	for _, c := range byResource["mutate/services"][0] {
		assert.Contains(t, c.Expression, "'ClientIP'")
		assert.Contains(t, c.Expression, "'LoadBalancer'")
	}
}

// modesSelected returns the stickyguard.io/mode values a namespace selector
// admits.
func modesSelected(t *testing.T, sel *metav1.LabelSelector) []string {
	t.Helper()
	require.NotNil(t, sel)
	var out []string
	for _, e := range sel.MatchExpressions {
		if e.Key == modeLabel && e.Operator == metav1.LabelSelectorOpIn {
			out = append(out, e.Values...)
		}
	}
	assert.NotContains(t, sel.MatchLabels, modeLabel, "modes are selected by matchExpressions only")
	return out
}

func checkWebhook(t *testing.T, cc admissionregistrationv1.WebhookClientConfig, sel *metav1.LabelSelector,
	side *admissionregistrationv1.SideEffectClass, timeout *int32, versions []string,
	match *admissionregistrationv1.MatchPolicyType, rules []admissionregistrationv1.RuleWithOperations) {
	require.NotNil(t, cc.Service, "in-cluster service client config")
	assert.Nil(t, cc.URL)
	assert.Equal(t, serviceName, cc.Service.Name)
	assert.Equal(t, ns, cc.Service.Namespace)
	if cc.Service.Port != nil {
		assert.EqualValues(t, 443, *cc.Service.Port)
	}
	require.NotNil(t, cc.Service.Path)
	assert.True(t, strings.HasPrefix(*cc.Service.Path, "/mutate-") || strings.HasPrefix(*cc.Service.Path, "/validate-"), *cc.Service.Path)

	require.NotNil(t, side)
	assert.Equal(t, admissionregistrationv1.SideEffectClassNone, *side)
	require.NotNil(t, timeout, "timeoutSeconds is set explicitly")
	assert.LessOrEqual(t, *timeout, int32(5))
	assert.Equal(t, []string{"v1"}, versions)
	require.NotNil(t, match)
	assert.Equal(t, admissionregistrationv1.Equivalent, *match)

	require.NotNil(t, sel, "namespaceSelector: opt-in only")
	var optIn, excludes bool
	for _, e := range sel.MatchExpressions {
		switch {
		case e.Key == modeLabel && e.Operator == metav1.LabelSelectorOpIn:
			optIn = true
			assert.NotEmpty(t, e.Values)
			assert.Subset(t, []string{"enforce", "audit"}, e.Values, "only the two modes")
		case e.Key == "kubernetes.io/metadata.name" && e.Operator == metav1.LabelSelectorOpNotIn:
			excludes = true
			assert.Subset(t, e.Values, []string{"kube-system", ns}, "never sees kube-system or its own namespace")
		}
	}
	assert.True(t, optIn, "selects %s In [enforce and/or audit]", modeLabel)
	assert.True(t, excludes, "excludes kube-system and %s by name", ns)

	require.NotEmpty(t, rules)
	for _, r := range rules {
		assert.ElementsMatch(t, []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update}, r.Operations)
		require.Len(t, r.Resources, 1, "one resource per entry")
		res := r.Resources[0]
		assert.NotContains(t, res, "/", "no subresources")
		gv, ok := reviewedResources[res]
		require.True(t, ok, "%s is not a reviewed resource", res)
		assert.Equal(t, []string{gv[0]}, r.APIGroups, res)
		assert.Equal(t, []string{gv[1]}, r.APIVersions, "%s: one version; matchPolicy Equivalent sends the others converted", res)
		require.NotNil(t, r.Scope)
		assert.Equal(t, admissionregistrationv1.NamespacedScope, *r.Scope)
	}
}

// reviewedResources are the resources the webhooks review: API group and
// the version of the path (webhook/paths.go).
var reviewedResources = map[string][2]string{
	"services":                {"", "v1"},
	"deployments":             {"apps", "v1"},
	"statefulsets":            {"apps", "v1"},
	"ingresses":               {"networking.k8s.io", "v1"},
	"httproutes":              {"gateway.networking.k8s.io", "v1"},
	"grpcroutes":              {"gateway.networking.k8s.io", "v1"},
	"xbackendtrafficpolicies": {"gateway.networking.x-k8s.io", "v1alpha1"},
	"backendtrafficpolicies":  {"gateway.envoyproxy.io", "v1alpha1"},
	"destinationrules":        {"networking.istio.io", "v1"},
	"gcpbackendpolicies":      {"networking.gke.io", "v1"},
}

// validatedOnly are the resources with no defaults: validating entries only,
// each sent only objects carrying the field named here, or every object
// ("") where a rule can fire on one without it (webhook/corpus proves on a
// real API server that the filters bypass no rule).
var validatedOnly = map[string]string{
	"httproutes":              "", // XBackendTrafficPolicy persistence on a backend (GWX-002/005/006/007), EGW-007
	"grpcroutes":              "",
	"xbackendtrafficpolicies": "sessionPersistence",
	"backendtrafficpolicies":  "consistentHash",
	"destinationrules":        "consistentHash",
	"gcpbackendpolicies":      "sessionAffinity",
}

func checkCertManager(t *testing.T, objs objects) {
	for _, kind := range []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
		for _, o := range objs.all(kind) {
			assert.Equal(t, ns+"/stickyguard-webhook", o.u.GetAnnotations()["cert-manager.io/inject-ca-from"], kind)
		}
	}
	var serving *unstructuredCert
	for _, o := range objs.all("Certificate") {
		var c unstructuredCert
		require.NoError(t, yaml.Unmarshal(o.raw, &c))
		if c.Spec.SecretName == tlsSecret {
			serving = &c
			assert.Equal(t, "stickyguard-webhook", c.Metadata.Name, "the name inject-ca-from points at")
		}
	}
	require.NotNil(t, serving, "a Certificate producing %s", tlsSecret)
	assert.Subset(t, serving.Spec.DNSNames, certs.DNSNames(serviceName, ns)[:2])
	assert.NotEmpty(t, objs.all("Issuer"))
}

func checkSelfManaged(t *testing.T, objs objects, certDir string) {
	caPEM, err := certs.CABundle(certDir)
	require.NoError(t, err)
	var secret *corev1.Secret
	for _, o := range objs.all("Secret") {
		if o.u.GetName() == tlsSecret {
			secret = decode[corev1.Secret](t, o)
		}
	}
	require.NotNil(t, secret, "Secret %s with the unhashed name the Deployment mounts", tlsSecret)
	assert.Equal(t, corev1.SecretTypeTLS, secret.Type)
	for _, k := range []string{"tls.crt", "tls.key", "ca.crt"} {
		assert.NotEmpty(t, secret.Data[k], k)
	}
	assert.NotContains(t, secret.Data, "ca.key", "the CA key stays off the cluster")

	mwc := one[admissionregistrationv1.MutatingWebhookConfiguration](t, objs, "MutatingWebhookConfiguration")
	vwc := one[admissionregistrationv1.ValidatingWebhookConfiguration](t, objs, "ValidatingWebhookConfiguration")
	var bundles [][]byte
	for _, h := range mwc.Webhooks {
		bundles = append(bundles, h.ClientConfig.CABundle)
	}
	for _, h := range vwc.Webhooks {
		bundles = append(bundles, h.ClientConfig.CABundle)
	}
	for i, b := range bundles {
		assert.Equal(t, string(caPEM), string(b), "webhook %d carries ca.crt as caBundle", i)
	}
}

// unstructuredCert is the part of a cert-manager Certificate the test reads.
type unstructuredCert struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		SecretName string   `json:"secretName"`
		DNSNames   []string `json:"dnsNames"`
	} `json:"spec"`
}
