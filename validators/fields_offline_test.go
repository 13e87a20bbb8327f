package validators

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// maxRendered is what an admission warning keeps when a response's warnings
// pass 4 KiB: every rendered finding, field path and fix included, fits.
const maxRendered = 256

func assertFits(t *testing.T, errs field.ErrorList, warns Warnings) {
	t.Helper()
	for _, e := range errs {
		assert.LessOrEqual(t, len(Rendered(e).Error()), maxRendered, "%s", Rendered(e).Error())
		assert.Contains(t, e.Error(), "; fix: ", "the fix survives")
	}
	for _, w := range warns {
		assert.LessOrEqual(t, len(w.String()), maxRendered, "%s", w.String())
		assert.Contains(t, w.String(), "; fix: ", "the fix survives")
	}
}

func TestUnknownFields(t *testing.T) {
	svc, ing, dep, sts := &corev1.Service{}, &networkingv1.Ingress{}, &appsv1.Deployment{}, &appsv1.StatefulSet{}
	tests := []struct {
		name      string
		obj       any
		kind      string
		path      string
		want      finding
		belongs   string // "" when the message cannot say
		mentioned string // what the message must say (where it belongs, or why)
	}{
		{name: "sessionAffinity in a port", obj: svc, kind: KindService, path: "spec.ports[0].sessionAffinity",
			want: deny("SVC-D02", "spec.ports[0].sessionAffinity"), belongs: "spec.sessionAffinity", mentioned: "a port; sessionAffinity belongs at spec.sessionAffinity"},
		{name: "sessionAffinity at the top level", obj: svc, kind: KindService, path: "sessionAffinity",
			want: deny("SVC-D02", "sessionAffinity"), belongs: "spec.sessionAffinity", mentioned: "top level; sessionAffinity belongs at spec.sessionAffinity"},
		{name: "sessionAffinityConfig under metadata", obj: svc, kind: KindService, path: "metadata.sessionAffinityConfig",
			want: deny("SVC-D02", "metadata.sessionAffinityConfig"), belongs: "spec.sessionAffinityConfig", mentioned: "belongs at spec.sessionAffinityConfig"},
		{name: "clientIP dedented beside sessionAffinityConfig", obj: svc, kind: KindService, path: "spec.clientIP",
			want: deny("SVC-D02", "spec.clientIP"), belongs: "spec.sessionAffinityConfig.clientIP", mentioned: "belongs at spec.sessionAffinityConfig.clientIP"},
		{name: "timeoutSeconds dedented beside clientIP", obj: svc, kind: KindService, path: "spec.sessionAffinityConfig.timeoutSeconds",
			want: deny("SVC-D02", "spec.sessionAffinityConfig.timeoutSeconds"), belongs: "spec.sessionAffinityConfig.clientIP.timeoutSeconds", mentioned: "belongs at spec.sessionAffinityConfig.clientIP.timeoutSeconds"},
		{name: "clientIp in the wrong case", obj: svc, kind: KindService, path: "spec.sessionAffinityConfig.clientIp",
			want: deny("SVC-D02", "spec.sessionAffinityConfig.clientIp"), belongs: "spec.sessionAffinityConfig.clientIP", mentioned: "did you mean clientIP?"},
		{name: "sessionaffinity in the wrong case", obj: svc, kind: KindService, path: "spec.sessionaffinity",
			want: deny("SVC-D02", "spec.sessionaffinity"), belongs: "spec.sessionAffinity", mentioned: "did you mean sessionAffinity?"},
		{name: "unknown key under clientIP", obj: svc, kind: KindService, path: "spec.sessionAffinityConfig.clientIP.timeout",
			want: deny("SVC-D02", "spec.sessionAffinityConfig.clientIP.timeout")},
		{name: "other unknown Service field", obj: svc, kind: KindService, path: "spec.loadBalancerIp",
			want: deny("SG-D02", "spec.loadBalancerIp"), belongs: "spec.loadBalancerIP", mentioned: "did you mean loadBalancerIP?"},
		{name: "NODENAME is not nodeName", obj: dep, kind: KindDeployment, path: "spec.template.spec.NODENAME",
			want: deny("SG-D02", "spec.template.spec.NODENAME"), belongs: "spec.template.spec.nodeName", mentioned: "did you mean nodeName?"},
		{name: "affinity at the Deployment spec", obj: dep, kind: KindDeployment, path: "spec.affinity",
			want: deny("SG-D02", "spec.affinity"), belongs: "spec.template.spec.affinity", mentioned: "belongs at spec.template.spec.affinity"},
		{name: "Service key in a Deployment", obj: dep, kind: KindDeployment, path: "spec.sessionAffinity",
			want: deny("SG-D02", "spec.sessionAffinity"), mentioned: "Service field"},
		{name: "container field case in a StatefulSet", obj: sts, kind: KindStatefulSet, path: "spec.template.spec.containers[1].Image",
			want: deny("SG-D02", "spec.template.spec.containers[1].Image"), belongs: "spec.template.spec.containers[1].image", mentioned: "did you mean image?"},
		{name: "annotation dedented under metadata", obj: ing, kind: KindIngress, path: "metadata.nginx.ingress.kubernetes.io/affinity",
			want: deny("SG-D02", "metadata.nginx.ingress.kubernetes.io/affinity"), belongs: "metadata.annotations[nginx.ingress.kubernetes.io/affinity]", mentioned: "belongs under metadata.annotations"},
		{name: "annotation in a pod template", obj: dep, kind: KindDeployment, path: "spec.template.prometheus.io/scrape",
			want: deny("SG-D02", "spec.template.prometheus.io/scrape"), belongs: "spec.template.metadata.annotations[prometheus.io/scrape]", mentioned: "belongs under spec.template.metadata.annotations"},
		{name: "annotations at the top level", obj: ing, kind: KindIngress, path: "annotations",
			want: deny("SG-D02", "annotations"), belongs: "metadata.annotations", mentioned: "belongs at metadata.annotations"},
		{name: "old Ingress backend field", obj: ing, kind: KindIngress, path: "spec.rules[0].http.paths[0].backend.serviceName",
			want: deny("SG-D02", "spec.rules[0].http.paths[0].backend.serviceName")},
		{name: "non-breaking space indentation", obj: svc, kind: KindService, path: "\u00a0\u00a0name",
			want: deny("SG-D02", "\u00a0\u00a0name"), mentioned: "U+00A0"},
		{name: "malformed index", obj: svc, kind: KindService, path: "spec.ports[x].name", want: deny("SG-D02", "")},
		{name: "unterminated index", obj: svc, kind: KindService, path: "spec.ports[0", want: deny("SG-D02", "")},
		{name: "empty path", obj: svc, kind: KindService, path: "", want: deny("SG-D02", "")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs, misplaced := UnknownFields(tc.obj, tc.kind, []string{tc.path})
			assertFindings(t, errs, nil, []finding{tc.want}, nil)
			assertFits(t, errs, nil)
			if tc.belongs == "" {
				assert.Empty(t, misplaced)
			} else {
				assert.Equal(t, []string{tc.belongs}, misplaced)
			}
			if tc.mentioned != "" {
				assert.Contains(t, errs[0].Detail, tc.mentioned)
			}
		})
	}
	t.Run("a provider's documented extension field is not reported", func(t *testing.T) {
		errs, misplaced := UnknownFields(ing, KindIngress, []string{"spec.rules[0].http.paths[0].property"})
		assert.Empty(t, errs)
		assert.Empty(t, misplaced)
	})
	t.Run("long keys and deep paths stay within the budget", func(t *testing.T) {
		for _, p := range []string{
			"spec.template.spec.containers[0]." + strings.Repeat("k", 300),
			"spec.template.spec.initContainers[10].ports[10].sessionAffinityConfig",
			"spec.template.spec.containers[0].            nodeSelector",
		} {
			errs, _ := UnknownFields(sts, KindStatefulSet, []string{p})
			assertFits(t, errs, nil)
		}
	})
}

