package audit_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stickyguard/stickyguard/audit"
	"github.com/stickyguard/stickyguard/engine"
	"github.com/stickyguard/stickyguard/internal/sticky"
)

// TestAuditFindings: objects stored with the webhook off are audited with
// every rule; deny findings make the namespace fail, exempt objects are
// reported as exempt, good objects have no findings.
func TestAuditFindings(t *testing.T) {
	t.Parallel()
	e := testEnv(t)
	ns := namespace(t, "findings", nil)
	create(t,
		service(ns, "broken", affinityInSelector),
		service(ns, "exempt", affinityInSelector, ignored("legacy, tracked in JIRA-1")),
		service(ns, "good"),
		deployment(ns, "good", "good", 2),
	)

	nr := auditNamespace(t, e.Client, ns)
	assert.Equal(t, ns, nr.Namespace)
	got := rulesByObject(nr.Checked)
	assert.Equal(t, []string{"SVC-001"}, got["Service/broken"])
	assert.Equal(t, []string{"exempt"}, got["Service/exempt"])
	assert.NotContains(t, got, "Service/good")
	assert.NotContains(t, got, "Deployment/good")

	rep := engine.NewReport(nr.Checked, nil)
	assert.Equal(t, 1, rep.Denied())
	var sources []string
	for _, r := range rep.Results {
		sources = append(sources, r.Source)
	}
	assert.Equal(t, []string{
		"cluster:" + ns + "/Service/broken", "cluster:" + ns + "/Service/exempt", "cluster:" + ns + "/Service/good",
		"cluster:" + ns + "/Deployment/good",
	}, sources, "Services, Ingresses, Deployments, each by name")
}

// TestAuditDeploymentBeforeStickyService: the Deployment was admitted before
// the sticky Service existed, so nothing spread its pods. The audit shows
// it on both objects.
func TestAuditDeploymentBeforeStickyService(t *testing.T) {
	t.Parallel()
	e := testEnv(t)
	ns := namespace(t, "order", nil)
	create(t, deployment(ns, "web", "web", 3))
	create(t, service(ns, "web", stickyLB))

	got := rulesByObject(auditNamespace(t, e.Client, ns).Checked)
	assert.Contains(t, got["Deployment/web"], "DEP-001", "the default enforce mode would add on the next write")
	assert.Contains(t, got["Deployment/web"], "DEP-002", "and that write starts a rollout")
	assert.Contains(t, got["Service/web"], "SVC-012", "the stored Deployment is not spread")
}

// TestAuditPolicyReportsApplied: reports are written with server-side apply
// and replaced on the next run, so a fixed finding disappears.
func TestAuditPolicyReportsApplied(t *testing.T) {
	t.Parallel()
	e := testEnv(t)
	ctx := context.Background()
	ns := namespace(t, "reports", nil)
	dep := deployment(ns, "web", "web", 3)
	create(t, dep, service(ns, "web", stickyLB), service(ns, "broken", affinityInSelector))

	apply := func() {
		t.Helper()
		nr := auditNamespace(t, e.Client, ns)
		require.NoError(t, audit.ApplyPolicyReport(ctx, e.Client, audit.PolicyReport(ns, nr.Checked, time.Now())))
	}
	apply()
	first := getReport(t, ns)
	rules := reportRules(t, first)
	assert.Equal(t, "fail:SVC-001:Service/broken", rules[0], "failures first")
	assert.Contains(t, rules, "warn:SVC-012:Service/web")
	assert.Contains(t, rules, "warn:DEP-001:Deployment/web")
	assert.Equal(t, "stickyguard", first.GetLabels()["app.kubernetes.io/managed-by"])
	summary, _, _ := unstructured.NestedMap(first.Object, "summary")
	assert.EqualValues(t, 1, summary["fail"])
	assert.EqualValues(t, 0, summary["pass"])
	res0, _, _ := unstructured.NestedSlice(first.Object, "results")
	r0 := res0[0].(map[string]any)
	assert.Equal(t, "stickyguard", r0["policy"])
	assert.Equal(t, "stickyguard", r0["source"])
	assert.Equal(t, "high", r0["severity"])
	ref := r0["resources"].([]any)[0].(map[string]any)
	assert.Equal(t, "v1", ref["apiVersion"])
	assert.Equal(t, ns, ref["namespace"])
	assert.NotEmpty(t, ref["uid"])
	managers := map[string]bool{}
	for _, mf := range first.GetManagedFields() {
		managers[mf.Manager] = true
	}
	assert.True(t, managers[audit.FieldManager], "written by the %s field manager", audit.FieldManager)

	// Fix: spread the Deployment, delete the broken Service.
	require.NoError(t, e.Client.Get(ctx, client.ObjectKeyFromObject(dep), dep))
	spreadByHostname(dep)
	require.NoError(t, e.Client.Update(ctx, dep))
	require.NoError(t, e.Client.Delete(ctx, service(ns, "broken")))
	apply()
	second := getReport(t, ns)
	assert.NotEqual(t, first.GetResourceVersion(), second.GetResourceVersion())
	rules = reportRules(t, second)
	for _, r := range rules {
		assert.NotContains(t, r, "SVC-001")
		assert.NotContains(t, r, "SVC-012")
		assert.NotContains(t, r, "DEP-001")
	}
	summary, _, _ = unstructured.NestedMap(second.Object, "summary")
	assert.EqualValues(t, 0, summary["fail"])
}

