package corpus

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stickyguard/stickyguard/validators"
	"github.com/stickyguard/stickyguard/webhook"
)

// TestGatewayCorpusTriggersItsRule: every example's subject, with its
// context objects as the cluster and its bundle installed, triggers the
// rule its file is named after.
func TestGatewayCorpusTriggersItsRule(t *testing.T) {
	for _, ex := range loadGatewayCorpus(t) {
		t.Run(ex.ID(), func(t *testing.T) {
			rule, _ := validators.RuleByID(ex.Rule)
			require.False(t, rule.Offline, "%s runs only offline; the corpus is for live rules", ex.Rule)
			require.Contains(t, rule.Kinds, ex.Kind(), "%s does not run on a %s", ex.Rule, ex.Kind())
			context, old, subject := ex.placed(engineNamespace)
			res, err := ex.evaluate(context, old, subject)
			require.NoError(t, err)
			assert.Contains(t, triggered(res), ex.Rule, "the subject must trigger %s", ex.Rule)
		})
	}
}

// TestEveryGatewayRuleHasAnExample: every live rule of the Gateway API,
// Envoy Gateway, Istio and GKE Gateway families (read from the catalog)
// has an example for each kind the webhook reviews it on.
func TestEveryGatewayRuleHasAnExample(t *testing.T) {
	examples := map[string][]string{} // rule -> subject kinds
	for _, ex := range loadGatewayCorpus(t) {
		examples[ex.Rule] = append(examples[ex.Rule], ex.Kind())
	}
	live := liveGatewayRules()
	require.NotEmpty(t, live, "the catalog has live rules for the Gateway API and mesh kinds")
	reviewed := reviewedKinds()
	for _, r := range live {
		_, err := os.Stat(filepath.Join(corpusDir(), r.ID+".yaml"))
		assert.NoError(t, err, "live rule %s has no corpus file testdata/rules/%s.yaml", r.ID, r.ID)
		for _, k := range r.Kinds {
			if slices.Contains(reviewed, k) {
				assert.Contains(t, examples[r.ID], k, "live rule %s has no corpus example whose subject is a %s", r.ID, k)
			}
		}
	}
	for id := range examples {
		assert.True(t, slices.ContainsFunc(live, func(r *validators.Rule) bool { return r.ID == id }),
			"%s is not a live rule of the gateway families", id)
	}
	t.Logf("%d live rules of %d families, %d with examples", len(live), len(gatewayFamilies()), len(examples))
}

// TestGatewayMatchConditionsSendEveryFailingExample is the safety proof of
// the shipped matchConditions for these kinds: on a real API server with
// the real CRDs of the example's bundle and
// manifests/base/webhook-configurations.yaml, the context objects are
// created for real in an enforce namespace, then the subject is created
// (or written over its stored old object) with server-side dry-run. It
// must reach the validating webhook exactly once, and the object the API
// server sent (defaults applied, unknown fields pruned) must still trigger
// the rule with the stored objects as the cluster.
func TestGatewayMatchConditionsSendEveryFailingExample(t *testing.T) {
	for _, ex := range loadGatewayCorpus(t) {
		t.Run(ex.ID(), func(t *testing.T) {
			cp := gatewayPlane(t, ex.Version)
			ns := nsFor(strings.TrimSuffix(ex.File, ".yaml") + "." + strings.ToLower(ex.Kind()) + ".yaml")
			cp.createNamespace(t, ns, "enforce")
			context, old, subject := ex.placed(ns)
			var stored []*unstructured.Unstructured
			for _, o := range context {
				stored = append(stored, cp.createUnstructured(t, o))
			}
			op := admissionv1.Create
			var err error
			if old != nil {
				op = admissionv1.Update
				old = cp.createUnstructured(t, old)
				subject.SetResourceVersion(old.GetResourceVersion())
				err = cp.client.Update(testCtx(t), subject, client.DryRunAll)
			} else {
				err = cp.client.Create(testCtx(t), subject, client.DryRunAll)
			}
			require.NoError(t, err, "the API server must accept the subject (the recording webhook allows everything)")

			var reviews []call
			for _, c := range cp.rec.to(ns, subject.GetName())[path(webhook.Validating, ex.Kind())] {
				if c.Operation == op && c.DryRun {
					reviews = append(reviews, c)
				}
			}
			require.Len(t, reviews, 1, "%s: the subject must reach the validating webhook exactly once (%s, dry run)", ex.Rule, op)

			sent := fromJSON(t, reviews[0].Object)
			var sentOld *unstructured.Unstructured
			if op == admissionv1.Update {
				sentOld = fromJSON(t, reviews[0].OldObject)
			}
			res, err := ex.evaluate(stored, sentOld, sent)
			require.NoError(t, err)
			assert.Contains(t, triggered(res), ex.Rule, "the object the API server sent must trigger %s", ex.Rule)
		})
	}
}

func fromJSON(t *testing.T, raw []byte) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	require.NoError(t, json.Unmarshal(raw, &u.Object))
	return u
}

// createUnstructured creates o for real and returns it as stored; a
// GatewayClass (cluster-scoped, shared by the examples) is reused when one
// with the same controllerName exists.
func (c *controlPlane) createUnstructured(t *testing.T, o *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	obj := o.DeepCopy()
	err := c.client.Create(testCtx(t), obj)
	if clusterScoped(o) && apierrors.IsAlreadyExists(err) {
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(o.GroupVersionKind())
		require.NoError(t, c.client.Get(testCtx(t), client.ObjectKeyFromObject(o), got))
		want, _, _ := unstructured.NestedString(o.Object, "spec", "controllerName")
		have, _, _ := unstructured.NestedString(got.Object, "spec", "controllerName")
		require.Equal(t, want, have, "%s %s is shared by the corpus with one controllerName", o.GetKind(), o.GetName())
		return got
	}
	require.NoError(t, err, "creating %s %s", o.GetKind(), o.GetName())
	return obj
}

// String helps failure messages.
func (e *gwExample) String() string {
	return fmt.Sprintf("%s (%s, Gateway API %s)", e.File, e.Kind(), e.Version)
}

// stickyKeys are the fields that make a Gateway API, mesh or GKE object
// sticky by itself.
var stickyKeys = []string{"sessionPersistence", "consistentHash", "sessionAffinity"}

// TestNothingStickySubjectsTriggerRules: the extra examples
// (webhook/corpus/testdata/gateway) really carry nothing sticky, so a
// matchCondition that sends only objects with a sticky field would hide
// the rule they trigger (TestGatewayCorpusTriggersItsRule proves they do).
func TestNothingStickySubjectsTriggerRules(t *testing.T) {
	n := 0
	for _, ex := range loadGatewayCorpus(t) {
		if ex.Dir != "gateway" {
			continue
		}
		n++
		t.Run(ex.ID(), func(t *testing.T) {
			require.True(t, ex.NothingSticky, "the extra examples are subjects with nothing sticky (%s)", annNothingSticky)
			js, err := json.Marshal(ex.Subject.Object)
			require.NoError(t, err)
			for _, k := range stickyKeys {
				assert.NotContains(t, string(js), `"`+k+`"`, "the subject carries %s", k)
			}
		})
	}
	assert.NotZero(t, n)
}
