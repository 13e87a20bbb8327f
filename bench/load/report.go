package main

import (
	"fmt"
	"io"
	"strings"
)

// Check is one target of issue 5, with the measured value.
type Check struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Op    string  `json:"op"`
	Limit float64 `json:"limit"`
	Met   bool    `json:"met"`
	// Rounds is the lowest and highest value of a single round, when the
	// value is a ratio of interleaved configurations (zero otherwise).
	Rounds [2]float64 `json:"round_range,omitempty"`
}

// withRounds adds the per-round range to a check.
func (c Check) withRounds(r [2]float64) Check {
	c.Rounds = r
	return c
}

func (c Check) measured() string {
	if c.Rounds == [2]float64{} {
		return fmt.Sprintf("%.3f", c.Value)
	}
	return fmt.Sprintf("%.3f (rounds %.2f–%.2f)", c.Value, c.Rounds[0], c.Rounds[1])
}

func atLeast(name string, v, limit float64) Check {
	return Check{Name: name, Value: v, Op: ">=", Limit: limit, Met: v >= limit}
}

func atMost(name string, v, limit float64) Check {
	return Check{Name: name, Value: v, Op: "<=", Limit: limit, Met: v <= limit}
}

func (c Check) String() string {
	status := "MET   "
	if !c.Met {
		status = "MISSED"
	}
	return fmt.Sprintf("%s %s: %s (target %s %.3f)", status, c.Name, c.measured(), c.Op, c.Limit)
}

func allChecks(r *Report) []Check {
	var out []Check
	if r.Direct != nil {
		out = append(out, r.Direct.Targets...)
	}
	if r.E2E != nil {
		out = append(out, r.E2E.Targets...)
	}
	if r.Scale != nil {
		out = append(out, r.Scale.Targets...)
	}
	return out
}

// printText writes the plain-text report.
func printText(w io.Writer, r *Report) {
	if d := r.Direct; d != nil {
		fmt.Fprintln(w, "== direct: AdmissionReview POSTs over TLS (mix of", len(d.Mix), "requests)")
		for _, run := range d.Runs {
			fmt.Fprintf(w, "  %-12s c=%-3d %s  cpu/review: server %.0f us, client %.0f us\n", run.Target, run.Concurrency, run.result, run.ServerCPU, run.ClientCPU)
		}
	}
	if e := r.E2E; e != nil {
		fmt.Fprintln(w, "== e2e: dryRun=All creates through kube-apiserver")
		for _, run := range e.Runs {
			fmt.Fprintf(w, "  %-16s %-12s c=%-3d %s\n", run.Class, run.Config, run.Concurrency, run.result)
		}
		for _, q := range e.Ratios {
			fmt.Fprintf(w, "  %-16s %-12s c=%-3d throughput x%.2f vs none (rounds %.2f-%.2f), x%.2f vs floor (rounds %.2f-%.2f); p50 %+.3f ms vs none\n",
				q.Class, q.Config, q.Concurrency, q.VsBaseline, q.VsBaselineRange[0], q.VsBaselineRange[1],
				q.VsFloor, q.VsFloorRange[0], q.VsFloorRange[1], q.AddedP50)
		}
		printAttributionText(w, e.Attribution)
	}
	if s := r.Scale; s != nil {
		fmt.Fprintf(w, "== scale: %d Services, %d Deployments, %d Ingresses (created in %.1f s, %.0f/s)\n",
			s.Services, s.Deployments, s.Ingresses, s.LoadSeconds, s.CreatesPerSecond)
		for _, p := range s.Phases {
			fmt.Fprintf(w, "  %-22s RSS %6.1f MiB (peak %6.1f MiB)\n", p.Name, float64(p.RSSKiB)/1024, float64(p.HWMKiB)/1024)
			for _, run := range p.Runs {
				fmt.Fprintf(w, "    %-10s review c=%-3d %s\n", run.Review, run.Concurrency, run.result)
			}
		}
	}
	if cs := allChecks(r); len(cs) > 0 {
		fmt.Fprintln(w, "== targets")
		for _, c := range cs {
			fmt.Fprintln(w, "  "+c.String())
		}
	}
}