// listCall is one List request a recordingReader saw.
type listCall struct {
	list      string
	namespace string
	limit     int64
	cont      string // the request's continue token
	next      string // the response's continue token
	items     int
}

// recordingReader records every List request.
type recordingReader struct {
	client.Reader
	mu    sync.Mutex
	calls []listCall
}

func (r *recordingReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	var lo client.ListOptions
	lo.ApplyOptions(opts)
	err := r.Reader.List(ctx, list, opts...)
	items := 0
	if err == nil {
		items = len(mustExtract(list))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, listCall{list: fmt.Sprintf("%T", list), namespace: lo.Namespace, limit: lo.Limit, cont: lo.Continue, next: list.GetContinue(), items: items})
	return err
}

func (r *recordingReader) callsFor(list, ns string) []listCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []listCall
	for _, c := range r.calls {
		if c.list == list && c.namespace == ns {
			out = append(out, c)
		}
	}
	return out
}

// TestAuditPagesLargeNamespaces: 2,500 Services are listed 500 at a time,
// following continue tokens, never in one call; the PolicyReport of their
// 2,500 findings is capped and says so.
func TestAuditPagesLargeNamespaces(t *testing.T) {
	t.Parallel()
	e := testEnv(t)
	ctx := context.Background()
	ns := namespace(t, "paging", nil)
	const n = 2500
	objs := make([]client.Object, 0, n)
	for i := range n {
		// Headless (no cluster IP to allocate) with ClientIP affinity,
		// which has no effect there: one SVC-003 warning each.
		s := service(ns, fmt.Sprintf("svc-%04d", i), headless)
		s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
		objs = append(objs, s)
	}
	start := time.Now()
	require.NoError(t, e.CreateAll(ctx, 16, objs))
	t.Logf("created %d Services in %s", n, time.Since(start).Round(time.Millisecond))

	rec := &recordingReader{Reader: e.Client}
	var nr *audit.NamespaceResult
	st, err := audit.Run(ctx, rec, audit.Options{Scope: audit.Scope{Namespace: ns}, PageSize: 500}, func(r *audit.NamespaceResult) error {
		nr = r
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, n, st.Objects)
	assert.Len(t, nr.Checked, n)

	pages := rec.callsFor("*v1.ServiceList", ns)
	require.GreaterOrEqual(t, len(pages), 5, "listed in pages")
	total := 0
	for i, p := range pages {
		assert.EqualValues(t, 500, p.limit, "page %d has a limit", i)
		assert.LessOrEqual(t, p.items, 500)
		if i == 0 {
			assert.Empty(t, p.cont)
		} else {
			assert.Equal(t, pages[i-1].next, p.cont, "page %d continues where page %d stopped", i, i-1)
			assert.NotEmpty(t, p.cont)
		}
		total += p.items
	}
	assert.Equal(t, n, total)
	assert.Empty(t, pages[len(pages)-1].next)
	assert.Equal(t, len(rec.calls), st.ListCalls)
	for _, c := range rec.calls {
		assert.Positive(t, c.limit, "every List call is bounded: %+v", c)
	}

	rep := audit.PolicyReport(ns, nr.Checked, time.Now())
	require.NoError(t, audit.ApplyPolicyReport(ctx, e.Client, rep), "a capped report fits in etcd")
	stored := getReport(t, ns)
	results, _, _ := unstructured.NestedSlice(stored.Object, "results")
	assert.Len(t, results, audit.MaxResults)
	summary, _, _ := unstructured.NestedMap(stored.Object, "summary")
	assert.EqualValues(t, n, summary["warn"], "the summary counts every finding")
	assert.Contains(t, stored.GetAnnotations()[audit.AnnTruncated], fmt.Sprintf("1000 of %d results shown", n))
}

// TestAuditOptedInNamespaces: --opted-in audits the namespaces labelled
// enforce or audit, nothing else.
func TestAuditOptedInNamespaces(t *testing.T) {
	t.Parallel()
	e := testEnv(t)
	enforce := namespace(t, "optin-enforce", map[string]string{sticky.LabelMode: "enforce"})
	auditNS := namespace(t, "optin-audit", map[string]string{sticky.LabelMode: "audit"})
	off := namespace(t, "optin-off", map[string]string{sticky.LabelMode: "off"})
	none := namespace(t, "optin-none", nil)

	var seen []string
	_, err := audit.Run(context.Background(), e.Client, audit.Options{Scope: audit.Scope{OptedIn: true}}, func(nr *audit.NamespaceResult) error {
		seen = append(seen, nr.Namespace)
		return nil
	})
	require.NoError(t, err)
	assert.Contains(t, seen, enforce)
	assert.Contains(t, seen, auditNS)
	assert.NotContains(t, seen, off)
	assert.NotContains(t, seen, none)
	assert.True(t, slices.IsSorted(seen))

	_, err = audit.Run(context.Background(), e.Client, audit.Options{Scope: audit.Scope{Namespace: "does-not-exist"}}, func(*audit.NamespaceResult) error { return nil })
	assert.ErrorContains(t, err, `namespace "does-not-exist" not found`)
}

func mustExtract(list client.ObjectList) []runtime.Object {
	items, err := meta.ExtractList(list)
	if err != nil {
		panic(err)
	}
	return items
}
