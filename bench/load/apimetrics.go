package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/client-go/rest"
)

// The end-to-end mode attributes each run's cost with kube-apiserver's own
// admission metrics (k8s.io/apiserver pkg/admission/metrics, v1.37): its
// /metrics is read before and after every run and the two are subtracted.
// Only CREATE is read: the load only creates, and the API server's own
// writes during a run (its lease, every 10 s) are UPDATEs.
const (
	// Counter by webhook name, type (admit, validating), operation, code, rejected.
	mWebhookRequests = "apiserver_admission_webhook_request_total"
	// Histogram by webhook name, type, operation, rejected: the call.
	mWebhookSeconds = "apiserver_admission_webhook_admission_duration_seconds"
	// Counter by webhook (or policy) name, kind, type, operation: the
	// webhook was not called because a matchCondition was false.
	mConditionExclusions = "apiserver_admission_match_condition_exclusions_total"
	mConditionErrors     = "apiserver_admission_match_condition_evaluation_errors_total"
	// Histogram by name, kind, type, operation. The API server times an
	// evaluation only when it excludes the webhook or fails: one whose
	// conditions all pass is followed by a call and is not timed.
	mConditionSeconds = "apiserver_admission_match_condition_evaluation_seconds"
	// Histogram by type (admit, validate), operation, rejected: the whole
	// mutating or validating admission phase of a request.
	mStepSeconds = "apiserver_admission_step_admission_duration_seconds"
	// Histogram by admission plugin name, type, operation, rejected.
	mControllerSeconds = "apiserver_admission_controller_admission_duration_seconds"
)

// The admission plugins that run webhooks and admission policies.
var (
	webhookPlugins = []string{"MutatingAdmissionWebhook", "ValidatingAdmissionWebhook"}
	policyPlugins  = []string{"MutatingAdmissionPolicy", "ValidatingAdmissionPolicy"}
)

// hookKey names one webhook (or policy) and its type: "admit" for
// mutating, "validating" for validating webhooks (the API server's labels).
type hookKey struct{ Name, Type string }

// sumCount is a histogram's sum (seconds) and count.
type sumCount struct{ Sum, Count float64 }

func (s sumCount) add(o sumCount, sign float64) sumCount {
	return sumCount{s.Sum + sign*o.Sum, s.Count + sign*o.Count}
}

// hookFigures is what one webhook entry cost over a run.
type hookFigures struct {
	Calls      float64  // webhook_request_total
	Call       sumCount // webhook_admission_duration_seconds
	Excluded   float64  // match_condition_exclusions_total
	Errors     float64  // match_condition_evaluation_errors_total
	Conditions sumCount // match_condition_evaluation_seconds (excluding or failed evaluations)
}

func (f hookFigures) add(o hookFigures, sign float64) hookFigures {
	return hookFigures{
		Calls: f.Calls + sign*o.Calls, Call: f.Call.add(o.Call, sign),
		Excluded: f.Excluded + sign*o.Excluded, Errors: f.Errors + sign*o.Errors,
		Conditions: f.Conditions.add(o.Conditions, sign),
	}
}

// admissionSample is one reading of the API server's admission metrics
// (CREATE only), or the difference of two.
type admissionSample struct {
	Hooks       map[hookKey]hookFigures
	Steps       map[string]sumCount  // by step type: admit, validate
	Controllers map[hookKey]sumCount // by plugin name and type
}

func newSample() *admissionSample {
	return &admissionSample{Hooks: map[hookKey]hookFigures{}, Steps: map[string]sumCount{}, Controllers: map[hookKey]sumCount{}}
}

// add adds sign × o to s (sign -1 subtracts).
func (s *admissionSample) add(o *admissionSample, sign float64) {
	for k, v := range o.Hooks {
		s.Hooks[k] = s.Hooks[k].add(v, sign)
	}
	for k, v := range o.Steps {
		s.Steps[k] = s.Steps[k].add(v, sign)
	}
	for k, v := range o.Controllers {
		s.Controllers[k] = s.Controllers[k].add(v, sign)
	}
}

// sub is after minus before.
func sub(after, before *admissionSample) *admissionSample {
	d := newSample()
	d.add(after, 1)
	d.add(before, -1)
	return d
}

