package mutators

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/stickyguard/stickyguard/internal/sticky"
)

func svc(aff corev1.ServiceAffinity, timeout *int32, typ corev1.ServiceType, etp corev1.ServiceExternalTrafficPolicy) *corev1.Service {
	s := &corev1.Service{Spec: corev1.ServiceSpec{SessionAffinity: aff, Type: typ, ExternalTrafficPolicy: etp}}
	if timeout != nil {
		s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: timeout}}
	}
	return s
}

func TestClientIPTimeout(t *testing.T) {
	tests := []struct {
		name    string
		in      *corev1.Service
		def     int32
		changed bool
		want    *int32
	}{
		{"missing config left to the API server when the org default is its default", svc(corev1.ServiceAffinityClientIP, nil, "", ""), 10800, false, nil},
		{"missing config filled with org default", svc(corev1.ServiceAffinityClientIP, nil, "", ""), 3600, true, ptr.To[int32](3600)},
		{"api default replaced by org default", svc(corev1.ServiceAffinityClientIP, ptr.To[int32](10800), "", ""), 3600, true, ptr.To[int32](3600)},
		{"api default kept when org default is the same", svc(corev1.ServiceAffinityClientIP, ptr.To[int32](10800), "", ""), 10800, false, ptr.To[int32](10800)},
		{"explicit value kept", svc(corev1.ServiceAffinityClientIP, ptr.To[int32](600), "", ""), 3600, false, ptr.To[int32](600)},
		{"None untouched", svc(corev1.ServiceAffinityNone, nil, "", ""), 3600, false, nil},
		{"empty affinity untouched", svc("", nil, "", ""), 3600, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.in.DeepCopy()
			assert.Equal(t, tc.changed, ClientIPTimeout(got, tc.def))
			if tc.want == nil {
				assert.Nil(t, got.Spec.SessionAffinityConfig)
			} else {
				require.NotNil(t, got.Spec.SessionAffinityConfig)
				assert.Equal(t, *tc.want, *got.Spec.SessionAffinityConfig.ClientIP.TimeoutSeconds)
			}
			// Apply twice: the second application changes nothing.
			again := got.DeepCopy()
			assert.False(t, ClientIPTimeout(again, tc.def), "second application must not change")
			assert.Equal(t, got, again)
		})
	}
}

func TestLocalTrafficPolicy(t *testing.T) {
	tests := []struct {
		name    string
		in      *corev1.Service
		changed bool
		want    corev1.ServiceExternalTrafficPolicy
	}{
		{"LB cluster -> local", svc("", nil, corev1.ServiceTypeLoadBalancer, corev1.ServiceExternalTrafficPolicyCluster), true, "Local"},
		{"LB unset -> local", svc("", nil, corev1.ServiceTypeLoadBalancer, ""), true, "Local"},
		{"NodePort cluster -> local", svc("", nil, corev1.ServiceTypeNodePort, "Cluster"), true, "Local"},
		{"already local", svc("", nil, corev1.ServiceTypeLoadBalancer, "Local"), false, "Local"},
		{"ClusterIP untouched", svc("", nil, corev1.ServiceTypeClusterIP, ""), false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.in.DeepCopy()
			assert.Equal(t, tc.changed, LocalTrafficPolicy(got))
			assert.Equal(t, tc.want, got.Spec.ExternalTrafficPolicy)
			again := got.DeepCopy()
			assert.False(t, LocalTrafficPolicy(again))
			assert.Equal(t, got, again)
		})
	}
}

func dep(mut func(*appsv1.Deployment)) *appsv1.Deployment {
	d := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web", "v": "1"}}},
	}}
	if mut != nil {
		mut(d)
	}
	return d
}

