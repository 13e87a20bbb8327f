package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/stickyguard/stickyguard/policy"
)

// Periodic audits the opted-in namespaces every interval, applies their
// PolicyReports and exports stickyguard_audit_findings{rule,namespace}. It
// is a manager Runnable that runs only on the elected leader, so one replica
// of `stickyguard serve --audit-interval` does the work.
type Periodic struct {
	client   client.Client
	reader   client.Reader
	interval time.Duration
	policy   func() *policy.Policy
	log      logr.Logger
	pageSize int64

	findings    *prometheus.GaugeVec
	runs        *prometheus.CounterVec
	lastSuccess prometheus.Gauge
	// series are the findings label sets the last run set, so the next run
	// deletes the ones that were fixed.
	series map[findingKey]bool
}

type findingKey struct{ rule, namespace string }

var (
	_ manager.Runnable               = (*Periodic)(nil)
	_ manager.LeaderElectionRunnable = (*Periodic)(nil)
)

// NewPeriodic builds the periodic audit. c writes the PolicyReports; reader
// lists the audited objects in pages and must not be the informer cache
// (pass mgr.GetAPIReader()). policy returns the policy in force at each run
// (nil means the built-in default). The metrics are registered on reg (nil
// registers nothing).
func NewPeriodic(c client.Client, reader client.Reader, interval time.Duration, policy func() *policy.Policy, reg prometheus.Registerer, log logr.Logger) (*Periodic, error) {
	if interval <= 0 {
		return nil, fmt.Errorf("audit interval must be positive, got %s (leave the audit out to turn it off)", interval)
	}
	if c == nil || reader == nil {
		return nil, errors.New("the periodic audit needs a client and an API reader")
	}
	if log.GetSink() == nil {
		log = logr.Discard()
	}
	p := &Periodic{
		client: c, reader: reader, interval: interval, policy: policy, log: log, pageSize: DefaultPageSize,
		findings: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "stickyguard_audit_findings",
			Help: "Findings of the last periodic audit (deny and warn, including defaults enforce mode would set), by rule ID and namespace. Fixed findings disappear at the next run.",
		}, []string{"rule", "namespace"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stickyguard_audit_runs_total",
			Help: "Periodic audit runs, by result (success, error).",
		}, []string{"result"}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "stickyguard_audit_last_success_timestamp_seconds",
			Help: "Unix time at which the last successful periodic audit finished.",
		}),
		series: map[findingKey]bool{},
	}
	if reg != nil {
		var err error
		p.findings = register(reg, p.findings, &err)
		p.runs = register(reg, p.runs, &err)
		p.lastSuccess = register(reg, p.lastSuccess, &err)
		if err != nil {
			return nil, fmt.Errorf("registering the audit metrics: %w", err)
		}
	}
	return p, nil
}

// register registers c, or reuses the collector already registered under
// the same name (a second server in the same process).
func register[C prometheus.Collector](reg prometheus.Registerer, c C, errp *error) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		if *errp == nil {
			*errp = err
		}
	}
	return c
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: only the
// leader audits.
func (p *Periodic) NeedLeaderElection() bool { return true }

// Start runs an audit at once and then every interval until ctx is done. A
// failed run is logged and counted; the next one retries.
func (p *Periodic) Start(ctx context.Context) error {
	p.log.Info("periodic audit started", "interval", p.interval.String())
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		start := time.Now()
		st, err := p.RunOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			p.log.Error(err, "periodic audit failed", "namespaces", st.Namespaces, "objects", st.Objects)
		default:
			p.log.V(1).Info("periodic audit done", "namespaces", st.Namespaces, "objects", st.Objects,
				"listCalls", st.ListCalls, "duration", time.Since(start).String())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// RunOnce audits the opted-in namespaces, applies one PolicyReport per
// namespace and replaces the findings gauges. If listing fails the gauges
// keep the previous run's values; if some reports cannot be written the
// gauges are still updated and the write errors are returned.
func (p *Periodic) RunOnce(ctx context.Context) (Stats, error) {
	var pol *policy.Policy
	if p.policy != nil {
		pol = p.policy()
	}
	now := time.Now()
	counts := map[findingKey]float64{}
	var writeErrs []error
	st, err := Run(ctx, p.reader, Options{Scope: Scope{OptedIn: true}, Policy: pol, PageSize: p.pageSize}, func(nr *NamespaceResult) error {
		for _, f := range Findings(nr.Checked) {
			if f.Result == ResultFail || f.Result == ResultWarn {
				counts[findingKey{f.Rule, nr.Namespace}]++
			}
		}
		err := ApplyPolicyReport(ctx, p.client, PolicyReport(nr.Namespace, nr.Checked, now))
		switch {
		case err == nil, errors.Is(err, ErrNamespaceGone):
		case errors.Is(err, ErrNoPolicyReportCRD):
			// Every namespace would fail the same way: say it once.
			if len(writeErrs) == 0 {
				writeErrs = append(writeErrs, err)
			}
		default:
			writeErrs = append(writeErrs, err)
		}
		return ctx.Err()
	})
	if err != nil {
		p.runs.WithLabelValues("error").Inc()
		return st, err
	}
	for _, w := range st.Warnings {
		p.log.Info("periodic audit incomplete", "reason", w)
	}
	for _, n := range st.Notes {
		p.log.V(1).Info("periodic audit", "note", n)
	}
	p.setFindings(counts)
	if len(writeErrs) > 0 {
		p.runs.WithLabelValues("error").Inc()
		if len(writeErrs) > 5 {
			writeErrs = append(writeErrs[:5], fmt.Errorf("and %d more PolicyReports not written", len(writeErrs)-5))
		}
		return st, errors.Join(writeErrs...)
	}
	p.runs.WithLabelValues("success").Inc()
	p.lastSuccess.Set(float64(time.Now().Unix()))
	return st, nil
}

// setFindings replaces the gauges with counts without a moment at zero: it
// deletes only the series that are gone.
func (p *Periodic) setFindings(counts map[findingKey]float64) {
	for k := range p.series {
		if _, ok := counts[k]; !ok {
			p.findings.DeleteLabelValues(k.rule, k.namespace)
		}
	}
	p.series = make(map[findingKey]bool, len(counts))
	for k, v := range counts {
		p.findings.WithLabelValues(k.rule, k.namespace).Set(v)
		p.series[k] = true
	}
}
