package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/yaml"

	"github.com/stickyguard/stickyguard/internal/sticky"
)

// TestMain lets the test binary serve as the floor webhook, as the tool's
// binary does (the harness runs os.Executable with SGLOAD_ROLE=floor).
func TestMain(m *testing.M) {
	if isFloor() {
		os.Exit(runFloor())
	}
	ctrllog.SetLogger(logr.Discard()) // as Main does (envtest logs the CRDs it installs)
	os.Exit(m.Run())
}

// smokeOptions runs every mode for a moment: the load tool must keep
// working, not measure anything here. Missing control-plane binaries fail
// the test (make test builds them first).
func smokeOptions(t *testing.T) *Options {
	t.Helper()
	root := repoRoot()
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join(root, "bin", "k8s")
	}
	for _, b := range []string{"kube-apiserver", "etcd"} {
		_, err := os.Stat(filepath.Join(assets, b))
		require.NoError(t, err, "%s is missing: run make tools", b)
	}
	bin := filepath.Join(t.TempDir(), "stickyguard")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/stickyguard/stickyguard/cmd/stickyguard").CombinedOutput()
	require.NoError(t, err, "building stickyguard: %s", out)
	return &Options{
		Stickyguard:       bin,
		Assets:            assets,
		Timeout:           90 * time.Second,
		Duration:          400 * time.Millisecond,
		Rounds:            1,
		MaxRequests:       20000,
		DirectConcurrency: []int{4},
		E2EConcurrency:    []int{2},
		E2EClasses:        []string{"sticky", "plain", "plain-route", "sticky-route"},
		E2EConfigs:        e2eConfigs,
		ScaleServices:     60,
		ScaleDeployments:  30,
		ScaleIngresses:    12,
		ScaleConcurrency:  []int{2},
		CreateWorkers:     8,
	}
}

func TestSmokeEveryMode(t *testing.T) {
	o := smokeOptions(t)
	o.Modes = []string{"direct", "e2e", "scale"}
	ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
	defer cancel()
	start := time.Now()
	rep, err := Run(ctx, o)
	require.NoError(t, err)
	t.Logf("all modes in %s", time.Since(start).Round(time.Millisecond))

	require.NotNil(t, rep.Direct)
	require.Len(t, rep.Direct.Runs, 2, "floor and stickyguard")
	for _, r := range rep.Direct.Runs {
		assert.Positive(t, r.Summary.Requests, r.Target)
		assert.Zero(t, r.Summary.Errors, "%s: every answer well formed and as expected", r.Target)
	}
	assert.NotEmpty(t, rep.Direct.Targets)

	require.NotNil(t, rep.E2E)
	assert.Len(t, rep.E2E.Runs, len(e2eConfigs)*len(o.E2EClasses), "every configuration and class")
	for _, r := range rep.E2E.Runs {
		assert.Positive(t, r.Summary.Requests, "%s %s", r.Config, r.Class)
		assert.Zero(t, r.Summary.Errors, "%s %s", r.Config, r.Class)
		require.NotNil(t, r.APIServer, "%s %s", r.Config, r.Class)
		assert.Equal(t, r.Summary.Requests, r.APIServer.Objects, "%s %s", r.Config, r.Class)
	}
	assertAttribution(t, rep.E2E.Attribution)

	require.NotNil(t, rep.Scale)
	require.Len(t, rep.Scale.Phases, 3)
	for _, p := range rep.Scale.Phases {
		assert.Positive(t, p.RSSKiB, p.Name)
		for _, r := range p.Runs {
			assert.Positive(t, r.Summary.Requests, "%s %s", p.Name, r.Review)
			assert.Zero(t, r.Summary.Errors, "%s %s", p.Name, r.Review)
		}
	}

	// The report renders.
	var text, md nopWriter
	printText(&text, rep)
	printMarkdown(&md, rep)
	assert.Positive(t, int(text), "text report")
	assert.Positive(t, int(md), "markdown report")
}