// printMarkdown writes the tables bench/RESULTS.md embeds.
func printMarkdown(w io.Writer, r *Report) {
	row := func(cells ...string) { fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |") }
	f1 := func(v float64) string { return fmt.Sprintf("%.1f", v) }
	f3 := func(v float64) string { return fmt.Sprintf("%.3f", v) }
	if d := r.Direct; d != nil {
		fmt.Fprintln(w, "### direct")
		fmt.Fprintln(w)
		fmt.Fprintf(w, "AdmissionReview POSTs over TLS, keep-alive connections, the mix: %s.\n\n", strings.Join(d.Mix, ", "))
		row("target", "concurrency", "requests", "errors", "reviews/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "server CPU µs/review", "client CPU µs/review")
		row("---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:")
		for _, run := range d.Runs {
			s := run.Summary
			row(run.Target, fmt.Sprint(run.Concurrency), fmt.Sprint(s.Requests), fmt.Sprint(s.Errors), f1(s.Throughput), f3(s.P50), f3(s.P95), f3(s.P99), f3(s.Max),
				fmt.Sprintf("%.0f", run.ServerCPU), fmt.Sprintf("%.0f", run.ClientCPU))
		}
		fmt.Fprintln(w)
	}
	if e := r.E2E; e != nil {
		fmt.Fprintln(w, "### end-to-end")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Creates with `dryRun=All` through kube-apiserver; each configuration measured in every round, rounds interleaved. "+
			"Ratios are of the pooled rounds, with the lowest and highest ratio of a single round in parentheses (the machine's noise).")
		fmt.Fprintln(w)
		row("objects", "configuration", "clients", "requests", "errors", "creates/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "x none", "x floor", "p50 vs none")
		row("---", "---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:")
		ratios := map[string]E2ERatio{}
		for _, q := range e.Ratios {
			ratios[q.Class+"/"+q.Config+"/"+fmt.Sprint(q.Concurrency)] = q
		}
		for _, run := range e.Runs {
			s := run.Summary
			q, ok := ratios[run.Class+"/"+run.Config+"/"+fmt.Sprint(run.Concurrency)]
			vsNone, vsFloor, added := "", "", ""
			if ok {
				vsNone = fmt.Sprintf("%.2f (%.2f–%.2f)", q.VsBaseline, q.VsBaselineRange[0], q.VsBaselineRange[1])
				vsFloor = fmt.Sprintf("%.2f (%.2f–%.2f)", q.VsFloor, q.VsFloorRange[0], q.VsFloorRange[1])
				added = fmt.Sprintf("%+.3f", q.AddedP50)
			}
			row(run.Class, run.Config, fmt.Sprint(run.Concurrency), fmt.Sprint(s.Requests), fmt.Sprint(s.Errors), f1(s.Throughput),
				f3(s.P50), f3(s.P95), f3(s.P99), f3(s.Max), vsNone, vsFloor, added)
		}
		fmt.Fprintln(w)
		printAttributionMarkdown(w, e.Attribution)
	}
	if s := r.Scale; s != nil {
		fmt.Fprintln(w, "### scale")
		fmt.Fprintln(w)
		fmt.Fprintf(w, "One namespace with %d Services, %d Deployments and %d Ingresses (Helm-style labels: every Service selector and pod template shares `app.kubernetes.io/instance: shop`), created through the API in %.1f s (%.0f objects/s). Reviews are direct (TLS POSTs) of a Deployment selected by a sticky Service (mutate and validate alternately) and of that Service.\n\n",
			s.Services, s.Deployments, s.Ingresses, s.LoadSeconds, s.CreatesPerSecond)
		row("phase", "serve RSS MiB", "peak RSS MiB", "review", "concurrency", "requests", "errors", "reviews/s", "p50 ms", "p99 ms", "max ms")
		row("---", "---:", "---:", "---", "---:", "---:", "---:", "---:", "---:", "---:", "---:")
		for _, p := range s.Phases {
			for i, run := range p.Runs {
				rss, hwm := "", ""
				if i == 0 {
					rss, hwm = f1(float64(p.RSSKiB)/1024), f1(float64(p.HWMKiB)/1024)
				}
				row(p.Name, rss, hwm, run.Review, fmt.Sprint(run.Concurrency), fmt.Sprint(run.Summary.Requests), fmt.Sprint(run.Summary.Errors),
					f1(run.Summary.Throughput), f3(run.Summary.P50), f3(run.Summary.P99), f3(run.Summary.Max))
			}
			if len(p.Runs) == 0 {
				row(p.Name, f1(float64(p.RSSKiB)/1024), f1(float64(p.HWMKiB)/1024), "", "", "", "", "", "", "", "")
			}
		}
		fmt.Fprintln(w)
	}
	if cs := allChecks(r); len(cs) > 0 {
		fmt.Fprintln(w, "### targets")
		fmt.Fprintln(w)
		row("target", "measured", "limit", "")
		row("---", "---:", "---:", "---")
		for _, c := range cs {
			st := "met"
			if !c.Met {
				st = "**missed**"
			}
			row(c.Name, c.measured(), c.Op+" "+fmt.Sprintf("%.2f", c.Limit), st)
		}
		fmt.Fprintln(w)
	}
}

// byClients renders admission times per object at each concurrency.
func byClients(cs []ClientsMicros, sep string) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%.0f", c.Micros)
	}
	return strings.Join(parts, sep)
}

func clientsHeader(attr []E2EAttribution) string {
	if len(attr) == 0 {
		return ""
	}
	parts := make([]string, len(attr[0].AdmissionByClients))
	for i, c := range attr[0].AdmissionByClients {
		parts[i] = fmt.Sprint(c.Clients)
	}
	return strings.Join(parts, " / ")
}