// parseAdmissionMetrics reads the admission families of a text exposition
// (other lines are dropped before parsing: /metrics of a kube-apiserver is
// megabytes, the admission families a few hundred lines).
func parseAdmissionMetrics(r io.Reader) (*admissionSample, error) {
	var kept bytes.Buffer
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		name := line
		if bytes.HasPrefix(line, []byte("# HELP ")) || bytes.HasPrefix(line, []byte("# TYPE ")) {
			name = line[len("# HELP "):]
		}
		if bytes.HasPrefix(name, []byte("apiserver_admission_")) {
			kept.Write(line)
			kept.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(&kept)
	if err != nil {
		return nil, err
	}
	s := newSample()
	for name, fam := range families {
		for _, m := range fam.GetMetric() {
			lbl := map[string]string{}
			for _, l := range m.GetLabel() {
				lbl[l.GetName()] = l.GetValue()
			}
			if lbl["operation"] != "CREATE" {
				continue
			}
			hist := func() sumCount {
				h := m.GetHistogram()
				return sumCount{h.GetSampleSum(), float64(h.GetSampleCount())}
			}
			// Validating webhooks are "validating" in every family but the
			// exclusions, which use the accessor's "validate".
			typ := lbl["type"]
			if typ == "validate" && name != mStepSeconds && name != mControllerSeconds {
				typ = "validating"
			}
			key := hookKey{lbl["name"], typ}
			f := s.Hooks[key]
			switch name {
			case mWebhookRequests:
				f.Calls += m.GetCounter().GetValue()
			case mWebhookSeconds:
				f.Call = f.Call.add(hist(), 1)
			case mConditionExclusions:
				f.Excluded += m.GetCounter().GetValue()
			case mConditionErrors:
				f.Errors += m.GetCounter().GetValue()
			case mConditionSeconds:
				f.Conditions = f.Conditions.add(hist(), 1)
			case mStepSeconds:
				s.Steps[lbl["type"]] = s.Steps[lbl["type"]].add(hist(), 1)
				continue
			case mControllerSeconds:
				s.Controllers[key] = s.Controllers[key].add(hist(), 1)
				continue
			default:
				continue
			}
			s.Hooks[key] = f
		}
	}
	return s, nil
}

// metricsScraper reads the API server's /metrics in the text format,
// uncompressed (the scrape is outside the measured window, but gzip would
// still cost the API server CPU for nothing).
type metricsScraper struct {
	client *http.Client
	url    string
}

func newMetricsScraper(cfg *rest.Config) (*metricsScraper, error) {
	c, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	return &metricsScraper{client: c, url: strings.TrimSuffix(cfg.Host, "/") + "/metrics"}, nil
}

func (m *metricsScraper) scrape(ctx context.Context) (*admissionSample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := m.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scraping the API server's /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scraping the API server's /metrics: %s", resp.Status)
	}
	return parseAdmissionMetrics(resp.Body)
}

// AdmissionCost is what the API server's metrics say the objects of one
// run (or several merged) cost in admission, per object.
type AdmissionCost struct {
	Objects int `json:"objects"`
	// Entries is how many webhook entries the configuration has: the API
	// server matches every object against each entry's namespace selector
	// and rules (no metric counts this).
	Entries int `json:"webhook_entries"`
	// WebhookCalls is calls to any webhook per object.
	WebhookCalls float64 `json:"webhook_calls_per_object"`
	// WebhookMicros is the time of those calls per object (µs).
	WebhookMicros float64 `json:"webhook_us_per_object"`
	// ConditionEvaluations is matchCondition evaluations per object: those
	// that excluded the webhook (or failed) plus the calls to webhooks that
	// have matchConditions (their conditions passed).
	ConditionEvaluations float64 `json:"match_condition_evaluations_per_object"`
	// ConditionExclusions is evaluations that kept the object from a webhook.
	ConditionExclusions float64 `json:"match_condition_exclusions_per_object"`
	// ConditionMicros is the time of the timed evaluations per object (µs):
	// the API server times those that exclude or fail, not those that pass.
	ConditionMicros float64 `json:"match_condition_us_per_object"`
	ConditionErrors float64 `json:"match_condition_errors_per_object"`
	// AdmissionMicros is the mutating plus the validating admission phase
	// per object (µs), everything admission does.
	AdmissionMicros float64 `json:"admission_us_per_object"`
	// WebhookPluginMicros is the MutatingAdmissionWebhook and
	// ValidatingAdmissionWebhook plugins per object (µs): selectors,
	// conditions, calls; PolicyPluginMicros the admission policy plugins.
	WebhookPluginMicros float64 `json:"webhook_plugins_us_per_object"`
	PolicyPluginMicros  float64 `json:"policy_plugins_us_per_object"`
	// MatchingMicros is the webhook plugins' time besides the calls and
	// the timed conditions (µs per object): every entry's namespace
	// selector and rules, the object's conversion for the conditions, and
	// the conditions that passed (which the API server does not time).
	MatchingMicros float64 `json:"webhook_matching_us_per_object"`
	// Hooks is the same per webhook entry that was called or evaluated.
	Hooks []HookCost `json:"webhooks,omitempty"`
	// Plugins is each admission plugin's time per object (µs, both
	// phases), the slowest first.
	Plugins []PluginCost `json:"plugins,omitempty"`
}

