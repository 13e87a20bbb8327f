package main

import (
	"fmt"
	"slices"
	"strings"
)

// E2EAttribution is one class under one configuration, every concurrency
// pooled: the API server's admission cost per object.
type E2EAttribution struct {
	Class  string `json:"class"`
	Config string `json:"config"`
	AdmissionCost
	// AdmissionByClients is the admission phases' time per object (µs) at
	// each concurrency (the CPU the clients share stretches it).
	AdmissionByClients []ClientsMicros `json:"admission_us_per_object_by_clients"`
}

// ClientsMicros is a time per object at one concurrency.
type ClientsMicros struct {
	Clients int     `json:"clients"`
	Micros  float64 `json:"us"`
}

// attribution pools each class and configuration over the concurrencies.
func attribution(o *Options, runs []E2ERun, configs map[string]*admission) []E2EAttribution {
	var out []E2EAttribution
	for _, class := range o.E2EClasses {
		for _, name := range o.E2EConfigs {
			pooled, objects := newSample(), 0
			var byClients []ClientsMicros
			for _, r := range runs {
				if r.Class != class || r.Config != name {
					continue
				}
				pooled.add(r.delta, 1)
				objects += r.result.Requests
				byClients = append(byClients, ClientsMicros{Clients: r.Concurrency, Micros: r.APIServer.AdmissionMicros})
			}
			cost := admissionCost(pooled, objects, configs[name].entries(), configs[name].conditioned())
			out = append(out, E2EAttribution{Class: class, Config: name, AdmissionCost: *cost, AdmissionByClients: byClients})
		}
	}
	return out
}

// attributionTargets: plain objects reach none of stickyguard's webhooks,
// read from the API server's metrics (issue 16).
func attributionTargets(attr []E2EAttribution) []Check {
	var out []Check
	for _, a := range attr {
		if a.Config == cfgStickyguard && e2eClasses[a.Class].plain {
			out = append(out, atMost(fmt.Sprintf("e2e %s: stickyguard webhook calls per object (API server metrics)", a.Class), a.WebhookCalls, 0))
		}
	}
	return out
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

// e2eTargets are issue 5's end-to-end targets for the concurrencies and
// classes run, issue 13's for routes (the same as for Services) and issue
// 16's plain-object target against floor-filtered.
func e2eTargets(o *Options, merged map[string]*Result, rounds map[string][]*Result, key func(string, string, int) string) []Check {
	var out []Check
	filtered := slices.Contains(o.E2EConfigs, cfgFloorFiltered)
	for _, c := range o.E2EConcurrency {
		for _, class := range o.E2EClasses {
			cl := e2eClasses[class]
			r := func(cfg string) *Result { return merged[key(cfg, class, c)] }
			rr := func(a, b string) [2]float64 { return roundRange(rounds[key(a, class, c)], rounds[key(b, class, c)]) }
			if cl.sticky && c == 1 {
				out = append(out, atMost(fmt.Sprintf("e2e %s c=1: stickyguard p50 - floor p50 (ms) <= +0.3", class),
					ms(r(cfgStickyguard).Pct(50))-ms(r(cfgFloor).Pct(50)), 0.3))
			}
			if cl.sticky && (c == 8 || c == 32) {
				out = append(out, atLeast(fmt.Sprintf("e2e %s c=%d: stickyguard throughput >= 0.90 x floor", class, c),
					r(cfgStickyguard).Throughput()/r(cfgFloor).Throughput(), 0.90).withRounds(rr(cfgStickyguard, cfgFloor)))
			}
			if !cl.plain {
				continue
			}
			none := r(cfgNone).Throughput()
			out = append(out, atLeast(fmt.Sprintf("e2e %s c=%d: stickyguard throughput >= 0.95 x none", class, c),
				r(cfgStickyguard).Throughput()/none, 0.95).withRounds(rr(cfgStickyguard, cfgNone)))
			if filtered && (c == 1 || c == 8) {
				out = append(out, atLeast(fmt.Sprintf("e2e %s c=%d: stickyguard x none - floor-filtered x none >= -0.03", class, c),
					(r(cfgStickyguard).Throughput()-r(cfgFloorFiltered).Throughput())/none, -0.03))
			}
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
