package corpus

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/engine"
	"github.com/stickyguard/stickyguard/policy"
	"github.com/stickyguard/stickyguard/validators"
	"github.com/stickyguard/stickyguard/webhook"
)

// The Gateway API and mesh corpus: the examples of testdata/rules whose
// rule belongs to a family that judges the Gateway API, Envoy Gateway,
// Istio and GKE Gateway kinds (gatewayFamilies), and the extra examples of
// webhook/corpus/testdata/gateway (README.md there): subjects that carry
// nothing sticky and still trigger a rule, the reason routes have no
// matchConditions. The format is the one of testdata/rules, with objects
// of any kind (kept as written, for the API server). The Gateway API bundle
// (experimental channel) an example runs on is its Policy's
// cluster.gatewayAPI.version (v1.5.1, v1.7.0; v1.6.3 when unset). Subject
// annotations of the extra examples:
const (
	// annAlsoAs, on an HTTPRoute subject, runs the example a second time
	// with the subject (and the old object) turned into that kind (GRPCRoute).
	annAlsoAs = annPrefix + "also-as"
	// annNothingSticky says the subject carries no sessionPersistence,
	// consistentHash or sessionAffinity (the test checks it).
	annNothingSticky = annPrefix + "nothing-sticky"
)

// gwExample is one example of the Gateway API and mesh corpus.
type gwExample struct {
	Dir     string // "rules" (testdata/rules) or "gateway" (webhook/corpus/testdata/gateway)
	File    string // base name
	Rule    string
	Version string // Gateway API bundle version
	Policy  *policy.Policy
	Context []*unstructured.Unstructured // created first, in order
	Old     *unstructured.Unstructured   // the stored object of an UPDATE, or nil
	Subject *unstructured.Unstructured
	// NothingSticky: the subject carries nothing sticky itself.
	NothingSticky bool
}

// ID names the example: directory, file and the subject's kind.
func (e *gwExample) ID() string { return e.Dir + "/" + e.File + "/" + e.Kind() }

// Kind is the rule-catalog kind of the subject (the object's kind).
func (e *gwExample) Kind() string { return e.Subject.GetKind() }

func gatewayCorpusDir() string {
	return filepath.Join(repoRoot(), "webhook", "corpus", "testdata", "gateway")
}

