package engine

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/stickyguard/stickyguard/policy"
	"github.com/stickyguard/stickyguard/validators"
)

func ingressClass(name, controller string, isDefault bool) *networkingv1.IngressClass {
	ic := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: networkingv1.IngressClassSpec{Controller: controller}}
	if isDefault {
		ic.Annotations = map[string]string{networkingv1.AnnotationIsDefaultIngressClass: "true"}
	}
	return ic
}

// TestResolveIngressClassShared: "nginx" and "haproxy" are the default class
// names of two controllers each; only an IngressClass object (or a policy
// entry of the user's own) says which one serves an Ingress.
func TestResolveIngressClassShared(t *testing.T) {
	byField := func(c string) *networkingv1.Ingress {
		return &networkingv1.Ingress{Spec: networkingv1.IngressSpec{IngressClassName: ptr.To(c)}}
	}
	byAnnotation := func(c string) *networkingv1.Ingress {
		return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{"kubernetes.io/ingress.class": c}}}
	}
	withObjects := NewIndex()
	withObjects.Put(ingressClass("nginx", "k8s.io/ingress-nginx", false))
	withObjects.Put(ingressClass("haproxy", "haproxy.org/ingress-controller/haproxy", false))
	withDefault := NewIndex()
	withDefault.Put(ingressClass("haproxy", "haproxy-ingress.github.io/controller", true))
	userMap := policy.Default()
	userMap.Ingress.ClassControllers["haproxy"] = "haproxy.org/ingress-controller/haproxy"
	tests := []struct {
		name   string
		ing    *networkingv1.Ingress
		lk     Lookup
		pol    *policy.Policy
		want   validators.Controller
		class  string
		shared bool
	}{
		{"nginx by name only", byField("nginx"), NewIndex(), policy.Default(), validators.ControllerNginx, "nginx", true},
		{"haproxy by name only", byField("haproxy"), NewIndex(), policy.Default(), validators.ControllerHAProxy, "haproxy", true},
		{"nginx IngressClass object", byField("nginx"), withObjects, policy.Default(), validators.ControllerNginx, "nginx", false},
		{"haproxy IngressClass object names HAProxy Technologies", byField("haproxy"), withObjects, policy.Default(), validators.ControllerHAProxyTech, "haproxy", false},
		{"legacy annotation is matched by name even with an object", byAnnotation("nginx"), withObjects, policy.Default(), validators.ControllerNginx, "nginx", true},
		{"legacy annotation without an object", byAnnotation("haproxy"), NewIndex(), policy.Default(), validators.ControllerHAProxy, "haproxy", true},
		{"a name only one controller uses", byField("alb"), NewIndex(), policy.Default(), validators.ControllerAWS, "alb", false},
		{"the user's own policy entry", byField("haproxy"), NewIndex(), userMap, validators.ControllerHAProxyTech, "haproxy", false},
		{"no class, default IngressClass", &networkingv1.Ingress{}, withDefault, policy.Default(), validators.ControllerHAProxy, "haproxy", false},
		{"unknown class", byField("mystery"), NewIndex(), policy.Default(), validators.ControllerUnknown, "mystery", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveIngressClass(tt.ing, tt.lk, tt.pol)
			require.NoError(t, err)
			assert.Equal(t, IngressClassResolution{Controller: tt.want, Class: tt.class, Shared: tt.shared}, got)
			ctrl, class, err := ResolveController(tt.ing, tt.lk, tt.pol)
			require.NoError(t, err)
			assert.Equal(t, tt.want, ctrl)
			assert.Equal(t, tt.class, class)
		})
	}
}

// failingClasses fails every IngressClass lookup.
type failingClasses struct{ Lookup }

var errClasses = errors.New("cache not synced")

func (failingClasses) IngressClass(string) (*networkingv1.IngressClass, error) {
	return nil, errClasses
}
func (failingClasses) DefaultIngressClass() (*networkingv1.IngressClass, error) {
	return nil, errClasses
}

func TestResolveIngressClassErrors(t *testing.T) {
	for _, ing := range []*networkingv1.Ingress{{Spec: networkingv1.IngressSpec{IngressClassName: ptr.To("nginx")}}, {}} {
		got, err := ResolveIngressClass(ing, failingClasses{NewIndex()}, policy.Default())
		require.ErrorIs(t, err, errClasses)
		assert.Equal(t, validators.ControllerUnknown, got.Controller)
		assert.False(t, got.Shared)
	}
}

// TestIngressRelatedClassShared: the engine hands the resolution to the
// rules, so an IngressClass object turns HAP-003 on and the name alone
// keeps it off.
func TestIngressRelatedClassShared(t *testing.T) {
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Annotations: map[string]string{"haproxy.org/cookie-persistence": "SRV"}},
		Spec:       networkingv1.IngressSpec{IngressClassName: ptr.To("haproxy")},
	}
	rules := func(lk Lookup) []string {
		res, err := Evaluate(ing, nil, Options{Policy: policy.Default(), Lookup: lk})
		require.NoError(t, err)
		var ids []string
		for _, w := range res.Warnings {
			ids = append(ids, w.Rule)
		}
		return ids
	}
	assert.NotContains(t, rules(NewIndex()), "HAP-003", "class name only")
	idx := NewIndex()
	idx.Put(ingressClass("haproxy", "haproxy-ingress.github.io/controller", false))
	assert.Contains(t, rules(idx), "HAP-003", "IngressClass object")
}
