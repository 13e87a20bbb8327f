package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/stickyguard/stickyguard/internal/sticky"
	"github.com/stickyguard/stickyguard/policy"
	"github.com/stickyguard/stickyguard/validators"
)

func lbService(name string, ann map[string]string, mut ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", Annotations: ann},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeLoadBalancer,
			Selector: map[string]string{"app": name},
			Ports:    []corev1.ServicePort{{Port: 80}},
		},
	}
	for _, m := range mut {
		m(s)
	}
	return s
}

func deployment(name string, ann map[string]string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", Annotations: ann},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}}},
		},
	}
}

func rules(ms []Mutation) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Rule)
	}
	return out
}

const ackPersistence = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-persistence-timeout"

func TestServiceDefaults(t *testing.T) {
	clientIP := func(s *corev1.Service) { s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP }
	t.Run("SVC-005 Local for LB source-IP stickiness", func(t *testing.T) {
		in := lbService("web", map[string]string{ackPersistence: "1800"})
		r, err := Evaluate(in, nil, Options{})
		require.NoError(t, err)
		assert.Equal(t, []string{"SVC-005"}, rules(r.Mutations))
		assert.Equal(t, corev1.ServiceExternalTrafficPolicyLocal, r.Object.(*corev1.Service).Spec.ExternalTrafficPolicy)
		assert.Empty(t, in.Spec.ExternalTrafficPolicy, "input untouched")
		assert.True(t, r.Allowed())
		assert.Contains(t, r.Warnings[0].Message(), "SVC-005: set spec.externalTrafficPolicy=Local")
		// Idempotent: evaluating the result again changes nothing.
		again, err := Evaluate(r.Object, nil, Options{})
		require.NoError(t, err)
		assert.Empty(t, again.Mutations)
	})
	t.Run("opt-out annotation keeps Cluster and warns", func(t *testing.T) {
		in := lbService("web", map[string]string{ackPersistence: "1800", sticky.AnnKeepTrafficPolicy: "true"})
		r, err := Evaluate(in, nil, Options{})
		require.NoError(t, err)
		assert.Empty(t, r.Mutations)
		assert.Contains(t, ruleIDs(r.Warnings), "SVC-005")
	})
	t.Run("policy off keeps Cluster", func(t *testing.T) {
		p := policy.Default()
		p.Service.SetExternalTrafficPolicyLocal = ptr.To(false)
		r, err := Evaluate(lbService("web", map[string]string{ackPersistence: "1800"}), nil, Options{Policy: p})
		require.NoError(t, err)
		assert.Empty(t, r.Mutations)
	})
	t.Run("rule disabled skips the default", func(t *testing.T) {
		p := policy.Default()
		p.Rules["SVC-005"] = policy.OverrideDisabled
		r, err := Evaluate(lbService("web", map[string]string{ackPersistence: "1800"}), nil, Options{Policy: p})
		require.NoError(t, err)
		assert.Empty(t, r.Mutations)
		assert.NotContains(t, ruleIDs(r.Warnings), "SVC-005")
	})
	t.Run("pod-direct needs nothing", func(t *testing.T) {
		r, err := Evaluate(lbService("web", map[string]string{ackPersistence: "1800", "service.beta.kubernetes.io/backend-type": "eni"}), nil, Options{})
		require.NoError(t, err)
		assert.Empty(t, r.Mutations)
	})
	t.Run("CCE-008 on a CCE cookie NodePort", func(t *testing.T) {
		in := lbService("web", map[string]string{"kubernetes.io/elb.session-affinity-mode": "HTTP_COOKIE"}, func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeNodePort })
		r, err := Evaluate(in, nil, Options{})
		require.NoError(t, err)
		assert.Equal(t, []string{"CCE-008"}, rules(r.Mutations))
	})
	t.Run("SVC-008 org default replaces the API default", func(t *testing.T) {
		p := policy.Default()
		p.Service.ClientIPTimeout.Default = 3600
		in := lbService("web", nil, clientIP, func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeClusterIP
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To[int32](10800)}}
		})
		r, err := Evaluate(in, nil, Options{Policy: p})
		require.NoError(t, err)
		assert.Equal(t, []string{"SVC-008"}, rules(r.Mutations))
		assert.Equal(t, int32(3600), *r.Object.(*corev1.Service).Spec.SessionAffinityConfig.ClientIP.TimeoutSeconds)
		patch, err := Diff(in, r.Object)
		require.NoError(t, err)
		require.Len(t, patch, 1)
		assert.Equal(t, "/spec/sessionAffinityConfig/clientIP/timeoutSeconds", patch[0].Path)
	})
	t.Run("SVC-008 missing timeout filled offline", func(t *testing.T) {
		pol := policy.Default()
		pol.Service.ClientIPTimeout.Default = 3600
		r, err := Evaluate(lbService("web", nil, clientIP, func(s *corev1.Service) { s.Spec.Type = "" }), nil, Options{Offline: true, Policy: pol})
		require.NoError(t, err)
		assert.Equal(t, []string{"SVC-008"}, rules(r.Mutations))
	})
	t.Run("SVC-008 leaves the API default to the API server offline", func(t *testing.T) {
		r, err := Evaluate(lbService("web", nil, clientIP, func(s *corev1.Service) { s.Spec.Type = "" }), nil, Options{Offline: true})
		require.NoError(t, err)
		assert.Empty(t, r.Mutations, "live, the API server stores 10800 and serve fills nothing: check says the same")
	})
}

