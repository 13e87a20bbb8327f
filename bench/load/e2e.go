package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// e2eNamespace is the enforce namespace the end-to-end creates go to.
const e2eNamespace = "bench"

// Configurations of the end-to-end mode.
const (
	cfgNone        = "none"
	cfgStickyguard = "stickyguard"
	cfgVAP         = "vap"
	cfgFloor       = "floor"
	// cfgFloorPatch is the floor whose mutating half sets stickyguard's
	// default on the sticky Services: what any mutating webhook costs the
	// API server, for reading the stickyguard/floor ratio (no target).
	cfgFloorPatch = "floor-patch"
	// cfgFloorFiltered is the floor behind a matchCondition only the probe
	// passes: the fixed price of filtering in the API server, for reading
	// the plain-object ratio (no target).
	cfgFloorFiltered = "floor-filtered"
)

var e2eConfigs = []string{cfgNone, cfgStickyguard, cfgVAP, cfgFloor, cfgFloorPatch, cfgFloorFiltered}

// E2ERun is one configuration, class and concurrency, merged over rounds.
type E2ERun struct {
	Config      string  `json:"config"`
	Class       string  `json:"class"`
	Concurrency int     `json:"concurrency"`
	Summary     Summary `json:"summary"`
	// APIServer is the run's admission cost per object according to the
	// API server's metrics (all rounds).
	APIServer *AdmissionCost `json:"apiserver"`
	result    *Result
	delta     *admissionSample
}

// E2ERatio compares a run with the baseline and the floor of the same class
// and concurrency.
type E2ERatio struct {
	Config      string  `json:"config"`
	Class       string  `json:"class"`
	Concurrency int     `json:"concurrency"`
	VsBaseline  float64 `json:"throughput_vs_none"`
	VsFloor     float64 `json:"throughput_vs_floor"`
	AddedP50    float64 `json:"p50_added_ms_vs_none"`
	// VsBaselineRange and VsFloorRange are the lowest and highest ratio of
	// a single round (configurations of one round ran minutes apart at
	// most): how much the machine's noise moves the pooled ratio.
	VsBaselineRange [2]float64 `json:"throughput_vs_none_round_range"`
	VsFloorRange    [2]float64 `json:"throughput_vs_floor_round_range"`
}

// E2EReport is the end-to-end mode's outcome.
type E2EReport struct {
	Runs        []E2ERun         `json:"runs"`
	Ratios      []E2ERatio       `json:"ratios"`
	Attribution []E2EAttribution `json:"attribution"`
	Targets     []Check          `json:"targets"`
}

// admission is one configuration's objects in the API server.
type admission struct {
	mutating   []*admissionregistrationv1.MutatingWebhookConfiguration
	validating []*admissionregistrationv1.ValidatingWebhookConfiguration
	policies   []*admissionregistrationv1.ValidatingAdmissionPolicy
	bindings   []*admissionregistrationv1.ValidatingAdmissionPolicyBinding
	// probe says whether a probe result shows this configuration in force.
	probe func(err error) error
}

// entries is how many webhook entries the configuration registers.
func (a *admission) entries() int {
	n := 0
	for _, m := range a.mutating {
		n += len(m.Webhooks)
	}
	for _, v := range a.validating {
		n += len(v.Webhooks)
	}
	return n
}

// conditioned are the entries (and policies) with matchConditions, keyed
// as the API server's metrics label them.
func (a *admission) conditioned() map[hookKey]bool {
	out := map[hookKey]bool{}
	for _, m := range a.mutating {
		for _, w := range m.Webhooks {
			if len(w.MatchConditions) > 0 {
				out[hookKey{w.Name, "admit"}] = true
			}
		}
	}
	for _, v := range a.validating {
		for _, w := range v.Webhooks {
			if len(w.MatchConditions) > 0 {
				out[hookKey{w.Name, "validating"}] = true
			}
		}
	}
	return out
}

