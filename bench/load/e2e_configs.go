package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/stickyguard/stickyguard/internal/sticky"
)

// The end-to-end mode's admission configurations besides "none".

// stickyguardAdmission renders the shipped configurations with
// `stickyguard certs --patch --url` (the local CA as caBundle, url:
// clientConfig) exactly as hack/lib.sh does for the local e2e.
func stickyguardAdmission(h *Harness, addr string) (*admission, error) {
	manifest := filepath.Join(repoRoot(), "manifests", "base", "webhook-configurations.yaml")
	out := filepath.Join(h.Dir, "webhook-configurations.yaml")
	cmd := exec.Command(h.Opts.Stickyguard, "certs", "--out-dir", h.CertDir, "--patch", manifest, "--url", "https://"+addr, "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("stickyguard certs --patch: %v: %s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	a := &admission{probe: probeDeniedWith("SVC-001")}
	rd := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		var tm struct{ Kind string }
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return nil, err
		}
		switch tm.Kind {
		case "MutatingWebhookConfiguration":
			var m admissionregistrationv1.MutatingWebhookConfiguration
			if err := yaml.UnmarshalStrict(doc, &m); err != nil {
				return nil, err
			}
			a.mutating = append(a.mutating, &m)
		case "ValidatingWebhookConfiguration":
			var v admissionregistrationv1.ValidatingWebhookConfiguration
			if err := yaml.UnmarshalStrict(doc, &v); err != nil {
				return nil, err
			}
			a.validating = append(a.validating, &v)
		}
	}
	if len(a.mutating) == 0 || len(a.validating) == 0 {
		return nil, fmt.Errorf("%s: want mutating and validating configurations", manifest)
	}
	return a, nil
}

// optInSelector selects enforce namespaces, like stickyguard's enforce
// entries.
func optInSelector() *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: sticky.LabelMode, Operator: metav1.LabelSelectorOpIn, Values: []string{"enforce"}},
		{Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"kube-system", "stickyguard-system"}},
	}}
}

// reviewedRules are the kinds stickyguard reviews in both halves; the
// validating half also reviews HTTPRoutes (stickyguard fills no route
// defaults, so the floor calls no mutating webhook for them either).
func reviewedRules(routes bool) []admissionregistrationv1.RuleWithOperations {
	ns := admissionregistrationv1.NamespacedScope
	rule := func(group, resource string) admissionregistrationv1.RuleWithOperations {
		return admissionregistrationv1.RuleWithOperations{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
			Rule:       admissionregistrationv1.Rule{APIGroups: []string{group}, APIVersions: []string{"v1"}, Resources: []string{resource}, Scope: &ns},
		}
	}
	out := []admissionregistrationv1.RuleWithOperations{rule("", "services"), rule("networking.k8s.io", "ingresses"), rule("apps", "deployments")}
	if routes {
		out = append(out, rule(gatewayGroup, "httproutes"))
	}
	return out
}

// floorAdmission registers the floor as a mutating and a validating
// webhook for the same kinds and namespaces as stickyguard (HTTPRoutes in
// the validating half only, like stickyguard), without matchConditions:
// the cost of any webhook.
func floorAdmission(ca []byte, addr string) *admission {
	return floorWithMutatingPath(ca, addr, floorMutate)
}

// floorPatchAdmission is the floor whose mutating half sets the same
// default stickyguard sets on the sticky Services (patchLikeStickyguard).
func floorPatchAdmission(ca []byte, addr string) *admission {
	return floorWithMutatingPath(ca, addr, floorMutatePatch)
}

// floorFilteredAdmission is the floor with a matchCondition on both halves
// that only the probe object passes: on the load's objects the API server
// evaluates one trivial CEL condition per webhook and calls nothing. It is
// the fixed price of any webhook that filters with matchConditions (object
// conversion, CEL activation, the dispatcher), for reading stickyguard's
// plain-object results: the gap between the two is what stickyguard's own
// conditions cost.
func floorFilteredAdmission(ca []byte, addr string) *admission {
	a := floorWithMutatingPath(ca, addr, floorMutate)
	cond := []admissionregistrationv1.MatchCondition{{
		Name:       "probe-only",
		Expression: "object != null && has(object.metadata.name) && object.metadata.name.startsWith('" + probeDenyPrefix + "')",
	}}
	a.mutating[0].Name, a.validating[0].Name = "floor-filtered", "floor-filtered"
	a.mutating[0].Webhooks[0].MatchConditions = cond
	a.validating[0].Webhooks[0].MatchConditions = cond
	return a
}

