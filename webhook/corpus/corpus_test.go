package corpus

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stickyguard/stickyguard/engine"
	"github.com/stickyguard/stickyguard/validators"
	"github.com/stickyguard/stickyguard/webhook"
)

// engineNamespace is where the engine-only test places the examples.
const engineNamespace = "corpus"

// TestCorpusTriggersItsRule: every example's subject triggers the rule its
// file is named after (a deny finding, a warning, or a filled default), so
// the apiserver test below proves something about real failing objects.
func TestCorpusTriggersItsRule(t *testing.T) {
	for _, ex := range loadCorpus(t) {
		t.Run(ex.File, func(t *testing.T) {
			rule, _ := validators.RuleByID(ex.Rule)
			require.False(t, rule.Offline, "%s runs only offline; the corpus is for live rules", ex.Rule)
			require.Contains(t, rule.Kinds, ex.Kind(), "%s does not run on a %s", ex.Rule, ex.Kind())
			context, old, subject := ex.inNamespace(engineNamespace)
			res, err := ex.evaluate(engineNamespace, context, old, subject)
			require.NoError(t, err)
			assert.Contains(t, triggered(res), ex.Rule, "the subject must trigger %s", ex.Rule)
		})
	}
}

// TestEveryLiveRuleHasAnExample: a live rule without a corpus file, or
// without an example for one of the kinds the webhook reviews it on, could
// be filtered out by the matchConditions unnoticed.
func TestEveryLiveRuleHasAnExample(t *testing.T) {
	examples := map[string][]string{} // rule -> subject kinds
	for _, ex := range loadCorpus(t) {
		examples[ex.Rule] = append(examples[ex.Rule], ex.Kind())
	}
	live := liveRules()
	require.NotEmpty(t, live)
	for _, r := range live {
		_, err := os.Stat(filepath.Join(corpusDir(), r.ID+".yaml"))
		assert.NoError(t, err, "live rule %s has no corpus file testdata/rules/%s.yaml", r.ID, r.ID)
		for _, k := range r.Kinds {
			if slices.Contains(admittedKinds, k) {
				assert.Contains(t, examples[r.ID], k, "live rule %s has no corpus example whose subject is a %s (add testdata/rules/%s.<kind>.yaml)", r.ID, k, r.ID)
			}
		}
	}
	t.Logf("%d live rules, %d with examples", len(live), len(examples))
}

// TestCacheTransformKeepsWhatRulesRead: the live cache stores objects
// through webhook.StripForCache (a cached Deployment loses its containers
// and status); every example gives the same findings when its context
// objects are stripped that way.
func TestCacheTransformKeepsWhatRulesRead(t *testing.T) {
	for _, ex := range loadCorpus(t) {
		if len(ex.Context) == 0 && ex.Old == nil {
			continue
		}
		t.Run(ex.File, func(t *testing.T) {
			context, old, subject := ex.inNamespace(engineNamespace)
			want, err := ex.evaluate(engineNamespace, context, old, subject)
			require.NoError(t, err)
			var stripped []client.Object
			for _, o := range context {
				c := o.DeepCopyObject().(client.Object)
				_, err := webhook.StripForCache(c)
				require.NoError(t, err)
				stripped = append(stripped, c)
			}
			var strippedOld client.Object
			if old != nil {
				strippedOld = old.DeepCopyObject().(client.Object)
				_, err := webhook.StripForCache(strippedOld)
				require.NoError(t, err)
			}
			got, err := ex.evaluateCached(engineNamespace, stripped, strippedOld, old, subject)
			require.NoError(t, err)
			assert.Equal(t, findings(want), findings(got))
		})
	}
}

// findings renders a result for comparison: every error, warning and
// mutation message.
func findings(r *engine.Result) []string {
	var out []string
	for _, e := range r.Errors {
		out = append(out, "error "+e.Error())
	}
	for _, w := range r.Warnings {
		out = append(out, "warning "+w.String())
	}
	for _, m := range r.Mutations {
		out = append(out, "mutation "+m.Message())
	}
	return out
}