func runE2E(ctx context.Context, h *Harness) (*E2EReport, error) {
	o := h.Opts
	if err := h.Namespace(ctx, e2eNamespace, "enforce"); err != nil {
		return nil, err
	}
	if needsGateway(o.E2EClasses) {
		if err := h.setUpGateway(ctx); err != nil {
			return nil, err
		}
	}
	serve, err := h.StartServe(ctx)
	if err != nil {
		return nil, err
	}
	floor, err := h.StartFloor(ctx)
	if err != nil {
		return nil, err
	}
	scraper, err := newMetricsScraper(h.Config)
	if err != nil {
		return nil, err
	}
	configs := map[string]*admission{cfgNone: {probe: probeAllowed}}
	if configs[cfgStickyguard], err = stickyguardAdmission(h, serve.Addr); err != nil {
		return nil, err
	}
	configs[cfgVAP] = vapAdmission()
	configs[cfgFloor] = floorAdmission(h.CA, floor.Addr)
	configs[cfgFloorPatch] = floorPatchAdmission(h.CA, floor.Addr)
	configs[cfgFloorFiltered] = floorFilteredAdmission(h.CA, floor.Addr)

	m := &e2eMeasurements{merged: map[string]*Result{}, rounds: map[string][]*Result{}, deltas: map[string]*admissionSample{}}
	for round := 0; round < o.Rounds; round++ {
		for k := range o.E2EConfigs {
			name := o.E2EConfigs[(k+round)%len(o.E2EConfigs)] // rotate the order each round
			if err := h.measureConfig(ctx, round, name, configs, scraper, m); err != nil {
				return nil, err
			}
		}
	}

	merged, rounds, deltas, key := m.merged, m.rounds, m.deltas, e2eKey
	rep := &E2EReport{}
	for _, class := range o.E2EClasses {
		for _, c := range o.E2EConcurrency {
			base, fl := merged[key(cfgNone, class, c)], merged[key(cfgFloor, class, c)]
			for _, name := range o.E2EConfigs {
				r, d := merged[key(name, class, c)], deltas[key(name, class, c)]
				rep.Runs = append(rep.Runs, E2ERun{Config: name, Class: class, Concurrency: c, Summary: r.Summary(), result: r, delta: d,
					APIServer: admissionCost(d, r.Requests, configs[name].entries(), configs[name].conditioned())})
				rep.Ratios = append(rep.Ratios, E2ERatio{Config: name, Class: class, Concurrency: c,
					VsBaseline: r.Throughput() / base.Throughput(), VsFloor: r.Throughput() / fl.Throughput(),
					AddedP50:        ms(r.Pct(50)) - ms(base.Pct(50)),
					VsBaselineRange: roundRange(rounds[key(name, class, c)], rounds[key(cfgNone, class, c)]),
					VsFloorRange:    roundRange(rounds[key(name, class, c)], rounds[key(cfgFloor, class, c)])})
			}
		}
	}
	rep.Attribution = attribution(o, rep.Runs, configs)
	rep.Targets = e2eTargets(o, merged, rounds, key)
	rep.Targets = append(rep.Targets, attributionTargets(rep.Attribution)...)
	return rep, nil
}

// e2eKey names a configuration, class and concurrency.
func e2eKey(cfg, class string, c int) string { return fmt.Sprintf("%s/%s/%d", cfg, class, c) }

// e2eMeasurements are the runs of every round, by e2eKey.
type e2eMeasurements struct {
	merged map[string]*Result
	rounds map[string][]*Result        // per round, for the ratio ranges
	deltas map[string]*admissionSample // the API server's metrics, rounds summed
}

func (m *e2eMeasurements) add(key string, res *Result, d *admissionSample) {
	if m.merged[key] == nil {
		m.merged[key], m.deltas[key] = &Result{}, newSample()
	}
	m.merged[key].merge(res)
	m.rounds[key] = append(m.rounds[key], res)
	m.deltas[key].add(d, 1)
}

