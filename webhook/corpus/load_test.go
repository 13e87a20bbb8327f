package corpus

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/stickyguard/stickyguard/engine"
	"github.com/stickyguard/stickyguard/policy"
	"github.com/stickyguard/stickyguard/validators"
)

// Corpus annotations. They are removed before an object is used, and their
// prefix matches nothing the matchConditions look for.
const (
	annPrefix = "corpus.stickyguard.test/"
	// annRole "old" marks the stored object of an UPDATE: the subject (the
	// last document) is then written over it.
	annRole = annPrefix + "role"
)

// example is one corpus file.
type example struct {
	File    string // base name
	Rule    string // rule ID, from the file name
	Policy  *policy.Policy
	Context []client.Object // created first, in order
	Old     client.Object   // the stored object of an UPDATE, or nil
	Subject client.Object   // the object the rule fires on
	// BackendConfigs are GKE BackendConfigs for the engine only: the live
	// cache does not track them (GKE-006 and GKE-008 fire in check and
	// audit), and envtest has no such CRD.
	BackendConfigs []*validators.BackendConfig
}

// Kind is the rule-catalog kind of the subject.
func (e *example) Kind() string { return kindOf(e.Subject) }

func kindOf(o k8sruntime.Object) string {
	switch o.(type) {
	case *corev1.Service:
		return validators.KindService
	case *networkingv1.Ingress:
		return validators.KindIngress
	case *appsv1.Deployment:
		return validators.KindDeployment
	case *appsv1.StatefulSet:
		return validators.KindStatefulSet
	case *networkingv1.IngressClass:
		return "IngressClass"
	}
	return fmt.Sprintf("%T", o)
}

// admittedKinds are the kinds the webhook reviews.
var admittedKinds = []string{validators.KindService, validators.KindIngress, validators.KindDeployment, validators.KindStatefulSet}