// printAttributionText writes the API server's admission cost per object.
func printAttributionText(w io.Writer, attr []E2EAttribution) {
	if len(attr) == 0 {
		return
	}
	fmt.Fprintln(w, "== e2e: admission cost per object, from kube-apiserver's /metrics (read around each run, CREATE)")
	fmt.Fprintf(w, "  %-16s %-14s %7s %7s %20s %9s %9s %9s %9s %9s  %s\n", "class", "configuration", "entries", "calls",
		"conditions (excl.)", "cond. us", "call us", "match us", "hooks us", "policy us", "admission us (clients "+clientsHeader(attr)+")")
	for _, a := range attr {
		fmt.Fprintf(w, "  %-16s %-14s %7d %7.3f %20s %9.1f %9.1f %9.1f %9.1f %9.1f  %s\n", a.Class, a.Config, a.Entries, a.WebhookCalls,
			fmt.Sprintf("%.3f (%.3f)", a.ConditionEvaluations, a.ConditionExclusions), a.ConditionMicros, a.WebhookMicros,
			a.MatchingMicros, a.WebhookPluginMicros, a.PolicyPluginMicros, byClients(a.AdmissionByClients, " / "))
		for _, hk := range a.Hooks {
			fmt.Fprintf(w, "      %-40s %-10s calls %.3f (%.1f us), conditions %.3f (excluded %.3f, %.1f us)\n",
				hk.Name, hk.Type, hk.Calls, hk.CallMicros, hk.ConditionEvaluations, hk.ConditionExclusions, hk.ConditionMicros)
		}
		var plugins []string
		for _, p := range a.Plugins {
			if p.Micros >= 1 {
				plugins = append(plugins, fmt.Sprintf("%s %.0f", p.Name, p.Micros))
			}
		}
		if len(plugins) > 0 {
			fmt.Fprintf(w, "      plugins (us): %s\n", strings.Join(plugins, ", "))
		}
	}
}

// printAttributionMarkdown writes the attribution table.
func printAttributionMarkdown(w io.Writer, attr []E2EAttribution) {
	if len(attr) == 0 {
		return
	}
	row := func(cells ...string) { fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |") }
	fmt.Fprintln(w, "#### admission cost per object (kube-apiserver's own metrics)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "The API server's `/metrics` read before and after every run (CREATE series), the differences summed over "+
		"rounds and concurrencies and divided by the objects created: *entries* is the webhook entries of the configuration "+
		"(each object is matched against every entry's namespace selector and rules; no metric counts that), *calls* "+
		"`apiserver_admission_webhook_request_total`, *conditions* the matchCondition evaluations (those that excluded the "+
		"webhook, `apiserver_admission_match_condition_exclusions_total`, in parentheses, plus the calls to webhooks that have "+
		"conditions), *condition µs* `apiserver_admission_match_condition_evaluation_seconds` (the API server times only "+
		"evaluations that exclude or fail), *call µs* `apiserver_admission_webhook_admission_duration_seconds`, *webhook "+
		"plugins µs* and *policy plugins µs* `apiserver_admission_controller_admission_duration_seconds` of the webhook and "+
		"admission policy plugins, *matching µs* the webhook plugins' time besides calls and timed conditions (every entry's namespace "+
		"selector and rules, the object's conversion for CEL, conditions that passed), *admission µs* "+
		"`apiserver_admission_step_admission_duration_seconds` (mutating plus validating phase) at each client count. "+
		"Times are wall time on the shared machine: compare rows, not runs.")
	fmt.Fprintln(w)
	row("objects", "configuration", "entries", "calls / object", "conditions / object (excluded)", "condition µs / object",
		"call µs / object", "matching µs / object", "webhook plugins µs / object", "policy plugins µs / object",
		"admission µs / object ("+clientsHeader(attr)+" clients)", "webhooks called (calls / object)")
	row("---", "---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---")
	for _, a := range attr {
		var called []string
		for _, hk := range a.Hooks {
			if hk.Calls > 0 {
				called = append(called, fmt.Sprintf("%s %.2f", hk.Name, hk.Calls))
			}
		}
		row(a.Class, a.Config, fmt.Sprint(a.Entries), fmt.Sprintf("%.3f", a.WebhookCalls),
			fmt.Sprintf("%.3f (%.3f)", a.ConditionEvaluations, a.ConditionExclusions), fmt.Sprintf("%.1f", a.ConditionMicros),
			fmt.Sprintf("%.1f", a.WebhookMicros), fmt.Sprintf("%.1f", a.MatchingMicros), fmt.Sprintf("%.1f", a.WebhookPluginMicros),
			fmt.Sprintf("%.1f", a.PolicyPluginMicros),
			byClients(a.AdmissionByClients, " / "), strings.Join(called, ", "))
	}
	fmt.Fprintln(w)
}
