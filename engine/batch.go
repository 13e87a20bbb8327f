package engine

import (
	"encoding/json"
	"fmt"
	"sort"

	"gomodules.xyz/jsonpatch/v2"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/validators"
)

// Checked is the outcome for one checked document.
type Checked struct {
	Doc    *Document
	Result *Result
	// Patch is the RFC 6902 patch from the object as written to the object
	// as enforce mode would store it (stickyguard's defaults only).
	Patch []jsonpatch.Operation
}

// Allowed reports whether enforce mode would admit the object.
func (c *Checked) Allowed() bool { return c.Result.Allowed() }

// CheckDocuments evaluates a set of objects together, the way the webhook
// would see them in one namespace after they are all applied: cross-object
// rules resolve within the set, and mutations of one object (a Service set
// to Local) are visible to the others (its Deployments and StatefulSets). Documents that are
// skipped are returned untouched in skipped.
func CheckDocuments(docs []Document, opts Options) (checked []Checked, skipped []*Document, err error) {
	idx := indexDocuments(docs)
	opts.Lookup = idx
	opts.normalize()
	opts.misplaced = misplacedByObject(docs)
	// Mutation pass: Services first (their defaults decide workload
	// spreading), then Deployments and StatefulSets; the index then holds
	// what the cluster would store.
	for _, kind := range []string{validators.KindService, validators.KindDeployment, validators.KindStatefulSet} {
		for i := range docs {
			d := &docs[i]
			if d.Kind != kind || d.Object == nil || !d.Checked() {
				continue
			}
			r, err := Mutate(d.Object, nil, opts)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", d.Source, err)
			}
			idx.Put(r.Object)
		}
	}
	for i := range docs {
		d := &docs[i]
		if !d.Checked() {
			skipped = append(skipped, d)
			continue
		}
		c, err := checkOne(d, nil, opts)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", d.Source, err)
		}
		checked = append(checked, c)
	}
	return checked, skipped, nil
}

// indexDocuments puts every object read into a new Index, with the bundle
// of the Gateway API CRDs among them.
func indexDocuments(docs []Document) *Index {
	idx := NewIndex()
	for i := range docs {
		d := &docs[i]
		if d.Object != nil {
			idx.Put(d.Object)
		}
		if d.BackendConfig != nil {
			idx.Put(d.BackendConfig)
		}
	}
	idx.SetGatewayBundle(InputBundle(docs))
	return idx
}

// InputBundle is the Gateway API bundle the CRDs among docs describe (the
// HTTPRoute CRD first, then the GRPCRoute CRD, then any other Gateway API
// CRD; the first in input order among equals); zero when there are none.
func InputBundle(docs []Document) apis.GatewayBundle {
	var best apis.GatewayBundle
	bestRank := -1
	for i := range docs {
		c, ok := docs[i].Object.(*apis.CRD)
		if !ok {
			continue
		}
		b, ok := BundleFromCRD(c, "in "+docs[i].Source)
		if r := CRDRank(c.Name); ok && (bestRank < 0 || r < bestRank) {
			best, bestRank = b, r
		}
	}
	return best
}

// CheckStored evaluates the objects of one namespace as they are stored (the
// audit): each as if it were written again unchanged (an UPDATE whose old
// object is the stored one), which is what enforce mode will do on its next
// write, with the cross-object rules resolved against the rest as stored
// (related adds objects that are context only, such as IngressClasses).
//
// Unlike CheckDocuments, the index is not first updated with the defaults
// enforce mode would set: those defaults are not in the cluster, so a
// Deployment that is not spread for its sticky Service must still show on
// the Service (SVC-012), not only on the Deployment (DEP-001).
func CheckStored(docs []Document, related []any, opts Options) ([]Checked, error) {
	idx := NewIndex()
	for _, o := range related {
		idx.Put(o)
	}
	for i := range docs {
		if bc := docs[i].BackendConfig; bc != nil {
			idx.Put(bc)
		} else {
			idx.Put(docs[i].Object)
		}
	}
	opts.Lookup = idx
	opts.normalize()
	checked := make([]Checked, 0, len(docs))
	for i := range docs {
		d := &docs[i]
		c, err := checkOne(d, d.Object, opts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.Source, err)
		}
		checked = append(checked, c)
	}
	return checked, nil
}

// checkOne evaluates one document (old is nil for a create, the stored
// object for the audit) and adds the findings of reading it.
func checkOne(d *Document, old runtime.Object, opts Options) (Checked, error) {
	res := &Result{}
	var err error
	switch {
	case d.BackendConfig != nil:
		res = EvaluateBackendConfig(d.BackendConfig, opts)
	case d.Object != nil:
		res, err = Evaluate(d.Object, old, opts)
		if err != nil {
			return Checked{}, err
		}
	}
	if res.Exempt == "" {
		rawE, rawW := validators.ApplyOverrides(d.RawErrors, d.RawWarnings, opts.Policy)
		res.Errors = append(rawE, res.Errors...)
		res.Warnings = append(rawW, res.Warnings...)
	}
	c := Checked{Doc: d, Result: res}
	if len(res.Mutations) > 0 {
		c.Patch, err = Diff(d.Object, res.Object)
		if err != nil {
			return Checked{}, err
		}
	}
	return c, nil
}

// Diff is the JSON patch from one typed object to another. Both are
// marshalled the same way, so only real changes appear.
func Diff(from, to runtime.Object) ([]jsonpatch.Operation, error) {
	a, err := json.Marshal(from)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(to)
	if err != nil {
		return nil, err
	}
	ops, err := jsonpatch.CreatePatch(a, b)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].Path < ops[j].Path })
	return ops, nil
}