// assertAttribution checks the webhook calls the API server counted, per
// object, against what each configuration registers. Plain Services reach
// none of stickyguard's webhooks: the guard of issue 16, read from the API
// server's metrics. Routes are held to what the shipped configurations
// say (each enforce entry for HTTPRoutes is called for a sticky route; for
// a plain one only those without matchConditions). The floor's exact
// counts show the metrics are read and divided right.
func assertAttribution(t *testing.T, attr []E2EAttribution) {
	t.Helper()
	got := map[string]E2EAttribution{}
	for _, a := range attr {
		got[a.Config+"/"+a.Class] = a
	}
	filtered, unfiltered := shippedEnforceEntries(t, "httproutes")
	for _, tc := range []struct {
		config, class string
		min, max      float64 // webhook calls per object
		excluded      bool    // a matchCondition kept some objects from a webhook
	}{
		{cfgNone, "plain", 0, 0, false},
		{cfgVAP, "sticky", 0, 0, false},
		{cfgStickyguard, "plain", 0, 0, true},
		{cfgStickyguard, "sticky", 1, 2, false},
		{cfgStickyguard, "plain-route", float64(unfiltered), float64(unfiltered), filtered > 0},
		{cfgStickyguard, "sticky-route", float64(filtered + unfiltered), float64(filtered + unfiltered), false},
		// The floor: mutating and validating for Services, validating
		// only for routes; floor-filtered: nothing but the probe.
		{cfgFloor, "plain", 2, 2, false},
		{cfgFloor, "sticky", 2, 2, false},
		{cfgFloor, "plain-route", 1, 1, false},
		{cfgFloor, "sticky-route", 1, 1, false},
		{cfgFloorFiltered, "plain", 0, 0, true},
		{cfgFloorFiltered, "sticky-route", 0, 0, true},
	} {
		a, ok := got[tc.config+"/"+tc.class]
		if !assert.True(t, ok, "%s %s: no attribution", tc.config, tc.class) {
			continue
		}
		assert.Positive(t, a.Objects, "%s %s", tc.config, tc.class)
		assert.GreaterOrEqual(t, a.WebhookCalls, tc.min-1e-9, "%s %s: webhook calls per object", tc.config, tc.class)
		assert.LessOrEqual(t, a.WebhookCalls, tc.max+1e-9, "%s %s: webhook calls per object", tc.config, tc.class)
		if tc.excluded {
			assert.Positive(t, a.ConditionExclusions, "%s %s: matchCondition exclusions", tc.config, tc.class)
		}
		assert.Positive(t, a.AdmissionMicros, "%s %s: admission time", tc.config, tc.class)
	}
}

// shippedEnforceEntries counts the shipped webhook entries that review the
// resource in enforce namespaces, with and without matchConditions.
func shippedEnforceEntries(t *testing.T, resource string) (filtered, unfiltered int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "manifests", "base", "webhook-configurations.yaml"))
	require.NoError(t, err)
	count := func(rules []admissionregistrationv1.RuleWithOperations, ns *metav1.LabelSelector, conditions int) {
		enforce := ns == nil // no selector: every namespace
		if ns != nil {
			for _, e := range ns.MatchExpressions {
				enforce = enforce || (e.Key == sticky.LabelMode && e.Operator == metav1.LabelSelectorOpIn && slices.Contains(e.Values, "enforce"))
			}
		}
		for _, r := range rules {
			if enforce && slices.Contains(r.Resources, resource) {
				if conditions > 0 {
					filtered++
				} else {
					unfiltered++
				}
				return
			}
		}
	}
	for _, doc := range strings.Split(string(b), "\n---") {
		var m admissionregistrationv1.MutatingWebhookConfiguration
		if yaml.Unmarshal([]byte(doc), &m) == nil && m.Kind == "MutatingWebhookConfiguration" {
			for _, w := range m.Webhooks {
				count(w.Rules, w.NamespaceSelector, len(w.MatchConditions))
			}
		}
		var v admissionregistrationv1.ValidatingWebhookConfiguration
		if yaml.Unmarshal([]byte(doc), &v) == nil && v.Kind == "ValidatingWebhookConfiguration" {
			for _, w := range v.Webhooks {
				count(w.Rules, w.NamespaceSelector, len(w.MatchConditions))
			}
		}
	}
	return filtered, unfiltered
}

