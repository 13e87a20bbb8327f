package engine

import (
	"errors"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/internal/sticky"
	"github.com/stickyguard/stickyguard/policy"
	"github.com/stickyguard/stickyguard/validators"
)

// ErrUnsupportedKind is returned for objects the engine has no rules for.
var ErrUnsupportedKind = errors.New("unsupported kind")

// Options configure one evaluation.
type Options struct {
	Policy  *policy.Policy // nil means policy.Default()
	Lookup  Lookup         // nil means an empty cluster
	Offline bool           // run offline-only rules too (`stickyguard check`)
	// Bundle, when known, is the installed Gateway API bundle, winning over
	// the Lookup's and the policy's (`check --gateway-api`; the cluster's
	// CRDs in the audit). See bundle.go.
	Bundle apis.GatewayBundle
	// misplaced (set by CheckDocuments) maps an object (kind/namespace/name)
	// to the positions of keys its author wrote elsewhere; no default is
	// filled there.
	misplaced map[string][]string
}

// Mutation is one default the engine filled in.
type Mutation struct {
	Rule  string      // rule ID, e.g. SVC-005
	Field *field.Path // e.g. spec.externalTrafficPolicy
	Value string      // the value set, for messages
	Why   string      // why it was set, for messages ("" for none)
}

// Message renders the mutation as "<ID>: set <field>=<value>: <why>".
func (m Mutation) Message() string { return m.Rule + ": " + m.Detail() }

// Detail says what was set and why, without the rule ID.
func (m Mutation) Detail() string {
	msg := fmt.Sprintf("set %s=%s", m.Field, m.Value)
	if m.Why != "" {
		msg += ": " + m.Why
	}
	return msg
}

// Result is the engine's answer for one object.
type Result struct {
	// Object is the mutated copy (an unchanged copy when nothing applied;
	// for the kinds without defaults, the Gateway API and mesh kinds, the
	// object itself).
	Object runtime.Object
	// Mutations lists the defaults filled in, in order.
	Mutations []Mutation
	// Errors are deny findings after policy overrides (one cause per field).
	Errors field.ErrorList
	// Warnings are warn findings after policy overrides, plus the warnings
	// that accompany mutations (e.g. DEP-002).
	Warnings validators.Warnings
	// Exempt is the stickyguard.io/ignore reason when the object is exempt;
	// then no rule ran and nothing was mutated.
	Exempt string
}

// Allowed reports whether the object would be admitted in enforce mode.
func (r *Result) Allowed() bool { return len(r.Errors) == 0 }

func (o *Options) normalize() {
	if o.Policy == nil {
		o.Policy = policy.Default()
	}
	if o.Lookup == nil {
		o.Lookup = NewIndex()
	}
}

// Evaluate mutates a copy of obj and validates the result: what enforce mode
// does to the object. obj and old are not modified; old is nil on create.
func Evaluate(obj, old runtime.Object, opts Options) (*Result, error) {
	return run(obj, old, opts, fillAndValidate)
}

// EvaluateBackendConfig runs the GKE BackendConfig rules (offline and audit
// only: the webhook does not intercept BackendConfigs).
func EvaluateBackendConfig(bc *validators.BackendConfig, opts Options) *Result {
	opts.normalize()
	res := &Result{}
	res.Errors, res.Warnings = validators.ValidateBackendConfig(bc, opts.context(validators.Related{}))
	return res
}

// Mutate only fills defaults (the mutating webhook's half).
func Mutate(obj, old runtime.Object, opts Options) (*Result, error) {
	return run(obj, old, opts, fillOnly)
}

// Validate runs the validators on what the object would look like after the
// mutating half, without reporting the mutations (the validating webhook's
// half: in enforce mode the mutations were already applied and reported).
func Validate(obj, old runtime.Object, opts Options) (*Result, error) {
	r, err := run(obj, old, opts, validateOnly)
	if err != nil {
		return nil, err
	}
	r.Mutations = nil
	return r, nil
}

// half says which parts of the engine one evaluation runs.
type half int

const (
	// fillAndValidate fills and reports the defaults, then runs the rules
	// (Evaluate: check, audit).
	fillAndValidate half = iota
	// fillOnly fills and reports the defaults (Mutate: the mutating webhook).
	fillOnly
	// validateOnly fills the defaults without reporting them, then runs the
	// rules (Validate: the validating webhook).
	validateOnly
)

func (h half) validates() bool       { return h != fillOnly }
func (h half) reportsDefaults() bool { return h != validateOnly }

func run(obj, old runtime.Object, opts Options, h half) (*Result, error) {
	opts.normalize()
	switch o := obj.(type) {
	case *corev1.Service:
		oldSvc, _ := old.(*corev1.Service)
		return evalService(o, oldSvc, &opts, h)
	case *networkingv1.Ingress:
		oldIng, _ := old.(*networkingv1.Ingress)
		return evalIngress(o, oldIng, &opts, h)
	case *appsv1.Deployment:
		oldDep, _ := old.(*appsv1.Deployment)
		return evalDeployment(o, oldDep, &opts, h)
	case *appsv1.StatefulSet:
		oldSts, _ := old.(*appsv1.StatefulSet)
		return evalStatefulSet(o, oldSts, &opts, h)
	case *apis.Route:
		oldRoute, _ := old.(*apis.Route)
		return evalRoute(o, oldRoute, &opts, h)
	case *apis.BackendPolicy:
		oldPolicy, _ := old.(*apis.BackendPolicy)
		return evalBackendPolicy(o, oldPolicy, &opts, h)
	case *apis.EnvoyBackendTrafficPolicy:
		oldPolicy, _ := old.(*apis.EnvoyBackendTrafficPolicy)
		return evalEnvoyPolicy(o, oldPolicy, &opts, h)
	case *apis.DestinationRule:
		oldRule, _ := old.(*apis.DestinationRule)
		return evalDestinationRule(o, oldRule, &opts, h)
	case *apis.GCPBackendPolicy:
		oldPolicy, _ := old.(*apis.GCPBackendPolicy)
		return evalGCPPolicy(o, oldPolicy, &opts, h)
	case nil:
		return nil, fmt.Errorf("%w: nil object", ErrUnsupportedKind)
	default:
		return nil, fmt.Errorf("%w: %T", ErrUnsupportedKind, obj)
	}
}

// exemption returns the ignore reason; an empty reason does not exempt (the
// meta rule SG-001 denies it).
func exemption(annotations map[string]string) string {
	return strings.TrimSpace(annotations[sticky.AnnIgnore])
}

func (o *Options) context(rel validators.Related) *validators.Context {
	return &validators.Context{Policy: o.Policy, Offline: o.Offline, Related: rel}
}

func (r *Result) mutated(rule string, path *field.Path, value, why string) {
	r.Mutations = append(r.Mutations, Mutation{Rule: rule, Field: path, Value: value, Why: why})
}

// mutationWarnings turns mutations into warnings so enforce-mode users see
// what was set. The validating half never calls it (validateOnly): the
// mutating half already reported them.
func (r *Result) mutationWarnings() {
	for _, m := range r.Mutations {
		r.Warnings = append(r.Warnings, validators.Warning{Rule: m.Rule, Field: m.Field, Detail: m.Detail()})
	}
}