func ruleIDs(ws validators.Warnings) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Rule)
	}
	return out
}

func TestDeploymentAntiAffinity(t *testing.T) {
	stickySvc := lbService("web", map[string]string{ackPersistence: "1800"}, func(s *corev1.Service) {
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	})
	idx := NewIndex()
	idx.Put(stickySvc)
	t.Run("DEP-001 preferred on create", func(t *testing.T) {
		r, err := Mutate(deployment("web", nil), nil, Options{Lookup: idx})
		require.NoError(t, err)
		assert.Equal(t, []string{"DEP-001"}, rules(r.Mutations))
		terms := r.Object.(*appsv1.Deployment).Spec.Template.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution
		require.Len(t, terms, 1)
		assert.Equal(t, int32(100), terms[0].Weight)
		assert.NotContains(t, ruleIDs(r.Warnings), "DEP-002")
	})
	t.Run("DEP-002 warns on update", func(t *testing.T) {
		old := deployment("web", nil)
		r, err := Mutate(deployment("web", nil), old, Options{Lookup: idx})
		require.NoError(t, err)
		assert.Contains(t, ruleIDs(r.Warnings), "DEP-002")
	})
	t.Run("annotation required", func(t *testing.T) {
		r, err := Mutate(deployment("web", map[string]string{sticky.AnnAntiAffinity: "required"}), nil, Options{Lookup: idx})
		require.NoError(t, err)
		assert.Len(t, r.Object.(*appsv1.Deployment).Spec.Template.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution, 1)
	})
	t.Run("annotation disabled warns instead", func(t *testing.T) {
		r, err := Evaluate(deployment("web", map[string]string{sticky.AnnAntiAffinity: "disabled"}), nil, Options{Lookup: idx})
		require.NoError(t, err)
		assert.Empty(t, r.Mutations)
		assert.Contains(t, ruleIDs(r.Warnings), "DEP-001")
	})
	t.Run("unrelated Deployment untouched", func(t *testing.T) {
		r, err := Evaluate(deployment("other", nil), nil, Options{Lookup: idx})
		require.NoError(t, err)
		assert.Empty(t, r.Mutations)
		assert.Empty(t, r.Warnings)
	})
	t.Run("validate half hides mutation warnings", func(t *testing.T) {
		r, err := Validate(deployment("web", nil), nil, Options{Lookup: idx})
		require.NoError(t, err)
		assert.Empty(t, r.Mutations)
		assert.Empty(t, r.Warnings)
	})
}

func TestExemption(t *testing.T) {
	in := lbService("web", map[string]string{ackPersistence: "abc", sticky.AnnIgnore: "legacy, OPS-1"}, func(s *corev1.Service) {
		s.Spec.Selector["sessionAffinity"] = "ClientIP"
	})
	r, err := Evaluate(in, nil, Options{})
	require.NoError(t, err)
	assert.Equal(t, "legacy, OPS-1", r.Exempt)
	assert.True(t, r.Allowed())
	assert.Empty(t, r.Mutations)
	in.Annotations[sticky.AnnIgnore] = ""
	r, err = Evaluate(in, nil, Options{})
	require.NoError(t, err)
	assert.False(t, r.Allowed())
}