// measureConfig applies one configuration, waits until the probe shows it
// in force, runs every class and concurrency with the API server's
// metrics read around each run, and removes it again.
func (h *Harness) measureConfig(ctx context.Context, round int, name string, configs map[string]*admission, scraper *metricsScraper, m *e2eMeasurements) error {
	o, cfg := h.Opts, configs[name]
	if err := h.apply(ctx, cfg); err != nil {
		return fmt.Errorf("applying %s: %w", name, err)
	}
	if err := h.waitProbe(ctx, cfg); err != nil {
		return fmt.Errorf("%s never took effect: %w", name, err)
	}
	// Warm the connections (API server to webhook, client to API server).
	h.createLoad(ctx, "sticky", Limits{Concurrency: 8, Duration: 500 * time.Millisecond, MaxRequests: 2000})
	if needsGateway(o.E2EClasses) {
		h.createLoad(ctx, "sticky-route", Limits{Concurrency: 8, Duration: 250 * time.Millisecond, MaxRequests: 1000})
	}
	// The API server's metrics before and after each run: the difference
	// is that run's alone (every request of a run has finished when
	// createLoad returns).
	prev, err := scraper.scrape(ctx)
	if err != nil {
		return err
	}
	per := o.Duration / time.Duration(o.Rounds)
	for _, class := range o.E2EClasses {
		for _, c := range o.E2EConcurrency {
			res := h.createLoad(ctx, class, Limits{Concurrency: c, Duration: per, MaxRequests: o.MaxRequests})
			cur, err := scraper.scrape(ctx)
			if err != nil {
				return err
			}
			d := sub(cur, prev)
			prev = cur
			logf("e2e  round %d %-14s %-16s c=%-3d %s  webhook calls/object %.2f", round+1, name, class, c, res,
				admissionCost(d, res.Requests, 0, nil).WebhookCalls)
			if len(res.FirstErrors) > 0 {
				logf("e2e  first error: %s", res.FirstErrors[0])
			}
			// Patched sticky objects come back with a warning saying
			// what was set: none means the defaults were not applied.
			if (name == cfgStickyguard || name == cfgFloorPatch) && class == "sticky" && res.Requests > res.Errors && res.Warnings == 0 {
				return fmt.Errorf("%s set no default on %d sticky creates (no warnings came back)", name, res.Requests)
			}
			m.add(e2eKey(name, class, c), res, d)
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	if err := h.remove(ctx, cfg); err != nil {
		return fmt.Errorf("removing %s: %w", name, err)
	}
	if err := h.waitProbe(ctx, configs[cfgNone]); err != nil {
		return fmt.Errorf("%s still in force after removal: %w", name, err)
	}
	return nil
}

// createLoad creates objects of a class with dryRun=All. A request
// started before the deadline runs to its end (the API server finishes
// admitting it either way): so every object admitted is counted, and the
// API server's metrics read after the run hold all of them.
func (h *Harness) createLoad(ctx context.Context, class string, l Limits) (res *Result) {
	mk := e2eClasses[class].object
	dry := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldManager: "stickyguard-load"}
	before := h.warnings.n.Load()
	defer func() { res.Warnings = h.warnings.n.Load() - before }()
	outer := ctx
	l.Finish = true
	return run(ctx, l, func(_ context.Context, w, i int) error {
		var err error
		switch obj := mk(w, i).(type) {
		case *corev1.Service:
			_, err = h.Client.CoreV1().Services(e2eNamespace).Create(outer, obj, dry)
		case *networkingv1.Ingress:
			_, err = h.Client.NetworkingV1().Ingresses(e2eNamespace).Create(outer, obj, dry)
		case *appsv1.Deployment:
			_, err = h.Client.AppsV1().Deployments(e2eNamespace).Create(outer, obj, dry)
		case rawObject:
			err = h.createRaw(outer, obj)
		default:
			err = fmt.Errorf("cannot create a %T", obj)
		}
		return err
	})
}

// probeObject is denied by each configuration for its own reason:
// stickyguard (SVC-001: a Service field under spec.selector), the VAP
// (a ClientIP timeout below 60 s) and the floor (its name); with no
// admission it is allowed.
func probeObject(i int) *corev1.Service {
	svc := plainService(fmt.Sprintf("%s%d", probeDenyPrefix, i), "probe")
	svc.Spec.Selector["sessionAffinity"] = "ClientIP"
	svc.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
	svc.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To[int32](5)}}
	return svc
}

func probeAllowed(err error) error {
	if err != nil {
		return fmt.Errorf("probe denied: %w", err)
	}
	return nil
}

func probeDeniedWith(marker string) func(error) error {
	return func(err error) error {
		if err == nil {
			return errors.New("probe allowed")
		}
		if !strings.Contains(err.Error(), marker) {
			return fmt.Errorf("probe denied by something else: %w", err)
		}
		return nil
	}
}

// waitProbe creates the probe (dry run) until the answer shows cfg in force.
func (h *Harness) waitProbe(ctx context.Context, cfg *admission) error {
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		_, err := h.Client.CoreV1().Services(e2eNamespace).Create(ctx, probeObject(i), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		perr := cfg.probe(err)
		if perr == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return perr
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (h *Harness) apply(ctx context.Context, a *admission) error {
	ar := h.Client.AdmissionregistrationV1()
	for _, m := range a.mutating {
		if _, err := ar.MutatingWebhookConfigurations().Create(ctx, m, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	for _, v := range a.validating {
		if _, err := ar.ValidatingWebhookConfigurations().Create(ctx, v, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	for _, p := range a.policies {
		if _, err := ar.ValidatingAdmissionPolicies().Create(ctx, p, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	for _, b := range a.bindings {
		if _, err := ar.ValidatingAdmissionPolicyBindings().Create(ctx, b, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	return nil
}

func (h *Harness) remove(ctx context.Context, a *admission) error {
	ar := h.Client.AdmissionregistrationV1()
	ignore := func(err error) error {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}
	var errs []error
	for _, m := range a.mutating {
		errs = append(errs, ignore(ar.MutatingWebhookConfigurations().Delete(ctx, m.Name, metav1.DeleteOptions{})))
	}
	for _, v := range a.validating {
		errs = append(errs, ignore(ar.ValidatingWebhookConfigurations().Delete(ctx, v.Name, metav1.DeleteOptions{})))
	}
	for _, b := range a.bindings {
		errs = append(errs, ignore(ar.ValidatingAdmissionPolicyBindings().Delete(ctx, b.Name, metav1.DeleteOptions{})))
	}
	for _, p := range a.policies {
		errs = append(errs, ignore(ar.ValidatingAdmissionPolicies().Delete(ctx, p.Name, metav1.DeleteOptions{})))
	}
	return errors.Join(errs...)
}
