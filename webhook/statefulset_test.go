package webhook

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stickyguard/stickyguard/internal/sticky"
)

// statefulSetReview is an AdmissionReview as kube-apiserver sends it for
// `kubectl apply` of a StatefulSet in an enforce namespace: the object
// carries the API server's defaults and no affinity.
const statefulSetReview = `{
  "apiVersion": "admission.k8s.io/v1",
  "kind": "AdmissionReview",
  "request": {
    "uid": "5f1c0b8e-4d0e-4a47-9d7c-1f0b6f2b7a11",
    "kind": {"group": "apps", "version": "v1", "kind": "StatefulSet"},
    "resource": {"group": "apps", "version": "v1", "resource": "statefulsets"},
    "requestKind": {"group": "apps", "version": "v1", "kind": "StatefulSet"},
    "requestResource": {"group": "apps", "version": "v1", "resource": "statefulsets"},
    "name": "chat",
    "namespace": "shop",
    "operation": "CREATE",
    "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]},
    "object": {
      "apiVersion": "apps/v1",
      "kind": "StatefulSet",
      "metadata": {"name": "chat", "namespace": "shop", "creationTimestamp": null,
        "annotations": {"meta.helm.sh/release-name": "chat"}},
      "spec": {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "chat"}},
        "serviceName": "chat-headless",
        "podManagementPolicy": "OrderedReady",
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
        "revisionHistoryLimit": 10,
        "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
        "template": {
          "metadata": {"creationTimestamp": null, "labels": {"app": "chat"}},
          "spec": {
            "containers": [{"name": "chat", "image": "ghcr.io/example/chat:1.4", "ports": [{"containerPort": 8080, "protocol": "TCP"}],
              "resources": {}, "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"}],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "securityContext": {},
            "schedulerName": "default-scheduler"
          }
        }
      },
      "status": {"replicas": 0, "availableReplicas": 0}
    },
    "oldObject": null,
    "dryRun": false,
    "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions", "fieldManager": "kubectl-client-side-apply"}
  }
}`

// stickyChat is the sticky Service in front of the chat StatefulSet.
func stickyChat() *corev1.Service {
	return service(nsEnforce, "chat", stickyLB, func(s *corev1.Service) { s.Spec.Selector = map[string]string{"app": "chat"} })
}

func TestStatefulSetRawReviewPatch(t *testing.T) {
	f := newFixture(stickyChat())
	resp := f.post(t, "/mutate-apps-v1-statefulset", []byte(statefulSetReview))
	require.True(t, resp.Allowed, "%+v", resp.Result)
	assert.EqualValues(t, "5f1c0b8e-4d0e-4a47-9d7c-1f0b6f2b7a11", resp.UID)
	require.NotNil(t, resp.PatchType)
	assert.Equal(t, admissionv1.PatchTypeJSONPatch, *resp.PatchType)
	assert.JSONEq(t, `[{"op":"add","path":"/spec/template/spec/affinity","value":{"podAntiAffinity":{
		"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":100,"podAffinityTerm":{
			"labelSelector":{"matchLabels":{"app":"chat"}},"topologyKey":"kubernetes.io/hostname"}}]}}}]`, string(resp.Patch))
	require.Len(t, resp.Warnings, 1, "%q", resp.Warnings)
	assert.True(t, strings.HasPrefix(resp.Warnings[0], "DEP-001 spec.template.spec.affinity.podAntiAffinity: set"), resp.Warnings[0])

	// Without a sticky Service there is nothing to fill.
	resp = newFixture().post(t, "/mutate-apps-v1-statefulset", []byte(statefulSetReview))
	require.True(t, resp.Allowed)
	assert.Empty(t, resp.Patch)
	assert.Nil(t, resp.PatchType)

	// The Deployment path does not take a StatefulSet.
	resp = f.post(t, "/mutate-apps-v1-deployment", []byte(statefulSetReview))
	assert.False(t, resp.Allowed)
	assert.EqualValues(t, http.StatusBadRequest, resp.Result.Code)
}

func spreadChat(s *appsv1.StatefulSet) {
	s.Spec.Selector.MatchLabels = map[string]string{"app": "chat"}
	s.Spec.Template.Labels = map[string]string{"app": "chat"}
	s.Spec.Template.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
			Weight: 100, PodAffinityTerm: corev1.PodAffinityTerm{
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "chat"}},
				TopologyKey:   corev1.LabelHostname,
			},
		}},
	}}
}

func chatLabels(s *appsv1.StatefulSet) {
	s.Spec.Selector.MatchLabels = map[string]string{"app": "chat"}
	s.Spec.Template.Labels = map[string]string{"app": "chat"}
}

func TestStatefulSetUpdates(t *testing.T) {
	f := newFixture(stickyChat())
	t.Run("UPDATE that adds the default warns about the rollout (DEP-002)", func(t *testing.T) {
		obj := statefulSet(nsEnforce, "chat", chatLabels)
		resp := f.review(t, Mutating, update, obj, obj)
		require.True(t, resp.Allowed)
		require.Len(t, patchOps(t, resp), 1)
		var rules []string
		for _, w := range resp.Warnings {
			rules = append(rules, strings.Fields(w)[0])
		}
		assert.ElementsMatch(t, []string{"DEP-001", "DEP-002"}, rules)
	})
	t.Run("UPDATE that already has the default: no patch, no warning", func(t *testing.T) {
		obj := statefulSet(nsEnforce, "chat", spreadChat)
		for _, half := range []Half{Mutating, Validating} {
			resp := f.review(t, half, update, obj, obj)
			assert.True(t, resp.Allowed)
			assert.Empty(t, resp.Patch, half)
			assert.Nil(t, resp.PatchType)
			assert.Empty(t, resp.Warnings, half)
		}
	})
}

func TestStatefulSetValidateDenies(t *testing.T) {
	obj := statefulSet(nsEnforce, "web", func(s *appsv1.StatefulSet) { setAnn(s, sticky.AnnAntiAffinity, "hard") })
	resp := newFixture().review(t, Validating, create, obj, nil)
	require.False(t, resp.Allowed)
	assert.EqualValues(t, http.StatusUnprocessableEntity, resp.Result.Code)
	assert.Equal(t, metav1.StatusReasonInvalid, resp.Result.Reason)
	require.NotNil(t, resp.Result.Details)
	assert.Equal(t, "apps", resp.Result.Details.Group)
	assert.Equal(t, "StatefulSet", resp.Result.Details.Kind)
	require.Len(t, resp.Result.Details.Causes, 1)
	c := resp.Result.Details.Causes[0]
	assert.Equal(t, metav1.CauseTypeFieldValueNotSupported, c.Type)
	assert.Equal(t, "metadata.annotations[stickyguard.io/anti-affinity]", c.Field)
	assert.Contains(t, c.Message, "SG-002")
}