func floorWithMutatingPath(ca []byte, addr, mutatePath string) *admission {
	none := admissionregistrationv1.SideEffectClassNone
	eq := admissionregistrationv1.Equivalent
	ignore, fail := admissionregistrationv1.Ignore, admissionregistrationv1.Fail
	ifNeeded := admissionregistrationv1.IfNeededReinvocationPolicy
	cc := func(path string) admissionregistrationv1.WebhookClientConfig {
		return admissionregistrationv1.WebhookClientConfig{URL: ptr.To("https://" + addr + path), CABundle: ca}
	}
	return &admission{
		probe: probeDeniedWith("floor: probe denied"),
		mutating: []*admissionregistrationv1.MutatingWebhookConfiguration{{
			ObjectMeta: metav1.ObjectMeta{Name: "floor"},
			Webhooks: []admissionregistrationv1.MutatingWebhook{{
				Name: "mutate.floor.bench", ClientConfig: cc(mutatePath), Rules: reviewedRules(false), NamespaceSelector: optInSelector(),
				FailurePolicy: &ignore, SideEffects: &none, MatchPolicy: &eq, TimeoutSeconds: ptr.To[int32](5),
				AdmissionReviewVersions: []string{"v1"}, ReinvocationPolicy: &ifNeeded,
			}},
		}},
		validating: []*admissionregistrationv1.ValidatingWebhookConfiguration{{
			ObjectMeta: metav1.ObjectMeta{Name: "floor"},
			Webhooks: []admissionregistrationv1.ValidatingWebhook{{
				Name: "validate.floor.bench", ClientConfig: cc(floorValidate), Rules: reviewedRules(true), NamespaceSelector: optInSelector(),
				FailurePolicy: &fail, SideEffects: &none, MatchPolicy: &eq, TimeoutSeconds: ptr.To[int32](5),
				AdmissionReviewVersions: []string{"v1"},
			}},
		}},
	}
}

// vapAdmission is the in-process anchor: a ValidatingAdmissionPolicy with
// CEL for a comparable subset of the rules (SVC-007's ClientIP timeout
// range, NGX-001's affinity value, NGX-013's cookie path on regex paths,
// and for HTTPRoutes one session cookie name per rule of a route).
func vapAdmission() *admission {
	fail := admissionregistrationv1.Fail
	ns := admissionregistrationv1.NamespacedScope
	ops := []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update}
	const ngx = "nginx.ingress.kubernetes.io/"
	return &admission{
		probe: probeDeniedWith("stickyguard-bench"),
		policies: []*admissionregistrationv1.ValidatingAdmissionPolicy{{
			ObjectMeta: metav1.ObjectMeta{Name: "stickyguard-bench"},
			Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
				FailurePolicy: &fail,
				MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{
					{RuleWithOperations: admissionregistrationv1.RuleWithOperations{Operations: ops, Rule: admissionregistrationv1.Rule{
						APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"services"}, Scope: &ns}}},
					{RuleWithOperations: admissionregistrationv1.RuleWithOperations{Operations: ops, Rule: admissionregistrationv1.Rule{
						APIGroups: []string{"networking.k8s.io"}, APIVersions: []string{"v1"}, Resources: []string{"ingresses"}, Scope: &ns}}},
					{RuleWithOperations: admissionregistrationv1.RuleWithOperations{Operations: ops, Rule: admissionregistrationv1.Rule{
						APIGroups: []string{gatewayGroup}, APIVersions: []string{"v1"}, Resources: []string{"httproutes"}, Scope: &ns}}},
				}},
				Validations: []admissionregistrationv1.Validation{
					{
						Expression: `request.kind.kind != 'Service' || !has(object.spec.sessionAffinity) || object.spec.sessionAffinity != 'ClientIP' ||
  !has(object.spec.sessionAffinityConfig) || !has(object.spec.sessionAffinityConfig.clientIP) ||
  !has(object.spec.sessionAffinityConfig.clientIP.timeoutSeconds) ||
  (object.spec.sessionAffinityConfig.clientIP.timeoutSeconds >= 60 && object.spec.sessionAffinityConfig.clientIP.timeoutSeconds <= 86400)`,
						Message: "SVC-007: ClientIP timeoutSeconds must be within [60, 86400]",
					},
					{
						Expression: `request.kind.kind != 'Ingress' || !has(object.metadata.annotations) ||
  !('` + ngx + `affinity' in object.metadata.annotations) || object.metadata.annotations['` + ngx + `affinity'] == 'cookie'`,
						Message: `NGX-001: nginx.ingress.kubernetes.io/affinity must be "cookie"`,
					},
					{
						Expression: `request.kind.kind != 'Ingress' || !has(object.metadata.annotations) ||
  !('` + ngx + `affinity' in object.metadata.annotations) || object.metadata.annotations['` + ngx + `affinity'] != 'cookie' ||
  ('` + ngx + `session-cookie-path' in object.metadata.annotations) || !has(object.spec.rules) ||
  object.spec.rules.all(r, !has(r.http) || r.http.paths.all(p, !has(p.path) || !p.path.matches('[\\^$()\\[\\]{}*+?|]')))`,
						Message: "NGX-013: cookie affinity on regex paths needs nginx.ingress.kubernetes.io/session-cookie-path",
					},
					{
						Expression: `request.kind.kind != 'HTTPRoute' || !has(object.spec.rules) ||
  object.spec.rules.all(r, !has(r.sessionPersistence) || !has(r.sessionPersistence.sessionName) ||
    object.spec.rules.filter(s, has(s.sessionPersistence) && has(s.sessionPersistence.sessionName) &&
      s.sessionPersistence.sessionName == r.sessionPersistence.sessionName).size() == 1)`,
						Message: "HTTPRoute rules share a sessionPersistence sessionName (one cookie for two sessions)",
					},
				},
			},
		}},
		bindings: []*admissionregistrationv1.ValidatingAdmissionPolicyBinding{{
			ObjectMeta: metav1.ObjectMeta{Name: "stickyguard-bench"},
			Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
				PolicyName:        "stickyguard-bench",
				ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
				MatchResources:    &admissionregistrationv1.MatchResources{NamespaceSelector: optInSelector()},
			},
		}},
	}
}
