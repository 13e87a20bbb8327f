package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/stickyguard/stickyguard/engine"
	"github.com/stickyguard/stickyguard/policy"
)

// PolicySource returns the policy in force, or nil while no valid policy
// has been loaded (reviews then fail with 500).
type PolicySource interface {
	Current() *policy.Policy
}

// StaticPolicy is a PolicySource that never changes.
type StaticPolicy struct{ Policy *policy.Policy }

// Current implements PolicySource.
func (s StaticPolicy) Current() *policy.Policy { return s.Policy }

// Deps are what the handlers need. The server wires them to the informer
// cache; handler tests use an engine.Index and a map of namespace labels.
type Deps struct {
	Scheme     *runtime.Scheme // nil: NewScheme()
	Lookup     engine.Lookup   // cross-object facts; nil: an empty cluster
	Modes      ModeSource      // namespace opt-in labels (required)
	Policy     PolicySource    // nil: the built-in default policy
	ForceAudit bool            // treat every enforce namespace as audit
	Metrics    *Metrics        // nil: no metrics
	Log        logr.Logger     // zero value: discard
}

// NewScheme returns a scheme with the kinds stickyguard admits and caches.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(corev1.AddToScheme(s))
	utilruntime.Must(appsv1.AddToScheme(s))
	utilruntime.Must(networkingv1.AddToScheme(s))
	// SelfSubjectAccessReviews: serve asks whether it may watch
	// BackendConfigs before it does (WatchBackendConfigs).
	utilruntime.Must(authorizationv1.AddToScheme(s))
	return s
}