func TestValidateMetaRaw(t *testing.T) {
	var obj map[string]any
	raw := `{"metadata":{"annotations":{"a.b/timeout":1800,"ok":"x","on":true,"empty":null},"labels":{"version":1.5}},
		"spec":{"template":{"metadata":{"annotations":{"n":600}}}}}`
	assert.NoError(t, json.Unmarshal([]byte(raw), &obj))
	before, _ := json.Marshal(obj)
	errs, drops := ValidateMetaRaw(obj)
	assertFindings(t, errs, nil, []finding{
		deny("SG-D01", "metadata.annotations[a.b/timeout]"), deny("SG-D01", "metadata.annotations[on]"),
		deny("SG-D01", "metadata.labels[version]"), deny("SG-D01", "spec.template.metadata.annotations[n]"),
	}, nil)
	assertFits(t, errs, nil)
	assert.ElementsMatch(t, [][]string{
		{"metadata", "annotations", "a.b/timeout"}, {"metadata", "annotations", "on"},
		{"metadata", "labels", "version"}, {"spec", "template", "metadata", "annotations", "n"},
	}, drops)
	for _, e := range errs {
		if e.Field == "metadata.annotations[a.b/timeout]" {
			assert.Contains(t, e.Detail, "a.b/timeout", "the message names the annotation")
		}
	}
	after, _ := json.Marshal(obj)
	assert.JSONEq(t, string(before), string(after), "input must not be modified")

	const ackKey = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-persistence-timeout"
	errs, _ = ValidateMetaRaw(map[string]any{"metadata": map[string]any{"annotations": map[string]any{ackKey: 1800.0}}})
	assertFindings(t, errs, nil, []finding{deny("SG-D01", "metadata.annotations["+ackKey+"]")}, nil)
	assertFits(t, errs, nil)
	assert.Contains(t, errs[0].Detail, "persistence-timeout", "a long key is shortened from its start")

	errs, drops = ValidateMetaRaw(map[string]any{"metadata": "x"})
	assert.Empty(t, errs)
	assert.Empty(t, drops)
}

