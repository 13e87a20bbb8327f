package webhook

import (
	"encoding/json"
	"net/http"

	"gomodules.xyz/jsonpatch/v2"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/stickyguard/stickyguard/webhook/engine"
)

// mutate is the mutating half. enforce: the defaults as a JSON patch, with
// warnings saying what was set. audit: no patch; each withheld default is a
// warning and an audit annotation. Exempt objects are left alone (the
// validating half reports the exemption, so users see it once).
func (h *handler) mutate(r *request, rv *review) admission.Response {
	res, err := engine.Mutate(r.obj, r.old, r.opts)
	if err != nil {
		return h.engineError(rv, err)
	}
	if res.Exempt != "" {
		rv.result = resultExempt
		return admission.Allowed("")
	}
	if len(res.Mutations) == 0 {
		return admission.Allowed("")
	}
	for _, m := range res.Mutations {
		rv.rules = append(rv.rules, m.Rule)
		h.deps.Metrics.mutation(m.Rule, r.mode)
	}
	if r.mode == ModeAudit {
		for _, m := range res.Mutations {
			r.notes.wouldSet(m)
		}
		rv.result = resultWouldPatch
		resp := admission.Allowed("").WithWarnings(r.notes.list()...)
		resp.AuditAnnotations = r.notes.annotations
		return resp
	}
	for _, w := range res.Warnings {
		r.notes.warn(ruleWarning(w))
	}
	resp := h.patch(r, res.Object)
	if !resp.Allowed {
		return h.fail(rv, resp.Result.Code, errString(resp.Result.Message))
	}
	if len(resp.Patches) == 0 {
		return admission.Allowed("")
	}
	rv.result = resultPatched
	return resp.WithWarnings(r.notes.list()...)
}

// patch computes the JSON patch from the raw request object to the mutated
// object, like controller-runtime's typed Defaulter: against the raw bytes
// (so fields are not reordered or re-encoded), then without the "remove"
// operations that only come from our Go types not knowing a field the API
// server sent (a newer API field must never be deleted).
func (h *handler) patch(r *request, mutated runtime.Object) admission.Response {
	// The namespace was filled in from the request for the rules; it is not
	// a change to the object.
	if m, err := meta.Accessor(mutated); err == nil {
		m.SetNamespace(r.rawNS)
	}
	r.meta.SetNamespace(r.rawNS)
	marshalled, err := json.Marshal(mutated)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	resp := admission.PatchResponseFromRaw(r.req.Object.Raw, marshalled)
	if !resp.Allowed || len(resp.Patches) == 0 {
		return resp
	}
	return dropSchemeRemovals(resp, r.obj, r.req.Object.Raw)
}

// dropSchemeRemovals removes from the patch every "remove" operation that
// a plain decode/encode round trip of the original object also produces:
// those remove fields our types do not know, not fields a mutator cleared.
func dropSchemeRemovals(resp admission.Response, original runtime.Object, raw []byte) admission.Response {
	hasRemove := false
	for _, p := range resp.Patches {
		if p.Operation == "remove" {
			hasRemove = true
			break
		}
	}
	if !hasRemove {
		return resp
	}
	marshalledOriginal, err := json.Marshal(original)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	roundTrip, err := jsonpatch.CreatePatch(raw, marshalledOriginal)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	byScheme := map[string]bool{}
	for _, p := range roundTrip {
		if p.Operation == "remove" {
			byScheme[p.Path] = true
		}
	}
	kept := resp.Patches[:0]
	for _, p := range resp.Patches {
		if p.Operation == "remove" && byScheme[p.Path] {
			continue
		}
		kept = append(kept, p)
	}
	resp.Patches = kept
	if len(kept) == 0 {
		resp.PatchType = nil
	}
	return resp
}

type errString string

func (e errString) Error() string { return string(e) }