// NewWebhooks builds the admission webhook of every route, keyed by path.
// Panics in handlers are recovered into 500 responses. d.Modes is required.
func NewWebhooks(d Deps) map[string]*admission.Webhook {
	if d.Modes == nil {
		panic("webhook: Deps.Modes must be set")
	}
	if d.Scheme == nil {
		d.Scheme = NewScheme()
	}
	if d.Policy == nil {
		d.Policy = StaticPolicy{policy.Default()}
	}
	if d.Log.GetSink() == nil {
		d.Log = logr.Discard()
	}
	deps := &d
	out := map[string]*admission.Webhook{}
	for _, r := range Routes() {
		h := &handler{half: r.Half, kind: r.kind, deps: deps}
		log := d.Log.WithValues("webhook", string(r.Half))
		out[r.Path] = &admission.Webhook{
			Handler:      h,
			RecoverPanic: ptr(true),
			// The request's identity is added where a line is actually
			// written (logDecision), not for every review.
			LogConstructor: func(logr.Logger, *admission.Request) logr.Logger { return log },
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// handler answers the reviews of one route. It keeps the guarantees of
// controller-runtime's typed Defaulter/Validator: typed decoding of the
// object (and the old object on UPDATE), DELETE/CONNECT allowed untouched,
// patches computed against the raw request with removals of fields our Go
// types do not know dropped, and no patch when nothing changed.
type handler struct {
	half Half
	kind kind
	deps *Deps
}

var _ admission.Handler = (*handler)(nil)

// review is what one review decided, for metrics and logs.
type review struct {
	mode   Mode
	result string
	rules  []string
	err    error
}

// request is a decoded review.
type request struct {
	req   admission.Request
	obj   runtime.Object
	old   runtime.Object // nil on CREATE
	meta  metav1.Object
	rawNS string // metadata.namespace as sent, restored before patching
	mode  Mode
	opts  engine.Options
	notes notes
}

// Handle implements admission.Handler.
func (h *handler) Handle(ctx context.Context, req admission.Request) admission.Response {
	start := time.Now()
	rv := review{mode: ModeOff, result: resultAllowed}
	resp := h.handle(ctx, req, &rv)
	h.deps.Metrics.observe(h.kind.Name, h.half, time.Since(start))
	h.deps.Metrics.review(h.kind.Name, string(req.Operation), rv.mode, rv.result)
	h.logDecision(ctx, &req, &rv)
	return resp
}

func (h *handler) handle(ctx context.Context, req admission.Request, rv *review) admission.Response {
	switch req.Operation {
	case admissionv1.Create, admissionv1.Update:
	case admissionv1.Delete, admissionv1.Connect:
		return admission.Allowed("")
	default:
		return h.fail(rv, http.StatusBadRequest, fmt.Errorf("unknown operation %q", req.Operation))
	}
	if req.Kind.Kind != "" && (req.Kind.Group != h.kind.GVK.Group || req.Kind.Kind != h.kind.GVK.Kind) {
		return h.fail(rv, http.StatusBadRequest, fmt.Errorf("this path admits %s, not %s",
			h.kind.GVK.GroupKind(), schema.GroupKind{Group: req.Kind.Group, Kind: req.Kind.Kind}))
	}
	r, final := h.decode(ctx, req, rv)
	if final != nil {
		return *final
	}
	if h.half == Mutating {
		return h.mutate(r, rv)
	}
	return h.validate(r, rv)
}

// decode decodes the objects, finds the namespace's mode and the policy.
// A non-nil final is the answer already: an error, or a namespace that has
// not opted in.
func (h *handler) decode(ctx context.Context, req admission.Request, rv *review) (r *request, final *admission.Response) {
	r = &request{req: req, obj: h.kind.New()}
	if err := decodeObject(req.Object.Raw, r.obj, h.kind.GVK); err != nil {
		return nil, ptr(h.fail(rv, http.StatusBadRequest, err))
	}
	if req.Operation == admissionv1.Update {
		r.old = h.kind.New()
		if err := decodeObject(req.OldObject.Raw, r.old, h.kind.GVK); err != nil {
			return nil, ptr(h.fail(rv, http.StatusBadRequest, fmt.Errorf("decoding oldObject: %w", err)))
		}
	}
	if h.kind.Custom {
		// The rules read Kind (HTTPRoute or GRPCRoute): a document that
		// left it out is of the route's kind, as decodeObject assumes.
		for _, o := range []runtime.Object{r.obj, r.old} {
			if o != nil && o.GetObjectKind().GroupVersionKind().Empty() {
				o.GetObjectKind().SetGroupVersionKind(h.kind.GVK)
			}
		}
	}
	m, err := meta.Accessor(r.obj)
	if err != nil {
		return nil, ptr(h.fail(rv, http.StatusBadRequest, err))
	}
	r.meta = m
	// On CREATE the object may not carry its namespace yet: the request's
	// is the authoritative one.
	r.rawNS = m.GetNamespace()
	if req.Namespace != "" {
		m.SetNamespace(req.Namespace)
		if r.old != nil {
			if om, err := meta.Accessor(r.old); err == nil {
				om.SetNamespace(req.Namespace)
			}
		}
	}
	ns := m.GetNamespace()
	label, found, err := h.deps.Modes.ModeLabel(ctx, ns)
	if err != nil {
		return nil, ptr(h.fail(rv, http.StatusInternalServerError, err))
	}
	mode, note := resolveMode(label, found, h.deps.ForceAudit, ns)
	r.mode, rv.mode = mode, mode
	if mode == ModeOff {
		rv.result = resultSkipped
		resp := admission.Allowed("")
		if h.half == Validating {
			// Only one half says it, so the user sees it once.
			resp = resp.WithWarnings(sanitize(note, maxWarningRunes))
		}
		return nil, &resp
	}
	pol := h.deps.Policy.Current()
	if pol == nil {
		return nil, ptr(h.fail(rv, http.StatusInternalServerError, errors.New("no valid stickyguard policy has been loaded")))
	}
	if p, ok := h.deps.Lookup.(Preparer); ok && h.kind.Custom {
		if err := p.Prepare(ctx, h.kind.GVK.GroupKind()); err != nil {
			return nil, ptr(h.fail(rv, http.StatusInternalServerError, err))
		}
	}
	r.opts = engine.Options{Policy: pol, Lookup: h.deps.Lookup}
	return r, nil
}

// Preparer is a Lookup whose caches of custom resources start on demand
// (CacheLookup with a GatewayCache). Before a review of a custom resource,
// Prepare makes them ready, or fails (the review then fails with 500,
// never a guess).
type Preparer interface {
	Prepare(ctx context.Context, kind schema.GroupKind) error
}

// fail answers a review that could not be evaluated: 400 for requests we
// cannot read, 500 for infrastructure failures. Never a denial; the
// webhook's failurePolicy decides.
func (h *handler) fail(rv *review, code int32, err error) admission.Response {
	rv.result, rv.err = resultError, err
	return admission.Errored(code, fmt.Errorf("stickyguard: %w", err))
}

// engineError maps an engine error to its response.
func (h *handler) engineError(rv *review, err error) admission.Response {
	if errors.Is(err, engine.ErrUnsupportedKind) {
		return h.fail(rv, http.StatusBadRequest, err)
	}
	return h.fail(rv, http.StatusInternalServerError, err)
}

// logDecision logs one line per review: request identity, mode, decision
// and rule IDs, never the object. Denials, audit findings, exemptions and
// patches are logged at info level, the rest at V(1), failures as errors.
func (h *handler) logDecision(ctx context.Context, req *admission.Request, rv *review) {
	log := logf.FromContext(ctx)
	var level int
	switch rv.result {
	case resultError, resultDenied, resultWouldDeny, resultExempt, resultPatched, resultWouldPatch:
	default:
		level = 1
	}
	if !log.V(level).Enabled() {
		return
	}
	log = log.WithValues("uid", req.UID, "kind", h.kind.Name, "namespace", req.Namespace, "name", req.Name,
		"operation", req.Operation, "mode", rv.mode, "decision", rv.result)
	if len(rv.rules) > 0 {
		log = log.WithValues("rules", rv.rules)
	}
	if rv.result == resultError {
		log.Error(rv.err, "review failed")
		return
	}
	log.V(level).Info("reviewed")
}