// reviewedKinds are the kinds the webhook reviews (webhook.Routes).
func reviewedKinds() []string {
	var out []string
	for _, r := range webhook.Routes() {
		if k := r.Kind().Kind; !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// gatewayFamilies are the rule families that judge a kind the older corpus
// (testdata/rules) has no control plane for: every family with a rule on a
// kind outside admittedKinds. Their Service rules (Istio's labels) are in
// the gateway corpus too.
func gatewayFamilies() map[string]bool {
	out := map[string]bool{}
	for _, r := range validators.Catalog() {
		for _, k := range r.Kinds {
			if !slices.Contains(admittedKinds, k) && k != validators.KindBackendConfig {
				out[r.Family] = true
			}
		}
	}
	return out
}

// liveGatewayRules are the live rules of the gateway families.
func liveGatewayRules() []*validators.Rule {
	fams := gatewayFamilies()
	var out []*validators.Rule
	for _, r := range validators.Catalog() {
		if !r.Offline && fams[r.Family] {
			out = append(out, r)
		}
	}
	return out
}

// isGatewayFile tells the testdata/rules files of the gateway families.
func isGatewayFile(name string) bool {
	r, ok := validators.RuleByID(ruleOfFile(name))
	return ok && gatewayFamilies()[r.Family]
}

// loadGatewayCorpus reads every example, sorted by directory and file
// name; a file whose HTTPRoute subject says also-as gives two examples.
func loadGatewayCorpus(t testing.TB) []*gwExample {
	t.Helper()
	var out []*gwExample
	for _, src := range []struct{ dir, name string }{{corpusDir(), "rules"}, {gatewayCorpusDir(), "gateway"}} {
		files, err := filepath.Glob(filepath.Join(src.dir, "*.yaml"))
		require.NoError(t, err)
		sort.Strings(files)
		n := 0
		for _, f := range files {
			if src.name == "rules" && !isGatewayFile(filepath.Base(f)) {
				continue
			}
			exs, err := loadGatewayExample(f, src.name)
			require.NoError(t, err, filepath.Base(f))
			out = append(out, exs...)
			n++
		}
		require.NotZero(t, n, "no gateway corpus in %s", src.dir)
	}
	return out
}

func loadGatewayExample(path, dir string) ([]*gwExample, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ex := &gwExample{Dir: dir, File: filepath.Base(path), Rule: ruleOfFile(filepath.Base(path)), Policy: policy.Default()}
	if _, ok := validators.RuleByID(ex.Rule); !ok {
		return nil, fmt.Errorf("%s names no rule of the catalog", ex.File)
	}
	rd := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []*unstructured.Unstructured
	for i := 1; ; i++ {
		chunk, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(chunk, &u.Object); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if u.Object == nil || u.GetKind() == "" {
			continue // comments only
		}
		if u.GetKind() == policy.Kind {
			if ex.Policy, err = policy.Parse(chunk, validators.KnownRule); err != nil {
				return nil, fmt.Errorf("document %d: %w", i, err)
			}
			continue
		}
		if u.GetNamespace() != "" {
			return nil, fmt.Errorf("document %d: %s %s sets a namespace; the tests choose it", i, u.GetKind(), u.GetName())
		}
		objs = append(objs, u)
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("%s has no objects", ex.File)
	}
	ex.Subject = objs[len(objs)-1]
	g := ex.Policy.Cluster.GatewayAPI
	switch {
	case g.Channel != "" && g.Channel != apis.ChannelExperimental:
		return nil, fmt.Errorf("%s: the corpus runs on experimental-channel CRDs, the policy says %q", ex.File, g.Channel)
	case g.Version == "":
		ex.Version = defaultGatewayVersion
	case slices.Contains(gatewayVersions, g.Version):
		ex.Version = g.Version
	default:
		return nil, fmt.Errorf("%s: Gateway API %s is not one of the corpus's bundles %v", ex.File, g.Version, gatewayVersions)
	}
	ann := ex.Subject.GetAnnotations()
	alsoAs := ann[annAlsoAs]
	ex.NothingSticky = ann[annNothingSticky] == "true"
	if !slices.Contains(reviewedKinds(), ex.Kind()) {
		return nil, fmt.Errorf("%s: the subject is a %s, which the webhook does not review", ex.File, ex.Kind())
	}
	for _, o := range objs[:len(objs)-1] {
		switch r := o.GetAnnotations()[annRole]; r {
		case "":
			ex.Context = append(ex.Context, o)
		case "old":
			if ex.Old != nil {
				return nil, fmt.Errorf("%s: more than one old object", ex.File)
			}
			if o.GetKind() != ex.Kind() || o.GetName() != ex.Subject.GetName() {
				return nil, fmt.Errorf("%s: the old object must be a %s named %q like the subject", ex.File, ex.Kind(), ex.Subject.GetName())
			}
			ex.Old = o
		default:
			return nil, fmt.Errorf("%s: unknown %s %q", ex.File, annRole, r)
		}
	}
	for _, o := range objs {
		stripUnstructured(o)
	}
	out := []*gwExample{ex}
	if alsoAs != "" {
		if ex.Kind() != apis.KindHTTPRoute || alsoAs != apis.KindGRPCRoute {
			return nil, fmt.Errorf("%s: %s is for an HTTPRoute subject turned into a GRPCRoute", ex.File, annAlsoAs)
		}
		g := *ex
		g.Subject = asKind(ex.Subject, alsoAs)
		if ex.Old != nil {
			g.Old = asKind(ex.Old, alsoAs)
		}
		out = append(out, &g)
	}
	return out, nil
}

func stripUnstructured(o *unstructured.Unstructured) {
	a := o.GetAnnotations()
	for k := range a {
		if strings.HasPrefix(k, annPrefix) {
			delete(a, k)
		}
	}
	if len(a) == 0 {
		a = nil
	}
	o.SetAnnotations(a)
}

func asKind(u *unstructured.Unstructured, kind string) *unstructured.Unstructured {
	c := u.DeepCopy()
	c.SetKind(kind)
	return c
}

// clusterScoped tells the kinds that live outside namespaces.
func clusterScoped(u *unstructured.Unstructured) bool {
	return u.GetKind() == apis.KindGatewayClass
}

// placed returns deep copies of the example's objects in ns.
func (e *gwExample) placed(ns string) (context []*unstructured.Unstructured, old, subject *unstructured.Unstructured) {
	place := func(o *unstructured.Unstructured) *unstructured.Unstructured {
		if o == nil {
			return nil
		}
		c := o.DeepCopy()
		if !clusterScoped(c) {
			c.SetNamespace(ns)
		}
		return c
	}
	for _, o := range e.Context {
		context = append(context, place(o))
	}
	return context, place(e.Old), place(e.Subject)
}

// typed reads an object the way `check` and the webhook do (engine's
// reader: the typed Service, Deployment, ... or the apis type).
func typed(u *unstructured.Unstructured) (k8sruntime.Object, error) {
	js, err := json.Marshal(u.Object)
	if err != nil {
		return nil, err
	}
	return typedJSON(u.GetKind()+" "+u.GetName(), js)
}

func typedJSON(source string, js []byte) (k8sruntime.Object, error) {
	docs, err := engine.ReadDocuments(source, bytes.NewReader(js))
	if err != nil {
		return nil, err
	}
	if len(docs) != 1 || docs[0].Object == nil || len(docs[0].RawErrors) > 0 {
		return nil, fmt.Errorf("%s: not one decodable object of a kind stickyguard reads (%+v)", source, docs)
	}
	return docs[0].Object, nil
}

// bundle is the installed bundle the example runs on.
func (e *gwExample) bundle() apis.GatewayBundle {
	return apis.BundleFor(e.Version, apis.ChannelExperimental, "corpus")
}

// evaluate runs the engine on subject (old on UPDATE) with the context
// objects as the cluster, as the webhook's cache would show them.
func (e *gwExample) evaluate(context []*unstructured.Unstructured, old, subject *unstructured.Unstructured) (*engine.Result, error) {
	idx := engine.NewIndex()
	put := func(u *unstructured.Unstructured) error {
		obj, err := typed(u)
		if err != nil {
			return err
		}
		idx.Put(obj)
		return nil
	}
	for _, o := range context {
		if err := put(o); err != nil {
			return nil, err
		}
	}
	var oldObj k8sruntime.Object
	if old != nil {
		if err := put(old); err != nil { // the stored version is in the cache during an UPDATE
			return nil, err
		}
		var err error
		if oldObj, err = typed(old); err != nil {
			return nil, err
		}
	}
	subj, err := typed(subject)
	if err != nil {
		return nil, err
	}
	return engine.Evaluate(subj, oldObj, engine.Options{Policy: e.Policy, Lookup: idx, Bundle: e.bundle()})
}
