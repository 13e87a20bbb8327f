package webhook

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Review results, the result label of stickyguard_admission_reviews_total.
const (
	resultAllowed    = "allowed"     // nothing to do, or only warnings
	resultPatched    = "patched"     // enforce: defaults applied
	resultDenied     = "denied"      // enforce: 422 Invalid
	resultWouldPatch = "would_patch" // audit: a patch was withheld
	resultWouldDeny  = "would_deny"  // audit: a denial was turned into warnings
	resultExempt     = "exempt"      // stickyguard.io/ignore
	resultSkipped    = "skipped"     // the namespace has not opted in
	resultError      = "error"       // 4xx/5xx: bad request or infrastructure failure
)

// Metrics are stickyguard's admission metrics. A nil *Metrics records
// nothing.
type Metrics struct {
	reviews    *prometheus.CounterVec
	findings   *prometheus.CounterVec
	mutations  *prometheus.CounterVec
	exemptions *prometheus.CounterVec
	duration   *prometheus.HistogramVec
}

// NewMetrics creates the metrics and registers them with reg (the manager
// serves controller-runtime's metrics.Registry). Registering twice with the
// same registry reuses the collectors already there.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		reviews: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stickyguard_admission_reviews_total",
			Help: "Admission reviews answered, by kind, operation, namespace mode and result (each API write is reviewed by the mutating and the validating webhook).",
		}, []string{"kind", "operation", "mode", "result"}),
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stickyguard_rule_findings_total",
			Help: "Rule findings reported by the validating webhook, by rule ID, severity (deny, warn) and namespace mode.",
		}, []string{"rule", "severity", "mode"}),
		mutations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stickyguard_mutations_total",
			Help: "Defaults applied (enforce) or withheld (audit) by the mutating webhook, by rule ID and namespace mode.",
		}, []string{"rule", "mode"}),
		exemptions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stickyguard_exemptions_total",
			Help: "Objects exempted with the stickyguard.io/ignore annotation, by kind.",
		}, []string{"kind"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "stickyguard_review_duration_seconds",
			Help:    "Time to answer one admission review inside the handler, by kind and webhook (mutate, validate).",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"kind", "webhook"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	m.reviews = register(reg, m.reviews, &err)
	m.findings = register(reg, m.findings, &err)
	m.mutations = register(reg, m.mutations, &err)
	m.exemptions = register(reg, m.exemptions, &err)
	m.duration = register(reg, m.duration, &err)
	if err != nil {
		return nil, err
	}
	return m, nil
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C, errp *error) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		*errp = errors.Join(*errp, err)
	}
	return c
}

func (m *Metrics) review(kind, op string, mode Mode, result string) {
	if m != nil {
		m.reviews.WithLabelValues(kind, op, string(mode), result).Inc()
	}
}

func (m *Metrics) finding(rule, severity string, mode Mode) {
	if m != nil {
		m.findings.WithLabelValues(rule, severity, string(mode)).Inc()
	}
}

func (m *Metrics) mutation(rule string, mode Mode) {
	if m != nil {
		m.mutations.WithLabelValues(rule, string(mode)).Inc()
	}
}

func (m *Metrics) exemption(kind string) {
	if m != nil {
		m.exemptions.WithLabelValues(kind).Inc()
	}
}

func (m *Metrics) observe(kind string, half Half, d time.Duration) {
	if m != nil {
		m.duration.WithLabelValues(kind, string(half)).Observe(d.Seconds())
	}
}