func TestParseAdmissionMetrics(t *testing.T) {
	const before = `# HELP apiserver_admission_webhook_request_total Admission webhook request total.
# TYPE apiserver_admission_webhook_request_total counter
apiserver_admission_webhook_request_total{code="200",name="a.example.io",operation="CREATE",rejected="false",type="admit"} 10
apiserver_admission_webhook_request_total{code="200",name="a.example.io",operation="UPDATE",rejected="false",type="admit"} 7
# TYPE apiserver_admission_match_condition_exclusions_total counter
apiserver_admission_match_condition_exclusions_total{kind="webhook",name="v.example.io",operation="CREATE",type="validate"} 3
# TYPE apiserver_request_total counter
apiserver_request_total{code="201",verb="POST"} 99
`
	const after = `# TYPE apiserver_admission_webhook_request_total counter
apiserver_admission_webhook_request_total{code="200",name="a.example.io",operation="CREATE",rejected="false",type="admit"} 14
apiserver_admission_webhook_request_total{code="500",name="a.example.io",operation="CREATE",rejected="false",type="admit"} 2
apiserver_admission_webhook_request_total{code="200",name="a.example.io",operation="UPDATE",rejected="false",type="admit"} 50
# TYPE apiserver_admission_webhook_admission_duration_seconds histogram
apiserver_admission_webhook_admission_duration_seconds_bucket{name="a.example.io",operation="CREATE",rejected="false",type="admit",le="+Inf"} 6
apiserver_admission_webhook_admission_duration_seconds_sum{name="a.example.io",operation="CREATE",rejected="false",type="admit"} 0.006
apiserver_admission_webhook_admission_duration_seconds_count{name="a.example.io",operation="CREATE",rejected="false",type="admit"} 6
# TYPE apiserver_admission_match_condition_exclusions_total counter
apiserver_admission_match_condition_exclusions_total{kind="webhook",name="v.example.io",operation="CREATE",type="validate"} 7
# TYPE apiserver_admission_match_condition_evaluation_seconds histogram
apiserver_admission_match_condition_evaluation_seconds_bucket{kind="webhook",name="v.example.io",operation="CREATE",type="validating",le="+Inf"} 4
apiserver_admission_match_condition_evaluation_seconds_sum{kind="webhook",name="v.example.io",operation="CREATE",type="validating"} 0.0002
apiserver_admission_match_condition_evaluation_seconds_count{kind="webhook",name="v.example.io",operation="CREATE",type="validating"} 4
# TYPE apiserver_admission_step_admission_duration_seconds histogram
apiserver_admission_step_admission_duration_seconds_bucket{operation="CREATE",rejected="false",type="admit",le="+Inf"} 8
apiserver_admission_step_admission_duration_seconds_sum{operation="CREATE",rejected="false",type="admit"} 0.008
apiserver_admission_step_admission_duration_seconds_count{operation="CREATE",rejected="false",type="admit"} 8
apiserver_admission_step_admission_duration_seconds_bucket{operation="CREATE",rejected="false",type="validate",le="+Inf"} 8
apiserver_admission_step_admission_duration_seconds_sum{operation="CREATE",rejected="false",type="validate"} 0.004
apiserver_admission_step_admission_duration_seconds_count{operation="CREATE",rejected="false",type="validate"} 8
# TYPE apiserver_admission_controller_admission_duration_seconds histogram
apiserver_admission_controller_admission_duration_seconds_bucket{name="MutatingAdmissionWebhook",operation="CREATE",rejected="false",type="admit",le="+Inf"} 4
apiserver_admission_controller_admission_duration_seconds_sum{name="MutatingAdmissionWebhook",operation="CREATE",rejected="false",type="admit"} 0.0072
apiserver_admission_controller_admission_duration_seconds_count{name="MutatingAdmissionWebhook",operation="CREATE",rejected="false",type="admit"} 4
apiserver_admission_controller_admission_duration_seconds_bucket{name="ValidatingAdmissionWebhook",operation="CREATE",rejected="false",type="validate",le="+Inf"} 4
apiserver_admission_controller_admission_duration_seconds_sum{name="ValidatingAdmissionWebhook",operation="CREATE",rejected="false",type="validate"} 0.0004
apiserver_admission_controller_admission_duration_seconds_count{name="ValidatingAdmissionWebhook",operation="CREATE",rejected="false",type="validate"} 4
apiserver_admission_controller_admission_duration_seconds_bucket{name="ValidatingAdmissionPolicy",operation="CREATE",rejected="false",type="validate",le="+Inf"} 4
apiserver_admission_controller_admission_duration_seconds_sum{name="ValidatingAdmissionPolicy",operation="CREATE",rejected="false",type="validate"} 0.0001
apiserver_admission_controller_admission_duration_seconds_count{name="ValidatingAdmissionPolicy",operation="CREATE",rejected="false",type="validate"} 4
`
	b, err := parseAdmissionMetrics(strings.NewReader(before))
	require.NoError(t, err)
	a, err := parseAdmissionMetrics(strings.NewReader(after))
	require.NoError(t, err)
	mutating, validating := hookKey{"a.example.io", "admit"}, hookKey{"v.example.io", "validating"}
	// The validating webhook's exclusions ("validate") and timed
	// evaluations ("validating") land on one key.
	conditioned := map[hookKey]bool{validating: true}
	c := admissionCost(sub(a, b), 4, 3, conditioned)

	const eps = 1e-9
	assert.Equal(t, 4, c.Objects)
	assert.Equal(t, 3, c.Entries)
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		{"webhook calls (CREATE only, every code)", c.WebhookCalls, 6.0 / 4},
		{"call µs", c.WebhookMicros, 6000.0 / 4},
		{"condition exclusions", c.ConditionExclusions, 4.0 / 4},
		{"condition evaluations (timed, plus calls of conditioned entries: none)", c.ConditionEvaluations, 4.0 / 4},
		{"condition µs", c.ConditionMicros, 200.0 / 4},
		{"admission µs (both phases)", c.AdmissionMicros, 12000.0 / 4},
		{"webhook plugins µs", c.WebhookPluginMicros, 7600.0 / 4},
		{"policy plugins µs", c.PolicyPluginMicros, 100.0 / 4},
		{"matching µs", c.MatchingMicros, (7600.0 - 6000 - 200) / 4},
	} {
		assert.InDelta(t, tc.want, tc.got, eps, tc.name)
	}
	require.Len(t, c.Hooks, 2)
	assert.Equal(t, HookCost{Name: "a.example.io", Type: "admit", Calls: 1.5, CallMicros: 1500}, c.Hooks[0])
	assert.Equal(t, "v.example.io", c.Hooks[1].Name)
	assert.InDelta(t, 1.0, c.Hooks[1].ConditionExclusions, eps)
	require.NotEmpty(t, c.Plugins)
	assert.Equal(t, "MutatingAdmissionWebhook", c.Plugins[0].Name, "slowest plugin first")

	// A call to an entry with matchConditions is one evaluation that passed.
	c = admissionCost(sub(a, b), 4, 3, map[hookKey]bool{mutating: true, validating: true})
	assert.InDelta(t, (4.0+6)/4, c.ConditionEvaluations, eps)

	// Nothing sent, nothing divided.
	assert.Zero(t, admissionCost(sub(a, b), 0, 3, nil).WebhookCalls)

	_, err = parseAdmissionMetrics(strings.NewReader("apiserver_admission_webhook_request_total{name=\"x\" 1\n"))
	assert.Error(t, err, "a broken exposition is an error, not zero calls")
}

