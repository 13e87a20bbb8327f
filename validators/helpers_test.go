package validators

import (
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/policy"
)

// Small builders for rule tests. Options mutate the object under construction.

type svcOpt func(*corev1.Service)

func mkSvc(opts ...svcOpt) *corev1.Service {
	s := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

func svcAnn(kv ...string) svcOpt {
	return func(s *corev1.Service) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			s.Annotations[kv[i]] = kv[i+1]
		}
	}
}

func svcType(t corev1.ServiceType) svcOpt { return func(s *corev1.Service) { s.Spec.Type = t } }

func svcETP(p corev1.ServiceExternalTrafficPolicy) svcOpt {
	return func(s *corev1.Service) { s.Spec.ExternalTrafficPolicy = p }
}

func clientIP(timeout int32) svcOpt {
	return func(s *corev1.Service) {
		s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
		s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: &timeout}}
	}
}

type ingOpt func(*networkingv1.Ingress)

func mkIng(opts ...ingOpt) *networkingv1.Ingress {
	pt := networkingv1.PathTypePrefix
	i := &networkingv1.Ingress{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{
			Host: "shop.example.com",
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{
					Path: "/", PathType: &pt,
					Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
						Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80},
					}},
				}},
			}},
		}}},
	}
	for _, o := range opts {
		o(i)
	}
	return i
}

func ingAnn(kv ...string) ingOpt {
	return func(i *networkingv1.Ingress) {
		if i.Annotations == nil {
			i.Annotations = map[string]string{}
		}
		for k := 0; k+1 < len(kv); k += 2 {
			i.Annotations[kv[k]] = kv[k+1]
		}
	}
}

func ingClass(name string) ingOpt {
	return func(i *networkingv1.Ingress) { i.Spec.IngressClassName = &name }
}

func ingPath(path string, pt networkingv1.PathType) ingOpt {
	return func(i *networkingv1.Ingress) {
		p := &i.Spec.Rules[0].HTTP.Paths[0]
		p.Path = path
		p.PathType = &pt
	}
}

type depOpt func(*appsv1.Deployment)

func mkDep(opts ...depOpt) *appsv1.Deployment {
	r := int32(3)
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &r,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}
	for _, o := range opts {
		o(d)
	}
	return d
}

// ctxFor returns a live-mode context with the default policy and the given
// resolved ingress controller.
func ctxFor(ctrl Controller) *Context {
	return &Context{Policy: policy.Default(), Related: Related{Controller: ctrl}}
}

func offlineCtx() *Context {
	return &Context{Policy: policy.Default(), Offline: true}
}

// finding is what a test expects: a rule ID at a field path ("" = any path).
type finding struct {
	Rule  string
	Field string
}

func deny(rule, path string) finding { return finding{rule, path} }
func warn(rule, path string) finding { return finding{rule, path} }

// assertFindings compares findings by rule ID and field path (not message).
func assertFindings(t *testing.T, errs field.ErrorList, warns Warnings, wantDeny, wantWarn []finding) {
	t.Helper()
	var gotD, gotW []finding
	for _, e := range errs {
		record(e.Origin)
		gotD = append(gotD, finding{e.Origin, e.Field})
		assert.NotEmpty(t, e.Origin, "field error without rule ID: %v", e)
		assert.NotContains(t, e.Detail, e.Origin+": ", "the rule ID stays out of Detail until rendered")
		assert.True(t, strings.HasPrefix(Rendered(e).Detail, e.Origin+": "), "the rendered message names the rule")
		assertRenderedFits(t, Rendered(e).Error())
	}
	for _, w := range warns {
		p := ""
		if w.Field != nil {
			p = w.Field.String()
		}
		record(w.Rule)
		gotW = append(gotW, finding{w.Rule, p})
		assert.Contains(t, w.Message(), w.Rule, "warning must name the rule")
		assertRenderedFits(t, w.String())
	}
	assert.ElementsMatch(t, norm(wantDeny, gotD), gotD, "deny findings")
	assert.ElementsMatch(t, norm(wantWarn, gotW), gotW, "warn findings")
}

// norm fills "" expected paths from the matching got finding so tests can
// leave a path unspecified.
func norm(want, got []finding) []finding {
	out := make([]finding, len(want))
	used := make([]bool, len(got))
	for i, w := range want {
		out[i] = w
		if w.Field != "" {
			continue
		}
		for j, g := range got {
			if !used[j] && g.Rule == w.Rule {
				out[i].Field = g.Field
				used[j] = true
				break
			}
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Rule < out[b].Rule })
	return out
}

// svcCase is one row of a Service rule family's table test.
type svcCase struct {
	name     string
	svc      *corev1.Service
	ctx      *Context // nil: live context, unknown controller
	wantDeny []finding
	wantWarn []finding
}

// runSvcCases runs a Service family over its table, comparing findings and
// checking the input is not modified.
func runSvcCases(t *testing.T, fn ServiceRuleFunc, cases []svcCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			if ctx == nil {
				ctx = ctxFor(ControllerUnknown)
			}
			before := tt.svc.DeepCopy()
			errs, warns := fn(tt.svc, nil, ctx)
			assertFindings(t, errs, warns, tt.wantDeny, tt.wantWarn)
			assert.Equal(t, before, tt.svc, "input modified")
		})
	}
}

// assertRenderedFits checks one rendered finding ("<field>: <ID>: <what>; fix: <fix>")
// against the 256 characters the API server keeps of each warning once a
// response's warnings pass 4 KiB, and that the fix survives. Every finding
// every rule test produces goes through here, and TestMain requires every
// rule to fire in some test, so every rule's messages are measured.
func assertRenderedFits(t *testing.T, rendered string) {
	t.Helper()
	assert.LessOrEqual(t, len(rendered), warningBudget, "longer than the warning budget (%d chars): %s", len(rendered), rendered)
	assert.Contains(t, rendered, "fix: ", "the message must carry its fix: %s", rendered)
}
