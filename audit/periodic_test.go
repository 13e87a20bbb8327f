package audit_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/stickyguard/stickyguard/audit"
	"github.com/stickyguard/stickyguard/audit/audittest"
	"github.com/stickyguard/stickyguard/internal/sticky"
	"github.com/stickyguard/stickyguard/policy"
)

// metric reads a gauge or counter from reg; -1 when no series has these
// labels.
func metric(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue series
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

// findingsGauge reads stickyguard_audit_findings{rule,namespace}.
func findingsGauge(t *testing.T, reg *prometheus.Registry, rule, ns string) float64 {
	return metric(t, reg, "stickyguard_audit_findings", map[string]string{"rule": rule, "namespace": ns})
}

// TestAuditPeriodic runs the periodic audit the way `serve` wires it: added
// to a manager with leader election, reading through the manager's API
// reader and writing with its client. It refreshes the gauges and the
// PolicyReports of opted-in namespaces, drops fixed findings, and stops
// promptly with its context.
func TestAuditPeriodic(t *testing.T) {
	t.Parallel()
	e := testEnv(t)
	ctx := context.Background()
	ns := namespace(t, "periodic", map[string]string{sticky.LabelMode: "audit"})
	off := namespace(t, "periodic-off", nil)
	dep := deployment(ns, "web", "web", 3)
	create(t, dep, service(ns, "web", stickyLB), service(ns, "broken", affinityInSelector),
		service(off, "broken", affinityInSelector))

	scheme := runtime.NewScheme()
	require.NoError(t, clientgoscheme.AddToScheme(scheme))
	// As the webhook's ServiceAccount, with only the RBAC that ships.
	mgr, err := manager.New(serviceAccountConfig(t), manager.Options{
		Scheme:                        scheme,
		Logger:                        logr.Discard(),
		Metrics:                       metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:        "0",
		LeaderElection:                true,
		LeaderElectionID:              "stickyguard-audit",
		LeaderElectionNamespace:       installNamespace,
		LeaderElectionReleaseOnCancel: true,
	})
	require.NoError(t, err)
	reg := prometheus.NewRegistry()
	p, err := audit.NewPeriodic(mgr.GetClient(), mgr.GetAPIReader(), 200*time.Millisecond, policy.Default, reg, logr.Discard())
	require.NoError(t, err)
	assert.True(t, p.NeedLeaderElection())
	require.NoError(t, mgr.Add(p))

	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	var startErr error
	go func() {
		defer close(done)
		startErr = mgr.Start(runCtx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})

	require.NoError(t, audittest.Eventually(ctx, 20*time.Second, func() (bool, error) {
		return findingsGauge(t, reg, "SVC-012", ns) == 1 && findingsGauge(t, reg, "SVC-001", ns) == 1, nil
	}), "gauges for the opted-in namespace")
	assert.Equal(t, float64(1), findingsGauge(t, reg, "DEP-001", ns))
	lease := &coordinationv1.Lease{}
	require.NoError(t, e.Client.Get(ctx, client.ObjectKey{Namespace: installNamespace, Name: "stickyguard-audit"}, lease))
	assert.NotEmpty(t, ptr.Deref(lease.Spec.HolderIdentity, ""), "the audit runs on the elected leader")
	assert.Equal(t, float64(-1), findingsGauge(t, reg, "SVC-001", off), "namespaces that did not opt in are not audited")
	rules := reportRules(t, getReport(t, ns))
	assert.Contains(t, rules, "fail:SVC-001:Service/broken")
	assert.Contains(t, rules, "warn:SVC-012:Service/web")
	assert.Positive(t, metric(t, reg, "stickyguard_audit_last_success_timestamp_seconds", nil))
	assert.Positive(t, metric(t, reg, "stickyguard_audit_runs_total", map[string]string{"result": "success"}))

	// Fix both; the next runs drop the series and the results.
	require.NoError(t, e.Client.Get(ctx, client.ObjectKeyFromObject(dep), dep))
	spreadByHostname(dep)
	require.NoError(t, e.Client.Update(ctx, dep))
	require.NoError(t, e.Client.Delete(ctx, service(ns, "broken")))
	require.NoError(t, audittest.Eventually(ctx, 20*time.Second, func() (bool, error) {
		return findingsGauge(t, reg, "SVC-012", ns) == -1 && findingsGauge(t, reg, "SVC-001", ns) == -1 &&
			findingsGauge(t, reg, "DEP-001", ns) == -1, nil
	}), "fixed findings disappear from the gauges")
	require.NoError(t, audittest.Eventually(ctx, 10*time.Second, func() (bool, error) {
		rules := reportRules(t, getReport(t, ns))
		return !slices.ContainsFunc(rules, func(r string) bool {
			return strings.Contains(r, "SVC-012") || strings.Contains(r, "SVC-001")
		}), nil
	}), "and from the report")

	start := time.Now()
	cancel()
	select {
	case <-done:
		require.NoError(t, startErr)
	case <-time.After(10 * time.Second):
		t.Fatal("the manager did not stop")
	}
	assert.Less(t, time.Since(start), 5*time.Second, "stops promptly")
}

// TestAuditPeriodicOptions: interval 0 means off (the caller adds
// no runnable), and the metrics are registered only once per registry.
func TestAuditPeriodicOptions(t *testing.T) {
	reg := prometheus.NewRegistry()
	var c client.Client
	_, err := audit.NewPeriodic(c, c, 0, nil, reg, logr.Discard())
	assert.ErrorContains(t, err, "interval must be positive")

	fake := fakeClient{}
	a, err := audit.NewPeriodic(fake, fake, time.Hour, nil, reg, logr.Discard())
	require.NoError(t, err)
	b, err := audit.NewPeriodic(fake, fake, time.Hour, nil, reg, logr.Discard())
	require.NoError(t, err, "a second registration reuses the collectors")
	assert.NotNil(t, a)
	assert.NotNil(t, b)
}

// fakeClient is a non-nil client.Client for constructor tests.
type fakeClient struct{ client.Client }
