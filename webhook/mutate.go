package webhook

import (
	"fmt"
	"net/http"

	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/stickyguard/stickyguard/engine"
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
	ops, err := patch(r, res.Object)
	if err != nil {
		return h.fail(rv, http.StatusInternalServerError, fmt.Errorf("computing the patch: %w", err))
	}
	if len(ops) == 0 {
		return admission.Allowed("")
	}
	rv.result = resultPatched
	return patched(ops).WithWarnings(r.notes.list()...)
}
