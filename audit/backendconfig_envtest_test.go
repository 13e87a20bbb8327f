package audit_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// backendConfig is a GKE BackendConfig with spec.sessionAffinity.
func backendConfig(ns, name string, affinity map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cloud.google.com/v1",
		"kind":       "BackendConfig",
		"metadata":   map[string]any{"namespace": ns, "name": name},
		"spec":       map[string]any{"sessionAffinity": affinity},
	}}
	return u
}

func nodePortSvc(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeNodePort }

func backendConfigRef(ref string) svcOpt {
	return func(s *corev1.Service) {
		s.Annotations = map[string]string{"cloud.google.com/backend-config": ref}
	}
}

// TestAuditBackendConfigs: where the BackendConfig CRD is served the audit
// lists a namespace's BackendConfigs, so a Service naming a missing one
// (GKE-006) and BackendConfig affinity without NEG (GKE-008) are reported,
// and the BackendConfigs' own rules run.
func TestAuditBackendConfigs(t *testing.T) {
	t.Parallel()
	e := testEnv(t)
	ns := namespace(t, "gke", nil)
	create(t,
		backendConfig(ns, "sticky", map[string]any{"affinityType": "CLIENT_IP"}),
		backendConfig(ns, "bad-ttl", map[string]any{"affinityType": "GENERATED_COOKIE", "affinityCookieTtlSec": int64(100000)}),
		service(ns, "missing", backendConfigRef(`{"default":"nope"}`)),
		// NodePort: a ClusterIP backend can only be reached through NEG,
		// so GKE-008 does not concern it.
		service(ns, "no-neg", backendConfigRef(`{"default":"sticky"}`), nodePortSvc),
		service(ns, "clusterip", backendConfigRef(`{"default":"sticky"}`)),
		service(ns, "with-neg", backendConfigRef(`{"default":"sticky"}`), nodePortSvc, func(s *corev1.Service) {
			s.Annotations["cloud.google.com/neg"] = `{"ingress": true}`
		}),
	)
	nr := auditNamespace(t, e.Client, ns)
	got := rulesByObject(nr.Checked)
	assert.Equal(t, []string{"GKE-006"}, got["Service/missing"])
	assert.Equal(t, []string{"GKE-008"}, got["Service/no-neg"])
	assert.NotContains(t, got, "Service/with-neg")
	assert.NotContains(t, got, "Service/clusterip")
	assert.Equal(t, []string{"GKE-002"}, got["BackendConfig/bad-ttl"])
	assert.NotContains(t, got, "BackendConfig/sticky")

	var kinds []string
	for _, c := range nr.Checked {
		kinds = append(kinds, c.Doc.Kind+"/"+c.Doc.Name)
	}
	assert.Equal(t, []string{"Service/clusterip", "Service/missing", "Service/no-neg", "Service/with-neg", "BackendConfig/bad-ttl", "BackendConfig/sticky"}, kinds,
		"BackendConfigs after the other kinds, by name")
}