func TestRouteObjects(t *testing.T) {
	for _, tc := range []struct {
		sticky bool
		want   int // rules with sessionPersistence
	}{{false, 0}, {true, 1}} {
		obj := routeObject("r-1", "app-1", tc.sticky)
		assert.Equal(t, "httproutes", obj.resource)
		var route struct {
			APIVersion, Kind string
			Spec             struct {
				ParentRefs []struct{ Name string }
				Rules      []struct {
					SessionPersistence *struct {
						SessionName, Type, AbsoluteTimeout string
						CookieConfig                       struct{ LifetimeType string }
					}
				}
			}
		}
		require.NoError(t, json.Unmarshal(obj.body, &route))
		assert.Equal(t, "gateway.networking.k8s.io/v1", route.APIVersion)
		assert.Equal(t, "HTTPRoute", route.Kind)
		require.Len(t, route.Spec.ParentRefs, 1)
		assert.Equal(t, gatewayName, route.Spec.ParentRefs[0].Name)
		sticky := 0
		for _, r := range route.Spec.Rules {
			if p := r.SessionPersistence; p != nil {
				sticky++
				// The CRD's CEL: Permanent needs an absoluteTimeout.
				assert.Equal(t, "Permanent", p.CookieConfig.LifetimeType)
				assert.NotEmpty(t, p.AbsoluteTimeout)
				assert.NotEmpty(t, p.SessionName)
			}
		}
		assert.Equal(t, tc.want, sticky)
	}
}