func TestAntiAffinity(t *testing.T) {
	t.Run("preferred added with own selector", func(t *testing.T) {
		d := dep(nil)
		require.True(t, AntiAffinity(&d.Spec.Template, d.Spec.Selector, false, 100))
		terms := d.Spec.Template.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution
		require.Len(t, terms, 1)
		assert.Equal(t, int32(100), terms[0].Weight)
		assert.Equal(t, sticky.HostnameTopologyKey, terms[0].PodAffinityTerm.TopologyKey)
		assert.Equal(t, map[string]string{"app": "web"}, terms[0].PodAffinityTerm.LabelSelector.MatchLabels)
		assert.Empty(t, d.Spec.Template.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution)
		// The selector is a copy, not an alias of spec.selector.
		d.Spec.Selector.MatchLabels["app"] = "changed"
		assert.Equal(t, "web", terms[0].PodAffinityTerm.LabelSelector.MatchLabels["app"])
	})
	t.Run("required added", func(t *testing.T) {
		d := dep(nil)
		require.True(t, AntiAffinity(&d.Spec.Template, d.Spec.Selector, true, 100))
		req := d.Spec.Template.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution
		require.Len(t, req, 1)
		assert.Equal(t, sticky.HostnameTopologyKey, req[0].TopologyKey)
	})
	t.Run("node affinity kept", func(t *testing.T) {
		d := dep(func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{}}
		})
		require.True(t, AntiAffinity(&d.Spec.Template, d.Spec.Selector, false, 50))
		assert.NotNil(t, d.Spec.Template.Spec.Affinity.NodeAffinity)
	})
	leftAlone := map[string]func(*appsv1.Deployment){
		"existing anti-affinity (zone)": func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
				PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{Weight: 1, PodAffinityTerm: corev1.PodAffinityTerm{TopologyKey: "topology.kubernetes.io/zone"}}},
			}}
		},
		"hostname topology spread": func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{TopologyKey: sticky.HostnameTopologyKey, MaxSkew: 1}}
		},
		"no selector": func(d *appsv1.Deployment) { d.Spec.Selector = nil },
	}
	for name, mut := range leftAlone {
		t.Run(name, func(t *testing.T) {
			d := dep(mut)
			before := d.DeepCopy()
			assert.False(t, AntiAffinity(&d.Spec.Template, d.Spec.Selector, false, 100))
			assert.Equal(t, before, d)
		})
	}
	t.Run("apply twice", func(t *testing.T) {
		for _, required := range []bool{false, true} {
			d := dep(nil)
			require.True(t, AntiAffinity(&d.Spec.Template, d.Spec.Selector, required, 100))
			again := d.DeepCopy()
			assert.False(t, AntiAffinity(&again.Spec.Template, again.Spec.Selector, required, 100))
			assert.False(t, AntiAffinity(&again.Spec.Template, again.Spec.Selector, !required, 100), "a different mode must not add a second term")
			assert.Equal(t, d, again)
		}
	})
	t.Run("matchExpressions selector copied whole", func(t *testing.T) {
		d := dep(func(d *appsv1.Deployment) {
			d.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"web"}}}}
		})
		require.True(t, AntiAffinity(&d.Spec.Template, d.Spec.Selector, false, 100))
		sel := d.Spec.Template.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.LabelSelector
		assert.Len(t, sel.MatchExpressions, 1)
	})
}

// TestAntiAffinityStatefulSet: the same default on a StatefulSet's pod
// template, from its own selector; applying it twice changes nothing.
func TestAntiAffinityStatefulSet(t *testing.T) {
	sts := &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{
		ServiceName: "db-headless",
		Selector:    &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
		Template:    corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "db"}}},
	}}
	require.True(t, AntiAffinity(&sts.Spec.Template, sts.Spec.Selector, false, 100))
	terms := sts.Spec.Template.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution
	require.Len(t, terms, 1)
	assert.Equal(t, sticky.HostnameTopologyKey, terms[0].PodAffinityTerm.TopologyKey)
	assert.Equal(t, map[string]string{"app": "db"}, terms[0].PodAffinityTerm.LabelSelector.MatchLabels)
	again := sts.DeepCopy()
	assert.False(t, AntiAffinity(&again.Spec.Template, again.Spec.Selector, true, 100))
	assert.Equal(t, sts, again)
}