// failingLookup fails every call, like an unsynced cache.
type failingLookup struct{ *Index }

var errCache = errors.New("cache not synced")

func (failingLookup) IngressClass(string) (*networkingv1.IngressClass, error) { return nil, errCache }
func (failingLookup) DefaultIngressClass() (*networkingv1.IngressClass, error) {
	return nil, errCache
}
func (failingLookup) ServicesSelecting(string, map[string]string) ([]*corev1.Service, error) {
	return nil, errCache
}
func (failingLookup) DeploymentsSelectedBy(string, map[string]string) ([]*appsv1.Deployment, error) {
	return nil, errCache
}

func TestLookupFailureIsAnErrorNotAFinding(t *testing.T) {
	lk := failingLookup{NewIndex()}
	for _, obj := range []any{lbService("web", nil), deployment("web", nil), &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "i", Namespace: "shop"}}} {
		var err error
		switch o := obj.(type) {
		case *corev1.Service:
			_, err = Evaluate(o, nil, Options{Lookup: lk})
		case *appsv1.Deployment:
			_, err = Evaluate(o, nil, Options{Lookup: lk})
		case *networkingv1.Ingress:
			_, err = Evaluate(o, nil, Options{Lookup: lk})
		}
		require.Error(t, err)
		assert.ErrorIs(t, err, errCache)
	}
	_, err := Evaluate(&corev1.ConfigMap{}, nil, Options{})
	assert.ErrorIs(t, err, ErrUnsupportedKind)
	_, err = Evaluate(nil, nil, Options{})
	assert.ErrorIs(t, err, ErrUnsupportedKind)
}

func TestResolveController(t *testing.T) {
	idx := NewIndex()
	idx.Put(&networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "public"}, Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}})
	pol := policy.Default()
	ing := func(class *string, ann string) *networkingv1.Ingress {
		i := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "i"}, Spec: networkingv1.IngressSpec{IngressClassName: class}}
		if ann != "" {
			i.Annotations = map[string]string{"kubernetes.io/ingress.class": ann}
		}
		return i
	}
	cases := []struct {
		in   *networkingv1.Ingress
		want validators.Controller
	}{
		{ing(ptr.To("public"), ""), validators.ControllerNginx},
		{ing(ptr.To("alb"), ""), validators.ControllerAWS},
		{ing(nil, "gce"), validators.ControllerGCE},
		{ing(nil, "traefik"), validators.ControllerTraefik},
		{ing(nil, "azure-application-gateway"), validators.ControllerAGIC},
		{ing(nil, "haproxy"), validators.ControllerHAProxy},
		{ing(ptr.To("mystery"), ""), validators.ControllerUnknown},
		{ing(nil, ""), validators.ControllerUnknown},
	}
	for _, c := range cases {
		got, _, err := ResolveController(c.in, idx, pol)
		require.NoError(t, err)
		assert.Equal(t, c.want, got)
	}
	idx.Put(&networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "default", Annotations: map[string]string{networkingv1.AnnotationIsDefaultIngressClass: "true"}}, Spec: networkingv1.IngressClassSpec{Controller: "traefik.io/ingress-controller"}})
	got, class, err := ResolveController(ing(nil, ""), idx, pol)
	require.NoError(t, err)
	assert.Equal(t, validators.ControllerTraefik, got)
	assert.Equal(t, "default", class)
}

func FuzzReadDocuments(f *testing.F) {
	f.Add("apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {selector: {sessionAffinity: ClientIP}}\n---\nkind: List\nitems: [1, {}]\n")
	f.Add("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"spec\":{\"sessionAffinityConfig\":{\"clientIP\":{\"timeoutSeconds\":\"x\"}}}}")
	f.Add("---\n---\n# only comments\n")
	f.Add("apiVersion: apps/v1\nkind: Deployment\nspec: {replicas: many}\n")
	f.Fuzz(func(t *testing.T, s string) {
		docs, err := ReadDocuments("fuzz", strings.NewReader(s))
		if err != nil {
			return
		}
		checked, _, err := CheckDocuments(docs, Options{Offline: true})
		if err != nil {
			t.Fatalf("check failed on readable input: %v", err)
		}
		NewReport(checked, nil)
	})
}