func TestFlags(t *testing.T) {
	_, err := parseFlags([]string{"-mode", "nope"}, new(nopWriter))
	assert.ErrorContains(t, err, "unknown mode")
	_, err = parseFlags([]string{"-concurrency", "0"}, new(nopWriter))
	assert.Error(t, err)
	_, err = parseFlags([]string{"-duration", "1h"}, new(nopWriter))
	assert.Error(t, err)
	_, err = parseFlags([]string{"-e2e-configs", "none,stickyguard,floor,kyverno"}, new(nopWriter))
	assert.ErrorContains(t, err, `unknown e2e configuration "kyverno"`)
	_, err = parseFlags([]string{"-e2e-configs", "none,stickyguard,vap"}, new(nopWriter))
	assert.ErrorContains(t, err, "must include floor")
	_, err = parseFlags([]string{"-e2e-classes", "plain,route"}, new(nopWriter))
	assert.ErrorContains(t, err, `unknown e2e class "route"`)
}

func TestCheckAnswer(t *testing.T) {
	ok := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u1","allowed":true}}`
	assert.NoError(t, checkAnswer([]byte(ok), "u1", answer{Allowed: true}))
	assert.ErrorContains(t, checkAnswer([]byte(ok), "u2", answer{Allowed: true}), "uid")
	assert.ErrorContains(t, checkAnswer([]byte(ok), "u1", answer{Allowed: true, Patch: true}), "patch")
	patched := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u1","allowed":true,` +
		`"patchType":"JSONPatch","patch":"W3sib3AiOiJhZGQiLCJwYXRoIjoiL3NwZWMveCIsInZhbHVlIjoxfV0="}}`
	assert.NoError(t, checkAnswer([]byte(patched), "u1", answer{Allowed: true, Patch: true}))
	denied := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u1","allowed":false,"status":{"code":422}}}`
	assert.NoError(t, checkAnswer([]byte(denied), "u1", answer{}))
	assert.ErrorContains(t, checkAnswer([]byte(`{"response":{"uid":"u1","allowed":false}}`), "u1", answer{}), "apiVersion")
	assert.Error(t, checkAnswer([]byte(`not json`), "u1", answer{}))
}

// nopWriter counts bytes.
type nopWriter int

func (w *nopWriter) Write(p []byte) (int, error) {
	*w += nopWriter(len(p))
	return len(p), nil
}
