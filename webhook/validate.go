package webhook

import (
	admissionv1 "k8s.io/api/admission/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/stickyguard/stickyguard/engine"
	"github.com/stickyguard/stickyguard/validators"
)

// Severity label values of stickyguard_rule_findings_total.
const (
	severityDeny = string(validators.Deny)
	severityWarn = string(validators.Warn)
)

// validate is the validating half. It sees the object after the mutating
// half (engine.Validate applies the defaults to its copy first, so the
// answer is the same if the mutating webhook was skipped). enforce: deny
// findings become one 422 Invalid; audit: they become warnings and audit
// annotations and the request is allowed. Warn findings are warnings in both
// modes. An exempt object is allowed with a warning naming the reason.
func (h *handler) validate(r *request, rv *review) admission.Response {
	res, err := engine.Validate(r.obj, r.old, r.opts)
	if err != nil {
		return h.engineError(rv, err)
	}
	if res.Exempt != "" {
		rv.result = resultExempt
		h.deps.Metrics.exemption(h.kind.Name)
		r.notes.warn(exemptWarning(h.kind.Name, res.Exempt))
		r.notes.annotate(auditKeyExempt, res.Exempt)
		resp := admission.Allowed("").WithWarnings(r.notes.list()...)
		resp.AuditAnnotations = r.notes.annotations
		return resp
	}
	for _, e := range res.Errors {
		rule := validators.RuleOf(e)
		rv.rules = append(rv.rules, rule)
		h.deps.Metrics.finding(rule, severityDeny, r.mode)
	}
	for _, w := range res.Warnings {
		rv.rules = append(rv.rules, w.Rule)
		h.deps.Metrics.finding(w.Rule, severityWarn, r.mode)
	}
	if len(res.Errors) > 0 && r.mode == ModeAudit {
		for _, e := range res.Errors {
			r.notes.wouldDeny(e)
		}
		rv.result = resultWouldDeny
	}
	for _, w := range res.Warnings {
		r.notes.warn(ruleWarning(w))
	}
	if len(res.Errors) > 0 && r.mode == ModeEnforce {
		rv.result = resultDenied
		return invalid(h.kind.GVK.GroupKind(), objectName(r.meta), res.Errors).WithWarnings(r.notes.list()...)
	}
	resp := admission.Allowed("").WithWarnings(r.notes.list()...)
	resp.AuditAnnotations = r.notes.annotations
	return resp
}

// invalid is THE adapter from deny findings to an answer: 422 Invalid with
// one cause per field (kubectl prints each), built by apierrors.NewInvalid.
// Never errors.New or ToAggregate, which give a 403 with one string.
func invalid(gk schema.GroupKind, name string, errs field.ErrorList) admission.Response {
	st := apierrors.NewInvalid(gk, name, validators.RenderedList(errs)).Status()
	return admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{Allowed: false, Result: &st}}
}

// objectName is the name for the Invalid status; on CREATE with
// generateName the name is not chosen yet.
func objectName(m metav1.Object) string {
	if n := m.GetName(); n != "" {
		return n
	}
	return m.GetGenerateName()
}