// liveRules are the catalog rules the webhook runs: not offline-only, on a
// kind the webhook reviews (GKE BackendConfig rules run in check and audit
// only, since the webhook does not review BackendConfigs), outside the
// gateway families (gateway_load_test.go).
func liveRules() []*validators.Rule {
	var out []*validators.Rule
	gateway := gatewayFamilies() // their corpus is testdata/gateway here, with the real CRDs
	for _, r := range validators.Catalog() {
		if r.Offline || gateway[r.Family] {
			continue
		}
		for _, k := range r.Kinds {
			if slices.Contains(admittedKinds, k) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func corpusDir() string { return filepath.Join(repoRoot(), "testdata", "rules") }

// ruleOfFile is the rule ID of a corpus file name: <RULE-ID>[.<suffix>].yaml.
func ruleOfFile(name string) string {
	base := strings.TrimSuffix(name, ".yaml")
	id, _, _ := strings.Cut(base, ".")
	return id
}

// loadCorpus reads every testdata/rules/*.yaml file, sorted by name.
func loadCorpus(t testing.TB) []*example {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(corpusDir(), "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no corpus in %s", corpusDir())
	sort.Strings(files)
	var out []*example
	for _, f := range files {
		if isGatewayFile(filepath.Base(f)) {
			continue // gateway_load_test.go: they need the CRDs
		}
		ex, err := loadExample(f)
		require.NoError(t, err, filepath.Base(f))
		out = append(out, ex)
	}
	return out
}

// loadExample reads one corpus file: Policy documents set the engine's
// policy; the other documents are context objects, the stored object of an
// UPDATE (annotated corpus.stickyguard.test/role: old) and, last, the
// subject.
func loadExample(path string) (*example, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ex := &example{File: filepath.Base(path), Rule: ruleOfFile(filepath.Base(path)), Policy: policy.Default()}
	if _, ok := validators.RuleByID(ex.Rule); !ok {
		return nil, fmt.Errorf("%s names no rule of the catalog", ex.File)
	}
	rd := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []client.Object
	for i := 1; ; i++ {
		chunk, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		var tm struct{ Kind string }
		if err := yaml.Unmarshal(chunk, &tm); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if tm.Kind == "" {
			continue // comments only
		}
		if tm.Kind == policy.Kind {
			if ex.Policy, err = policy.Parse(chunk, validators.KnownRule); err != nil {
				return nil, fmt.Errorf("document %d: %w", i, err)
			}
			continue
		}
		docs, err := engine.ReadDocuments(fmt.Sprintf("%s#%d", ex.File, i), bytes.NewReader(chunk))
		if err != nil {
			return nil, err
		}
		if len(docs) == 1 && docs[0].BackendConfig != nil {
			ex.BackendConfigs = append(ex.BackendConfigs, docs[0].BackendConfig)
			continue
		}
		if len(docs) != 1 || docs[0].Object == nil || len(docs[0].RawErrors) > 0 {
			return nil, fmt.Errorf("document %d: not one decodable object of a kind stickyguard reads (%+v)", i, docs)
		}
		obj, ok := docs[0].Object.(client.Object)
		if !ok {
			return nil, fmt.Errorf("document %d: %T is not an object", i, docs[0].Object)
		}
		objs = append(objs, obj)
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("%s has no objects", ex.File)
	}
	ex.Subject = objs[len(objs)-1]
	if role(ex.Subject) != "" {
		return nil, fmt.Errorf("%s: the last document is the subject and has no role", ex.File)
	}
	if !slices.Contains(admittedKinds, ex.Kind()) {
		return nil, fmt.Errorf("%s: the subject is a %s, which the webhook does not review", ex.File, ex.Kind())
	}
	for _, o := range objs[:len(objs)-1] {
		switch role(o) {
		case "":
			ex.Context = append(ex.Context, o)
		case "old":
			if ex.Old != nil {
				return nil, fmt.Errorf("%s: more than one old object", ex.File)
			}
			if kindOf(o) != ex.Kind() || o.GetName() != ex.Subject.GetName() {
				return nil, fmt.Errorf("%s: the old object must be a %s named %q like the subject", ex.File, ex.Kind(), ex.Subject.GetName())
			}
			ex.Old = o
		default:
			return nil, fmt.Errorf("%s: unknown %s %q", ex.File, annRole, role(o))
		}
	}
	for _, o := range objs {
		stripCorpusAnnotations(o)
		if o.GetNamespace() != "" {
			return nil, fmt.Errorf("%s: %s %s sets a namespace; the tests choose it", ex.File, kindOf(o), o.GetName())
		}
	}
	return ex, nil
}

func role(o client.Object) string { return o.GetAnnotations()[annRole] }

func stripCorpusAnnotations(o client.Object) {
	a := o.GetAnnotations()
	for k := range a {
		if strings.HasPrefix(k, annPrefix) {
			delete(a, k)
		}
	}
	if len(a) == 0 {
		o.SetAnnotations(nil)
	}
}

// inNamespace returns deep copies of the example's objects placed in ns
// (IngressClasses stay cluster-scoped).
func (e *example) inNamespace(ns string) (context []client.Object, old, subject client.Object) {
	place := func(o client.Object) client.Object {
		if o == nil {
			return nil
		}
		c := o.DeepCopyObject().(client.Object)
		if _, cluster := c.(*networkingv1.IngressClass); !cluster {
			c.SetNamespace(ns)
		}
		return c
	}
	for _, o := range e.Context {
		context = append(context, place(o))
	}
	return context, place(e.Old), place(e.Subject)
}

// evaluate runs the engine on subject (old on UPDATE) with the context
// objects as the cluster, the way the webhook's cache would show them.
func (e *example) evaluate(ns string, context []client.Object, old, subject k8sruntime.Object) (*engine.Result, error) {
	idx := engine.NewIndex()
	for _, bc := range e.BackendConfigs {
		c := *bc
		c.Namespace = ns
		idx.Put(&c)
	}
	for _, o := range context {
		idx.Put(o)
	}
	if old != nil {
		idx.Put(old) // the stored version is in the cache during an UPDATE
	}
	return engine.Evaluate(subject, old, engine.Options{Policy: e.Policy, Lookup: idx})
}

// evaluateCached is evaluate with the cache's view: cached holds the
// context objects (and cachedOld the stored object) as the cache stores
// them, while the request still carries the whole old object.
func (e *example) evaluateCached(ns string, cached []client.Object, cachedOld, old, subject k8sruntime.Object) (*engine.Result, error) {
	idx := engine.NewIndex()
	for _, bc := range e.BackendConfigs {
		c := *bc
		c.Namespace = ns
		idx.Put(&c)
	}
	for _, o := range cached {
		idx.Put(o)
	}
	if cachedOld != nil {
		idx.Put(cachedOld)
	}
	return engine.Evaluate(subject, old, engine.Options{Policy: e.Policy, Lookup: idx})
}

// triggered lists the rule IDs an evaluation reports: deny findings,
// warnings and filled defaults.
func triggered(r *engine.Result) []string {
	var out []string
	for _, e := range r.Errors {
		out = append(out, validators.RuleOf(e))
	}
	for _, w := range r.Warnings {
		out = append(out, w.Rule)
	}
	for _, m := range r.Mutations {
		out = append(out, m.Rule)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// nameOf is "Kind ns/name" for messages.
func nameOf(o client.Object) string {
	m, err := meta.Accessor(o)
	if err != nil {
		return fmt.Sprintf("%T", o)
	}
	return kindOf(o) + " " + m.GetNamespace() + "/" + m.GetName()
}