// nginxIngress routes host/ to svc with the given annotations.
func nginxIngress(ns, name, host, svc string, ann map[string]string) *networkingv1.Ingress {
	pt := networkingv1.PathTypePrefix
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: ann},
		Spec: networkingv1.IngressSpec{IngressClassName: ptr.To("nginx"), Rules: []networkingv1.IngressRule{{
			Host: host,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: "/", PathType: &pt,
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Number: 80}}},
			}}}},
		}}},
	}
}

func warned(r *Result, rule string) bool {
	for _, w := range r.Warnings {
		if w.Rule == rule {
			return true
		}
	}
	return false
}

// A canary routes to its own Service; the engine finds its main Ingress by
// host (in the same namespace), from either side.
func TestCanaryFoundByHost(t *testing.T) {
	canaryAnn := map[string]string{
		"nginx.ingress.kubernetes.io/canary":        "true",
		"nginx.ingress.kubernetes.io/canary-weight": "10",
		"nginx.ingress.kubernetes.io/affinity":      "cookie",
	}
	main := nginxIngress("shop", "web", "shop.example.com", "web", nil)
	canary := nginxIngress("shop", "web-canary", "shop.example.com", "web-canary", canaryAnn)

	idx := NewIndex()
	idx.Put(main)
	r, err := Evaluate(canary, nil, Options{Lookup: idx})
	require.NoError(t, err)
	assert.True(t, warned(r, "NGX-024"), "canary under review, main found by host: %v", r.Warnings)

	idx = NewIndex()
	idx.Put(canary)
	r, err = Evaluate(main, nil, Options{Lookup: idx})
	require.NoError(t, err)
	assert.True(t, warned(r, "NGX-024"), "main under review, canary found by host: %v", r.Warnings)

	// Another host, or the same host in another namespace: not related.
	for name, other := range map[string]*networkingv1.Ingress{
		"other host":      nginxIngress("shop", "web", "www.example.com", "web", nil),
		"other namespace": nginxIngress("blog", "web", "shop.example.com", "web", nil),
	} {
		idx = NewIndex()
		idx.Put(other)
		r, err = Evaluate(canary, nil, Options{Lookup: idx})
		require.NoError(t, err)
		assert.False(t, warned(r, "NGX-024"), "%s: %v", name, r.Warnings)
	}

	// Same host but no shared path: NGX-024 compares host and path.
	other := nginxIngress("shop", "web", "shop.example.com", "web", nil)
	other.Spec.Rules[0].HTTP.Paths[0].Path = "/api"
	idx = NewIndex()
	idx.Put(other)
	r, err = Evaluate(canary, nil, Options{Lookup: idx})
	require.NoError(t, err)
	assert.False(t, warned(r, "NGX-024"), "different path: %v", r.Warnings)
}

func TestIngressHosts(t *testing.T) {
	ing := nginxIngress("shop", "web", "a.example.com", "web", nil)
	ing.Spec.Rules = append(ing.Spec.Rules, *ing.Spec.Rules[0].DeepCopy(), networkingv1.IngressRule{Host: "no-http.example.com"})
	third := *ing.Spec.Rules[0].DeepCopy()
	third.Host = ""
	ing.Spec.Rules = append(ing.Spec.Rules, third)
	assert.Equal(t, []string{"a.example.com", ""}, IngressHosts(ing))
}

// By host, only a canary and a main Ingress are related: main Ingresses
// sharing a host (one per path) are not pulled into each other's reviews.
func TestHostRelatesOnlyCanaryAndMain(t *testing.T) {
	idx := NewIndex()
	for _, name := range []string{"a", "b", "c"} {
		idx.Put(nginxIngress("shop", name, "shop.example.com", name, nil))
	}
	idx.Put(nginxIngress("shop", "canary", "shop.example.com", "canary", map[string]string{"nginx.ingress.kubernetes.io/canary": "true"}))
	related := func(ing *networkingv1.Ingress) []string {
		o := Options{Lookup: idx}
		o.normalize()
		rel, err := ingressRelated(ing, &o)
		require.NoError(t, err)
		var out []string
		for _, r := range rel.Ingresses {
			out = append(out, r.Ingress.Name)
		}
		return out
	}
	assert.Equal(t, []string{"canary"}, related(nginxIngress("shop", "d", "shop.example.com", "d", nil)))
	assert.Equal(t, []string{"a", "b", "c"}, related(nginxIngress("shop", "canary2", "shop.example.com", "canary2",
		map[string]string{"nginx.ingress.kubernetes.io/canary": "True"})))
}