func TestDuplicateKey(t *testing.T) {
	w := DuplicateKey("spec", 12)
	assertFindings(t, nil, Warnings{w}, nil, []finding{warn("SG-D03", "")})
	assert.Contains(t, w.Message(), "line 12")
	assertFits(t, nil, Warnings{DuplicateKey(strings.Repeat("x", 1000), 99999)})
}

// TestOfflineMessagesFit holds the offline rules' rendered findings to the
// admission warning budget, fix included.
func TestOfflineMessagesFit(t *testing.T) {
	long := strings.Repeat("v", 500)
	assertFits(t, field.ErrorList{DecodeError(errors.New("json: cannot unmarshal string into Go struct field ServicePort.spec.ports.port of type int32" + long))}, nil)
	m := rawSvc(t, "spec:\n  sessionAffinity: ["+long+"]\n  externalTrafficPolicy: 1\n  healthCheckNodePort: x\n  sessionAffinityConfig:\n    clientIP:\n      timeoutSeconds: \""+long+"\"\n")
	errs, warns, _ := ValidateServiceRaw(m)
	assert.NotEmpty(t, errs)
	assertFits(t, errs, warns)
	lb := svcType(corev1.ServiceTypeLoadBalancer)
	for _, svc := range []*corev1.Service{
		mkSvc(func(s *corev1.Service) { s.Spec.SessionAffinity = corev1.ServiceAffinity(long) }),
		mkSvc(lb, svcETP(corev1.ServiceExternalTrafficPolicy(long))),
		mkSvc(svcETP(corev1.ServiceExternalTrafficPolicy(long))),
		mkSvc(lb, svcETP("Cluster"), func(s *corev1.Service) { s.Spec.HealthCheckNodePort = 32767 }),
		mkSvc(clientIP(86401)),
	} {
		errs, warns := validateServiceAPIChecks(svc, nil, offlineCtx())
		assert.NotEmpty(t, errs)
		assertFits(t, errs, warns)
	}
}

// FuzzUnknownFields: any path a strict decoder could report is located
// without a panic, and the finding stays within the budget.
func FuzzUnknownFields(f *testing.F) {
	for _, s := range []string{"spec.ports[0].sessionAffinity", "metadata.a.b/c", "spec.template.spec.containers[3].Image", "[", "a[1]]", "spec..x", "\u00a0"} {
		f.Add(s)
	}
	objs := []struct {
		obj  any
		kind string
	}{{&corev1.Service{}, KindService}, {&networkingv1.Ingress{}, KindIngress}, {&appsv1.Deployment{}, KindDeployment}, {&appsv1.StatefulSet{}, KindStatefulSet}}
	f.Fuzz(func(t *testing.T, path string) {
		for _, o := range objs {
			errs, _ := UnknownFields(o.obj, o.kind, []string{path})
			if len(errs) == 1 && len(path) < 100 && len(Rendered(errs[0]).Error()) > maxRendered {
				t.Fatalf("%q: %d characters: %s", path, len(Rendered(errs[0]).Error()), Rendered(errs[0]).Error())
			}
		}
	})
}
