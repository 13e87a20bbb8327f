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

// e2eClasses are the object classes: each returns the object worker w
// creates for its i-th request.
var e2eClasses = map[string]func(w, i int) any{
	// Sticky Services: ClientIP LoadBalancer (stickyguard patches it to
	// Local), ClientIP ClusterIP with a timeout, ACK persistence LoadBalancer.
	"sticky": func(w, i int) any {
		return stickyServices(fmt.Sprintf("sticky-%d-%d", w, i%1000), fmt.Sprintf("app-%d", w))[i%3]
	},
	// Plain ClusterIP Services as Helm writes them.
	"plain": func(w, i int) any {
		return plainService(fmt.Sprintf("plain-%d-%d", w, i%1000), fmt.Sprintf("app-%d", w))
	},
	// Plain Deployments (always sent to stickyguard: see docs/operations.md).
	"plain-deployment": func(w, i int) any {
		return deployment(fmt.Sprintf("plain-%d-%d", w, i%1000), fmt.Sprintf("app-%d", w))
	},
}

// E2ERun is one configuration, class and concurrency, merged over rounds.
type E2ERun struct {
	Config      string  `json:"config"`
	Class       string  `json:"class"`
	Concurrency int     `json:"concurrency"`
	Summary     Summary `json:"summary"`
	result      *Result
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
	Runs    []E2ERun   `json:"runs"`
	Ratios  []E2ERatio `json:"ratios"`
	Targets []Check    `json:"targets"`
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

func runE2E(ctx context.Context, h *Harness) (*E2EReport, error) {
	o := h.Opts
	if err := h.Namespace(ctx, e2eNamespace, "enforce"); err != nil {
		return nil, err
	}
	serve, err := h.StartServe(ctx)
	if err != nil {
		return nil, err
	}
	floor, err := h.StartFloor(ctx)
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

	merged := map[string]*Result{}
	rounds := map[string][]*Result{} // per round, for the ratio ranges
	key := func(cfg, class string, c int) string { return fmt.Sprintf("%s/%s/%d", cfg, class, c) }
	per := o.Duration / time.Duration(o.Rounds)
	for round := 0; round < o.Rounds; round++ {
		for k := range o.E2EConfigs {
			name := o.E2EConfigs[(k+round)%len(o.E2EConfigs)] // rotate the order each round
			cfg := configs[name]
			if err := h.apply(ctx, cfg); err != nil {
				return nil, fmt.Errorf("applying %s: %w", name, err)
			}
			if err := h.waitProbe(ctx, cfg); err != nil {
				return nil, fmt.Errorf("%s never took effect: %w", name, err)
			}
			// Warm the connections (API server to webhook, client to API server).
			h.createLoad(ctx, "sticky", Limits{Concurrency: 8, Duration: 500 * time.Millisecond, MaxRequests: 2000})
			for _, class := range o.E2EClasses {
				for _, c := range o.E2EConcurrency {
					res := h.createLoad(ctx, class, Limits{Concurrency: c, Duration: per, MaxRequests: o.MaxRequests})
					logf("e2e  round %d %-11s %-16s c=%-3d %s", round+1, name, class, c, res)
					// Patched sticky objects come back with a warning saying
					// what was set: none means the defaults were not applied.
					if (name == cfgStickyguard || name == cfgFloorPatch) && class == "sticky" && res.Requests > res.Errors && res.Warnings == 0 {
						return nil, fmt.Errorf("%s set no default on %d sticky creates (no warnings came back)", name, res.Requests)
					}
					if merged[key(name, class, c)] == nil {
						merged[key(name, class, c)] = &Result{}
					}
					merged[key(name, class, c)].merge(res)
					rounds[key(name, class, c)] = append(rounds[key(name, class, c)], res)
					if err := ctx.Err(); err != nil {
						return nil, err
					}
				}
			}
			if err := h.remove(ctx, cfg); err != nil {
				return nil, fmt.Errorf("removing %s: %w", name, err)
			}
			if err := h.waitProbe(ctx, configs[cfgNone]); err != nil {
				return nil, fmt.Errorf("%s still in force after removal: %w", name, err)
			}
		}
	}

	rep := &E2EReport{}
	for _, class := range o.E2EClasses {
		for _, c := range o.E2EConcurrency {
			base, fl := merged[key(cfgNone, class, c)], merged[key(cfgFloor, class, c)]
			for _, name := range o.E2EConfigs {
				r := merged[key(name, class, c)]
				rep.Runs = append(rep.Runs, E2ERun{Config: name, Class: class, Concurrency: c, Summary: r.Summary(), result: r})
				rep.Ratios = append(rep.Ratios, E2ERatio{Config: name, Class: class, Concurrency: c,
					VsBaseline: r.Throughput() / base.Throughput(), VsFloor: r.Throughput() / fl.Throughput(),
					AddedP50:        ms(r.Pct(50)) - ms(base.Pct(50)),
					VsBaselineRange: roundRange(rounds[key(name, class, c)], rounds[key(cfgNone, class, c)]),
					VsFloorRange:    roundRange(rounds[key(name, class, c)], rounds[key(cfgFloor, class, c)])})
			}
		}
	}
	rep.Targets = e2eTargets(o, merged, rounds, key)
	return rep, nil
}

// roundRange is the lowest and highest throughput ratio of a to b over
// the rounds.
func roundRange(a, b []*Result) [2]float64 {
	out := [2]float64{}
	for i := range a {
		if i >= len(b) || b[i].Throughput() == 0 {
			continue
		}
		q := a[i].Throughput() / b[i].Throughput()
		if i == 0 || q < out[0] {
			out[0] = q
		}
		if i == 0 || q > out[1] {
			out[1] = q
		}
	}
	return out
}

// e2eTargets are issue 5's end-to-end targets, for the concurrencies run.
func e2eTargets(o *Options, merged map[string]*Result, rounds map[string][]*Result, key func(string, string, int) string) []Check {
	var out []Check
	has := func(class string) bool {
		for _, c := range o.E2EClasses {
			if c == class {
				return true
			}
		}
		return false
	}
	for _, c := range o.E2EConcurrency {
		sg, fl, base := merged[key(cfgStickyguard, "sticky", c)], merged[key(cfgFloor, "sticky", c)], merged[key(cfgNone, "plain", c)]
		if has("sticky") && (c == 8 || c == 32) {
			out = append(out, atLeast(fmt.Sprintf("e2e sticky c=%d: stickyguard throughput >= 0.90 x floor", c), sg.Throughput()/fl.Throughput(), 0.90).
				withRounds(roundRange(rounds[key(cfgStickyguard, "sticky", c)], rounds[key(cfgFloor, "sticky", c)])))
		}
		if has("sticky") && c == 1 {
			out = append(out, atMost("e2e sticky c=1: stickyguard p50 - floor p50 (ms) <= +0.3", ms(sg.Pct(50))-ms(fl.Pct(50)), 0.3))
		}
		if has("plain") {
			out = append(out, atLeast(fmt.Sprintf("e2e plain c=%d: stickyguard throughput >= 0.95 x none", c),
				merged[key(cfgStickyguard, "plain", c)].Throughput()/base.Throughput(), 0.95).
				withRounds(roundRange(rounds[key(cfgStickyguard, "plain", c)], rounds[key(cfgNone, "plain", c)])))
		}
		out = append(out, atMost(fmt.Sprintf("e2e c=%d: errors (all configurations and classes)", c), float64(e2eErrors(merged, c)), 0))
	}
	return out
}

func e2eErrors(merged map[string]*Result, c int) int {
	n := 0
	for k, r := range merged {
		if strings.HasSuffix(k, fmt.Sprintf("/%d", c)) {
			n += r.Errors
		}
	}
	return n
}

// createLoad creates objects of a class with dryRun=All.
func (h *Harness) createLoad(ctx context.Context, class string, l Limits) (res *Result) {
	mk := e2eClasses[class]
	dry := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldManager: "stickyguard-load"}
	before := h.warnings.n.Load()
	defer func() { res.Warnings = h.warnings.n.Load() - before }()
	return run(ctx, l, func(ctx context.Context, w, i int) error {
		var err error
		switch obj := mk(w, i).(type) {
		case *corev1.Service:
			_, err = h.Client.CoreV1().Services(e2eNamespace).Create(ctx, obj, dry)
		case *appsv1.Deployment:
			_, err = h.Client.AppsV1().Deployments(e2eNamespace).Create(ctx, obj, dry)
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