// PluginCost is one admission plugin's time per object.
type PluginCost struct {
	Name   string  `json:"name"`
	Micros float64 `json:"us_per_object"`
}

// HookCost is one webhook entry's share, per object.
type HookCost struct {
	Name                 string  `json:"name"`
	Type                 string  `json:"type"`
	Calls                float64 `json:"calls_per_object"`
	CallMicros           float64 `json:"call_us_per_object"`
	ConditionEvaluations float64 `json:"match_condition_evaluations_per_object"`
	ConditionExclusions  float64 `json:"match_condition_exclusions_per_object"`
	ConditionMicros      float64 `json:"match_condition_us_per_object"`
}

// admissionCost divides a run's metric differences by its objects.
// conditioned are the configuration's entries that have matchConditions.
func admissionCost(d *admissionSample, objects, entries int, conditioned map[hookKey]bool) *AdmissionCost {
	c := &AdmissionCost{Objects: objects, Entries: entries}
	if objects == 0 {
		return c
	}
	n := float64(objects)
	us := func(seconds float64) float64 { return seconds * 1e6 / n }
	keys := make([]hookKey, 0, len(d.Hooks))
	for k := range d.Hooks {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Type != keys[j].Type {
			return keys[i].Type < keys[j].Type
		}
		return keys[i].Name < keys[j].Name
	})
	for _, k := range keys {
		f := d.Hooks[k]
		evals := f.Conditions.Count
		if conditioned[k] {
			evals += f.Calls
		}
		if f.Calls == 0 && evals == 0 && f.Excluded == 0 && f.Errors == 0 {
			continue
		}
		c.WebhookCalls += f.Calls / n
		c.WebhookMicros += us(f.Call.Sum)
		c.ConditionEvaluations += evals / n
		c.ConditionExclusions += f.Excluded / n
		c.ConditionMicros += us(f.Conditions.Sum)
		c.ConditionErrors += f.Errors / n
		c.Hooks = append(c.Hooks, HookCost{Name: k.Name, Type: k.Type, Calls: f.Calls / n, CallMicros: us(f.Call.Sum),
			ConditionEvaluations: evals / n, ConditionExclusions: f.Excluded / n, ConditionMicros: us(f.Conditions.Sum)})
	}
	for _, s := range d.Steps {
		c.AdmissionMicros += us(s.Sum)
	}
	plugins := map[string]float64{}
	for k, s := range d.Controllers {
		plugins[k.Name] += us(s.Sum)
		switch {
		case slices.Contains(webhookPlugins, k.Name):
			c.WebhookPluginMicros += us(s.Sum)
		case slices.Contains(policyPlugins, k.Name):
			c.PolicyPluginMicros += us(s.Sum)
		}
	}
	c.MatchingMicros = c.WebhookPluginMicros - c.WebhookMicros - c.ConditionMicros
	for name, v := range plugins {
		c.Plugins = append(c.Plugins, PluginCost{Name: name, Micros: v})
	}
	sort.Slice(c.Plugins, func(i, j int) bool {
		if c.Plugins[i].Micros != c.Plugins[j].Micros {
			return c.Plugins[i].Micros > c.Plugins[j].Micros
		}
		return c.Plugins[i].Name < c.Plugins[j].Name
	})
	return c
}
