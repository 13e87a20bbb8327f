//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The scenarios in this file need stickyguard installed as it ships: the
// Deployment (two replicas, PDB, probes, security context), its Service and
// ServiceAccount, leader election and the PolicyReport component. Only
// hack/e2e-kind.sh provides that; it sets E2E_KIND_CERTS (and
// E2E_KIND_INSTALL, the kustomization it applied).
const (
	sgNamespace   = "stickyguard-system"
	sgDeployment  = "stickyguard"
	sgPodSelector = "app.kubernetes.io/name=stickyguard,app.kubernetes.io/component=webhook"
	sgLease       = "stickyguard-audit"
	sgAccount     = "system:serviceaccount:stickyguard-system:stickyguard"
	metricsPort   = "8080"
	ackTimeoutKey = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-persistence-timeout"
)

// kindOnly skips a scenario in the kwok run, where the webhook is a local
// process and there is no Deployment, Service or ServiceAccount to test.
func kindOnly(t *testing.T) {
	t.Helper()
	if os.Getenv("E2E_KIND_CERTS") == "" {
		t.Skip("needs stickyguard installed from its manifests (make test-e2e-kind): E2E_KIND_CERTS is unset, so the webhook is a local process (the kwok run)")
	}
}

// TestKind runs the scenarios only a real cluster with the shipped
// Deployment shows. They leave stickyguard installed and healthy (two Ready
// replicas), so TestE2E can run after them.
func TestKind(t *testing.T) {
	kindOnly(t)
	waitSettled(t, 2, nil, 3*time.Minute)
	probe := namespace(t, "kind-probe", enforce)
	eventually(t, 90*time.Second, "the webhook to answer reviews", func() error {
		got, err := dryRunService(context.Background(), probe, stickyLB("probe", nil))
		if err != nil {
			return err
		}
		if got.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal {
			return fmt.Errorf("externalTrafficPolicy %q: the mutating webhook did not answer", got.Spec.ExternalTrafficPolicy)
		}
		return nil
	})
	t.Run("restricted-pod-security", testRestrictedPodSecurity)
	t.Run("metrics-per-replica", testMetricsPerReplica)
	t.Run("leader-elected-audit", testLeaderElectedAudit)
	t.Run("pod-kill-under-load", testPodKillUnderLoad)
	t.Run("rolling-update-under-load", testRollingUpdateUnderLoad)
}

// TestKindUninstall removes stickyguard the way the README says and checks
// that nothing is left that blocks writes. It destroys the install, so
// hack/e2e-kind.sh runs it alone, after every other test, with
// E2E_KIND_UNINSTALL=1.
func TestKindUninstall(t *testing.T) {
	kindOnly(t)
	if os.Getenv("E2E_KIND_UNINSTALL") != "1" {
		t.Skip("uninstalls stickyguard: hack/e2e-kind.sh runs it last and alone, with E2E_KIND_UNINSTALL=1")
	}
	testUninstall(t)
}

// --- the webhook's pods ---

func isReady(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// webhookPods lists the webhook's pods, terminating ones included.
func webhookPods(ctx context.Context) ([]corev1.Pod, error) {
	l, err := env.Client.CoreV1().Pods(sgNamespace).List(ctx, metav1.ListOptions{LabelSelector: sgPodSelector})
	if err != nil {
		return nil, err
	}
	sort.Slice(l.Items, func(i, j int) bool { return l.Items[i].Name < l.Items[j].Name })
	return l.Items, nil
}

// readyEndpoints counts the ready endpoints of the webhook Service.
func readyEndpoints(ctx context.Context) (int, error) {
	l, err := env.Client.DiscoveryV1().EndpointSlices(sgNamespace).List(ctx,
		metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=stickyguard-webhook"})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range l.Items {
		for _, e := range s.Endpoints {
			if e.Conditions.Ready != nil && *e.Conditions.Ready {
				n++
			}
		}
	}
	return n, nil
}

// waitSettled waits until exactly want webhook pods exist, all Ready, none
// of them named in gone, on want distinct nodes, with want ready endpoints
// behind the Service. It returns the pods.
func waitSettled(t *testing.T, want int, gone map[string]bool, timeout time.Duration) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	eventually(t, timeout, fmt.Sprintf("%d Ready webhook replicas on distinct nodes and nothing else", want), func() error {
		ctx := context.Background()
		all, err := webhookPods(ctx)
		if err != nil {
			return err
		}
		nodes := map[string]bool{}
		for i := range all {
			p := &all[i]
			if gone[p.Name] {
				return fmt.Errorf("pod %s still exists (phase %s, deleting %v)", p.Name, p.Status.Phase, p.DeletionTimestamp != nil)
			}
			if !isReady(p) {
				return fmt.Errorf("pod %s is not Ready yet", p.Name)
			}
			nodes[p.Spec.NodeName] = true
		}
		if len(all) != want || len(nodes) != want {
			return fmt.Errorf("%d pods on %d nodes, want %d on %d", len(all), len(nodes), want, want)
		}
		n, err := readyEndpoints(ctx)
		if err != nil {
			return err
		}
		if n != want {
			return fmt.Errorf("%d ready endpoints, want %d", n, want)
		}
		pods = all
		return nil
	})
	return pods
}

func podNames(pods []corev1.Pod) []string {
	out := make([]string, len(pods))
	for i, p := range pods {
		out[i] = p.Name + "@" + p.Spec.NodeName
	}
	return out
}

// --- metrics of one replica, read through the API server's pod proxy ---

type sample struct {
	labels map[string]string
	value  float64
}

type scrape map[string][]sample

// scrapePod reads one pod's /metrics (the metrics port, through the API
// server: no port-forward process to manage).
func scrapePod(ctx context.Context, pod string) (scrape, error) {
	raw, err := env.Client.CoreV1().Pods(sgNamespace).ProxyGet("http", pod, metricsPort, "metrics", nil).DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("scraping %s: %w", pod, err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parsing the metrics of %s: %w", pod, err)
	}
	out := scrape{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			s := sample{labels: map[string]string{}}
			for _, l := range m.GetLabel() {
				s.labels[l.GetName()] = l.GetValue()
			}
			switch {
			case m.Counter != nil:
				s.value = m.GetCounter().GetValue()
			case m.Gauge != nil:
				s.value = m.GetGauge().GetValue()
			case m.Histogram != nil:
				s.value = float64(m.GetHistogram().GetSampleCount())
			default:
				continue
			}
			out[name] = append(out[name], s)
		}
	}
	return out, nil
}

// sum adds the samples of name whose labels include match.
func (s scrape) sum(name string, match map[string]string) float64 {
	total := 0.0
	for _, smp := range s[name] {
		ok := true
		for k, v := range match {
			if smp.labels[k] != v {
				ok = false
				break
			}
		}
		if ok {
			total += smp.value
		}
	}
	return total
}

// replicaState identifies a pod's process: its counters restart with it.
func replicaState(pods []corev1.Pod) map[string]string {
	out := map[string]string{}
	for _, p := range pods {
		restarts := int32(0)
		for _, c := range p.Status.ContainerStatuses {
			restarts += c.RestartCount
		}
		out[p.Name] = fmt.Sprintf("%s/%d", p.UID, restarts)
	}
	return out
}

// scrapeAll reads every Ready replica's metrics.
func scrapeAll(t *testing.T) (map[string]scrape, map[string]string) {
	t.Helper()
	ctx := context.Background()
	pods, err := webhookPods(ctx)
	require.NoError(t, err)
	out := map[string]scrape{}
	for i := range pods {
		require.True(t, isReady(&pods[i]), "pod %s is Ready", pods[i].Name)
		s, err := scrapePod(ctx, pods[i].Name)
		require.NoError(t, err)
		out[pods[i].Name] = s
	}
	return out, replicaState(pods)
}

func sumAll(scrapes map[string]scrape, name string, match map[string]string) float64 {
	total := 0.0
	for _, s := range scrapes {
		total += s.sum(name, match)
	}
	return total
}

// brokenLB is a sticky LoadBalancer Service enforce mode denies: an ACK
// persistence-timeout that is not an integer number of seconds (ACK-001).
func brokenLB(name string) *corev1.Service {
	s := stickyLB(name, nil)
	s.Annotations[ackTimeoutKey] = "30m"
	return s
}

// testMetricsPerReplica: dry-run creates in an enforce and an audit
// namespace move the admission counters by exactly the reviews they caused,
// summed over the replicas (the API server keeps connections open, so one
// replica may answer all of them).
func testMetricsPerReplica(t *testing.T) {
	nsE := namespace(t, "metrics-enforce", enforce)
	nsA := namespace(t, "metrics-audit", audit)
	const sticky, broken = 6, 4
	waitSettled(t, 2, nil, 3*time.Minute)
	before, stateBefore := scrapeAll(t)

	ctx := context.Background()
	for _, ns := range []string{nsE, nsA} {
		for i := 0; i < sticky; i++ {
			got, err := dryRunService(ctx, ns, stickyLB(fmt.Sprintf("sticky-%d", i), nil))
			require.NoError(t, err)
			if ns == nsE {
				require.Equal(t, corev1.ServiceExternalTrafficPolicyLocal, got.Spec.ExternalTrafficPolicy, "enforce sets the default")
			}
		}
		for i := 0; i < broken; i++ {
			_, err := dryRunService(ctx, ns, brokenLB(fmt.Sprintf("broken-%d", i)))
			if ns == nsE {
				require.True(t, apierrors.IsInvalid(err), "enforce denies ACK-001 with 422 Invalid: %v", err)
				require.ErrorContains(t, err, "ACK-001")
			} else {
				require.NoError(t, err, "audit admits")
			}
		}
	}

	after, stateAfter := scrapeAll(t)
	require.Equal(t, stateBefore, stateAfter, "no replica restarted between the two scrapes (their counters would have reset)")
	delta := func(name string, match map[string]string) float64 {
		return sumAll(after, name, match) - sumAll(before, name, match)
	}
	svc := func(mode, result string) map[string]string {
		m := map[string]string{"kind": "Service", "operation": "CREATE", "mode": mode}
		if result != "" {
			m["result"] = result
		}
		return m
	}
	reviews := "stickyguard_admission_reviews_total"
	n := float64(sticky + broken)
	cases := []struct {
		what     string
		got      float64
		min, max float64
	}{
		// every create is reviewed by the mutating and the validating webhook
		{"enforce Service CREATE reviews", delta(reviews, svc("enforce", "")), 2 * n, 2 * n},
		{"enforce denied", delta(reviews, svc("enforce", "denied")), broken, broken},
		{"enforce patched", delta(reviews, svc("enforce", "patched")), sticky, n},
		{"audit Service CREATE reviews", delta(reviews, svc("audit", "")), 2 * n, 2 * n},
		{"audit would_deny", delta(reviews, svc("audit", "would_deny")), broken, broken},
		{"audit would_patch", delta(reviews, svc("audit", "would_patch")), sticky, n},
		{"ACK-001 deny findings in enforce", delta("stickyguard_rule_findings_total",
			map[string]string{"rule": "ACK-001", "severity": "deny", "mode": "enforce"}), broken, broken},
		{"validating review durations observed", delta("stickyguard_review_duration_seconds",
			map[string]string{"kind": "Service", "webhook": "validate"}), 2 * n, 2 * n},
	}
	for _, c := range cases {
		assert.True(t, c.got >= c.min && c.got <= c.max, "%s: moved by %v, want %v..%v", c.what, c.got, c.min, c.max)
	}
	per := map[string]float64{}
	for pod := range after {
		per[pod] = after[pod].sum(reviews, nil) - before[pod].sum(reviews, nil)
	}
	t.Logf("%d dry-run creates (%d sticky, %d broken, in an enforce and an audit namespace): review counters moved by %v over the replicas %v",
		2*(sticky+broken), sticky, broken, delta(reviews, nil), per)
}

// --- restricted Pod Security ---

// testRestrictedPodSecurity: stickyguard-system enforces the restricted
// Pod Security Standard, the admission plugin really applies it there, and
// the shipped pod template passes it now (not only when the pods were made).
func testRestrictedPodSecurity(t *testing.T) {
	ctx := context.Background()
	ns, err := env.Client.CoreV1().Namespaces().Get(ctx, sgNamespace, metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "restricted", ns.Labels["pod-security.kubernetes.io/enforce"], "labels of %s: %v", sgNamespace, ns.Labels)

	pods := waitSettled(t, 2, nil, 3*time.Minute)
	for _, p := range pods {
		assert.False(t, p.CreationTimestamp.Before(&ns.CreationTimestamp), "pod %s was admitted into the labelled namespace", p.Name)
	}

	// The label is enforced: a pod without the restricted settings is refused.
	bare := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "pss-negative-"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "stickyguard:e2e"}}},
	}
	_, err = env.Client.CoreV1().Pods(sgNamespace).Create(ctx, bare, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	require.Error(t, err, "a pod without securityContext must be refused in %s", sgNamespace)
	assert.Contains(t, err.Error(), `violates PodSecurity "restricted:`)

	// The shipped pod template, as a pod, is admitted today.
	dep, err := env.Client.AppsV1().Deployments(sgNamespace).Get(ctx, sgDeployment, metav1.GetOptions{})
	require.NoError(t, err)
	probe := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{GenerateName: "pss-template-"}, Spec: dep.Spec.Template.Spec}
	_, err = env.Client.CoreV1().Pods(sgNamespace).Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	require.NoError(t, err, "the Deployment's pod template passes restricted")

	// Re-pinning the level to this cluster's version makes the API server
	// evaluate the running pods; it warns about any that would not pass.
	r := mustKubectl(t, nil, "label", "namespace", sgNamespace, "--dry-run=server", "--overwrite",
		"pod-security.kubernetes.io/enforce-version="+serverMinorVersion(t))
	for _, w := range r.Warnings() {
		assert.NotContains(t, w, "violate", "the running pods pass restricted")
	}
	t.Logf("%s enforces restricted; pods %v Ready", sgNamespace, podNames(pods))
}

// serverMinorVersion is v1.N of the API server.
func serverMinorVersion(t *testing.T) string {
	t.Helper()
	v, err := env.Client.Discovery().ServerVersion()
	require.NoError(t, err)
	return "v" + v.Major + "." + strings.TrimRight(v.Minor, "+")
}

// --- leader-elected periodic audit ---

// auditInterval reads --audit-interval from the installed Deployment.
func auditInterval(t *testing.T) time.Duration {
	t.Helper()
	dep, err := env.Client.AppsV1().Deployments(sgNamespace).Get(context.Background(), sgDeployment, metav1.GetOptions{})
	require.NoError(t, err)
	for _, c := range dep.Spec.Template.Spec.Containers {
		for _, a := range c.Args {
			if v, ok := strings.CutPrefix(a, "--audit-interval="); ok {
				d, err := time.ParseDuration(v)
				require.NoError(t, err)
				return d
			}
		}
		for _, e := range c.Env {
			if e.Name == "STICKYGUARD_AUDIT_INTERVAL" {
				d, err := time.ParseDuration(e.Value)
				require.NoError(t, err)
				return d
			}
		}
	}
	t.Fatal("the Deployment runs without --audit-interval: hack/e2e-kind.sh installs manifests/policyreport and turns the audit on")
	return 0
}

// leaseHolder returns the pod holding the audit Lease (controller-runtime's
// identity is <hostname>_<uuid>, and a pod's hostname is its name).
func leaseHolder(t *testing.T) (pod, identity string, transitions int32) {
	t.Helper()
	var l struct {
		holder string
		trans  int32
	}
	eventually(t, 60*time.Second, "a holder of the Lease "+sgLease, func() error {
		lease, err := env.Client.CoordinationV1().Leases(sgNamespace).Get(context.Background(), sgLease, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
			return fmt.Errorf("lease %s has no holder", sgLease)
		}
		l.holder = *lease.Spec.HolderIdentity
		if lease.Spec.LeaseTransitions != nil {
			l.trans = *lease.Spec.LeaseTransitions
		}
		return nil
	})
	name, _, ok := strings.Cut(l.holder, "_")
	require.True(t, ok, "holder identity %q is <pod>_<uuid>", l.holder)
	return name, l.holder, l.trans
}

type reportResult struct {
	Policy    string `json:"policy"`
	Rule      string `json:"rule"`
	Result    string `json:"result"`
	Resources []struct {
		Kind, Name, Namespace string
	} `json:"resources"`
}

type policyReport struct {
	Metadata struct {
		ManagedFields []struct {
			Manager string `json:"manager"`
		} `json:"managedFields"`
	} `json:"metadata"`
	Summary map[string]int64 `json:"summary"`
	Results []reportResult   `json:"results"`
}

// testLeaderElectedAudit: with --audit-interval, the replica holding the
// Lease audits the opted-in namespaces and writes their PolicyReports with
// the ServiceAccount's own, least-privilege rights; the other replica runs
// no audit.
func testLeaderElectedAudit(t *testing.T) {
	interval := auditInterval(t)
	pods := waitSettled(t, 2, nil, 3*time.Minute)
	ns := namespace(t, "audit-report", audit)

	// Admitted in audit mode (with an [audit] warning), and broken.
	r := mustKubectl(t, toJSON(t, brokenLB("ack-broken")), "-n", ns, "create", "-f", "-")
	assert.True(t, anyContains(r.Warnings(), "[audit]", "ACK-001"), "audit warns: %q", r.Warnings())
	created := time.Now()

	var rep policyReport
	eventually(t, interval+60*time.Second, "the PolicyReport of "+ns+" with the ACK-001 finding", func() error {
		res := kubectl(t, nil, "-n", ns, "get", "policyreports.wgpolicyk8s.io", "stickyguard-audit", "-o", "json", "--show-managed-fields")
		if res.Err != nil {
			return fmt.Errorf("%v: %s", res.Err, strings.TrimSpace(res.Stderr))
		}
		rep = policyReport{}
		if err := json.Unmarshal([]byte(res.Stdout), &rep); err != nil {
			return err
		}
		for _, x := range rep.Results {
			if x.Rule == "ACK-001" && x.Result == "fail" && len(x.Resources) == 1 && x.Resources[0].Name == "ack-broken" {
				return nil
			}
		}
		return fmt.Errorf("no ACK-001 fail result for ack-broken yet (%d results)", len(rep.Results))
	})
	t.Logf("PolicyReport with the finding %s after the broken Service was created (audit interval %s)",
		time.Since(created).Round(time.Second), interval)
	assert.GreaterOrEqual(t, rep.Summary["fail"], int64(1), "summary counts the failure: %v", rep.Summary)
	managers := []string{}
	for _, m := range rep.Metadata.ManagedFields {
		managers = append(managers, m.Manager)
	}
	assert.Equal(t, []string{"stickyguard-audit"}, managers, "written only by the audit's server-side apply")

	// Exactly one replica audits: the Lease holder.
	leader, identity, _ := leaseHolder(t)
	names := []string{}
	for _, p := range pods {
		names = append(names, p.Name)
	}
	require.Contains(t, names, leader, "the Lease holder %q is one of the webhook's pods", identity)
	eventually(t, interval+30*time.Second, "the leader's findings gauge for "+ns, func() error {
		s, err := scrapePod(context.Background(), leader)
		if err != nil {
			return err
		}
		if v := s.sum("stickyguard_audit_findings", map[string]string{"rule": "ACK-001", "namespace": ns}); v != 1 {
			return fmt.Errorf("stickyguard_audit_findings{rule=ACK-001,namespace=%s} = %v on %s", ns, v, leader)
		}
		if v := s.sum("stickyguard_audit_last_success_timestamp_seconds", nil); v < float64(created.Unix()) {
			return fmt.Errorf("last successful audit at %v, before the broken Service was created", v)
		}
		return nil
	})
	for _, p := range pods {
		s, err := scrapePod(context.Background(), p.Name)
		require.NoError(t, err)
		runs := s.sum("stickyguard_audit_runs_total", nil)
		failed := s.sum("stickyguard_audit_runs_total", map[string]string{"result": "error"})
		if p.Name == leader {
			assert.GreaterOrEqual(t, runs, 1.0, "the leader %s audits", p.Name)
		} else {
			assert.Zero(t, runs, "%s does not hold the Lease and runs no audit", p.Name)
			assert.Zero(t, s.sum("stickyguard_audit_findings", nil), "%s exports no findings", p.Name)
		}
		t.Logf("%s: %v audit runs, %v failed (leader %v)", p.Name, runs, failed, p.Name == leader)
	}
	again, identityAgain, _ := leaseHolder(t)
	require.Equal(t, identity, identityAgain, "the Lease did not change hands during the check (was %s, now %s)", leader, again)

	// Least privilege, proven by use above and by what the ServiceAccount
	// may not do.
	access := []struct {
		verb, group, resource, ns string
		want                      bool
	}{
		{"create", "wgpolicyk8s.io", "policyreports", ns, true},
		{"patch", "wgpolicyk8s.io", "policyreports", ns, true},
		{"delete", "wgpolicyk8s.io", "policyreports", ns, false},
		{"update", "coordination.k8s.io", "leases", sgNamespace, true},
		{"update", "coordination.k8s.io", "leases", "kube-system", false},
		{"list", "", "services", "", true},
		{"create", "", "services", ns, false},
		{"update", "apps", "deployments", ns, false},
		{"get", "", "secrets", sgNamespace, false},
		{"list", "", "pods", "", false},
	}
	for _, a := range access {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:   sgAccount,
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + sgNamespace, "system:authenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Verb: a.verb, Group: a.group, Resource: a.resource, Namespace: a.ns,
			},
		}}
		got, err := env.Client.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), sar, metav1.CreateOptions{})
		require.NoError(t, err)
		assert.Equal(t, a.want, got.Status.Allowed, "%s may %s %s.%s in %q", sgAccount, a.verb, a.resource, a.group, a.ns)
	}
	for _, p := range pods {
		logs := mustKubectl(t, nil, "-n", sgNamespace, "logs", p.Name, "-c", "webhook")
		for _, line := range strings.Split(logs.Stdout, "\n") {
			assert.NotContains(t, strings.ToLower(line), "forbidden", "%s logs an RBAC refusal", p.Name)
		}
	}
}

// --- load while the replicas change ---

// loadGen writes Services in an enforce namespace at a steady rate:
//   - sticky: ACK CLB persistence LoadBalancers, created (the mutating
//     webhook must set externalTrafficPolicy Local: its failurePolicy
//     Ignore would hide a failure), updated (reviewed by the validating
//     webhook, failurePolicy Fail) and deleted;
//   - broken: ACK-001 LoadBalancers that must be denied with a 422 naming
//     the rule (only an answering validating webhook does that);
//   - plain: ClusterIP Services no webhook is sent, created and updated.
//
// Any other outcome of any request is a failure.
type loadGen struct {
	ns       string
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	started  time.Time
	ok, fail atomic.Int64

	mu       sync.Mutex
	byOp     map[string]int64
	failures []string
	maxLat   time.Duration
}

type loadReport struct {
	Requests, Failed int64
	ByOp             map[string]int64
	Failures         []string
	Duration         time.Duration
	MaxLatency       time.Duration
}

func (r loadReport) String() string {
	ops := make([]string, 0, len(r.ByOp))
	for k, v := range r.ByOp {
		ops = append(ops, fmt.Sprintf("%s %d", k, v))
	}
	slices.Sort(ops)
	return fmt.Sprintf("%d requests in %s (%.1f/s: %s), %d failed, slowest %s",
		r.Requests, r.Duration.Round(time.Second), float64(r.Requests)/r.Duration.Seconds(),
		strings.Join(ops, ", "), r.Failed, r.MaxLatency.Round(time.Millisecond))
}

// loadRate is the total request rate (E2E_LOAD_RATE, default 20/s).
func loadRate(t *testing.T) float64 {
	t.Helper()
	if v := os.Getenv("E2E_LOAD_RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		require.NoError(t, err, "E2E_LOAD_RATE")
		require.Positive(t, r, "E2E_LOAD_RATE")
		return r
	}
	return 20
}

func startLoad(t *testing.T, ns string) *loadGen {
	t.Helper()
	const workers = 4
	rate := loadRate(t)
	ctx, cancel := context.WithCancel(context.Background())
	g := &loadGen{ns: ns, cancel: cancel, started: time.Now(), byOp: map[string]int64{}}
	every := time.Duration(float64(workers) / rate * float64(time.Second))
	for w := 0; w < workers; w++ {
		g.wg.Add(1)
		go func(w int) {
			defer g.wg.Done()
			g.worker(ctx, w, every)
		}(w)
	}
	t.Logf("load: %d workers, %.0f requests/s in %s", workers, rate, ns)
	return g
}

func (g *loadGen) record(op string, lat time.Duration, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.byOp[op]++
	if lat > g.maxLat {
		g.maxLat = lat
	}
	if err != nil {
		g.fail.Add(1)
		if len(g.failures) < 20 {
			g.failures = append(g.failures, fmt.Sprintf("%s %s: %v", time.Now().Format("15:04:05.000"), op, err))
		}
		return
	}
	g.ok.Add(1)
}

func (g *loadGen) worker(ctx context.Context, w int, every time.Duration) {
	svcs := env.Client.CoreV1().Services(g.ns)
	tick := time.NewTicker(every)
	defer tick.Stop()
	// The worker's own objects: no two workers touch the same Service.
	var sticky []*corev1.Service
	var plain *corev1.Service
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		// Requests run to completion once sent, so that stopping the load
		// never turns into a failure.
		rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		start := time.Now()
		var op string
		var err error
		switch i % 3 {
		case 0: // sticky: create, update, update, delete the oldest, ...
			switch {
			case len(sticky) < 3 || i%9 == 0 && len(sticky) < 6:
				op = "sticky-create"
				var got *corev1.Service
				got, err = svcs.Create(rctx, stickyLB(fmt.Sprintf("s%d-%d", w, i), nil), metav1.CreateOptions{})
				if err == nil {
					sticky = append(sticky, got)
					if got.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal {
						err = fmt.Errorf("%s created without externalTrafficPolicy Local: the mutating webhook was skipped", got.Name)
					}
				}
			case i%9 == 3:
				op = "sticky-delete"
				err = svcs.Delete(rctx, sticky[0].Name, metav1.DeleteOptions{})
				if err == nil {
					sticky = sticky[1:]
				}
			default:
				op = "sticky-update"
				s := sticky[i%len(sticky)]
				patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:"%d"}}}`, ackTimeoutKey, 600+i)
				_, err = svcs.Patch(rctx, s.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
			}
		case 1:
			op = "broken-create"
			var got *corev1.Service
			got, err = svcs.Create(rctx, brokenLB(fmt.Sprintf("b%d-%d", w, i)), metav1.CreateOptions{})
			switch {
			case err == nil:
				err = fmt.Errorf("%s (ACK-001) was admitted: the validating webhook was skipped", got.Name)
			case apierrors.IsInvalid(err) && strings.Contains(err.Error(), "ACK-001"):
				err = nil // denied by the webhook, as it must be
			}
		case 2:
			if plain == nil {
				op = "plain-create"
				plain, err = svcs.Create(rctx, plainService(fmt.Sprintf("p%d", w)), metav1.CreateOptions{})
			} else {
				op = "plain-update"
				patch := fmt.Sprintf(`{"metadata":{"labels":{"gen":"%d"}}}`, i)
				_, err = svcs.Patch(rctx, plain.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
			}
		}
		cancel()
		g.record(op, time.Since(start), err)
	}
}

func plainService(name string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": name},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	}
}

// waitRequests waits until n more requests have succeeded (the load keeps
// running through whatever the test does meanwhile).
func (g *loadGen) waitRequests(t *testing.T, n int64, timeout time.Duration) {
	t.Helper()
	target := g.ok.Load() + n
	eventually(t, timeout, fmt.Sprintf("%d more successful requests", n), func() error {
		if got := g.ok.Load(); got < target {
			return fmt.Errorf("%d of %d", got, target)
		}
		return nil
	})
}

func (g *loadGen) stop() loadReport {
	g.cancel()
	g.wg.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	return loadReport{
		Requests: g.ok.Load() + g.fail.Load(), Failed: g.fail.Load(),
		ByOp: maps.Clone(g.byOp), Failures: slices.Clone(g.failures),
		Duration: time.Since(g.started), MaxLatency: g.maxLat,
	}
}

// assertLoad checks a load run: no failure, enough requests of every kind.
func assertLoad(t *testing.T, name string, r loadReport) {
	t.Helper()
	t.Logf("%s load: %s", name, r)
	for _, f := range r.Failures {
		t.Logf("  failure: %s", f)
	}
	assert.Zero(t, r.Failed, "%s: no failed request", name)
	for _, op := range []string{"sticky-create", "sticky-update", "broken-create", "plain-update"} {
		assert.GreaterOrEqual(t, r.ByOp[op], int64(10), "%s: enough %s requests to mean something", name, op)
	}
}

// evict asks for an eviction, as a node drain does (the PDB applies).
func evict(ctx context.Context, pod string) error {
	return env.Client.PolicyV1().Evictions(sgNamespace).Evict(ctx, &policyv1.Eviction{
		ObjectMeta: metav1.ObjectMeta{Name: pod, Namespace: sgNamespace},
	})
}

// testPodKillUnderLoad: the replica holding the audit Lease is evicted
// while Services are written at a steady rate; the other one answers (the
// PDB refuses to evict it too) until the replacement is Ready, and takes
// the Lease over. No request fails.
func testPodKillUnderLoad(t *testing.T) {
	ns := namespace(t, "podkill", enforce)
	pods := waitSettled(t, 2, nil, 3*time.Minute)
	victim, _, _ := leaseHolder(t)
	other := ""
	for _, p := range pods {
		if p.Name != victim {
			other = p.Name
		}
	}
	require.NotEmpty(t, other, "the Lease holder %s is one of %v", victim, podNames(pods))
	t.Logf("replicas %v; evicting the audit leader %s", podNames(pods), victim)

	g := startLoad(t, ns)
	defer g.cancel()
	g.waitRequests(t, 40, 2*time.Minute)

	eventually(t, 60*time.Second, "the eviction of "+victim, func() error { return evict(context.Background(), victim) })
	killed := time.Now()
	err := evict(context.Background(), other)
	require.Error(t, err, "the PDB must refuse to evict %s while %s is going", other, victim)
	assert.True(t, apierrors.IsTooManyRequests(err), "refused by the disruption budget (429): %v", err)

	after := waitSettled(t, 2, map[string]bool{victim: true}, 3*time.Minute)
	t.Logf("%s evicted; back to 2 Ready replicas %v after %s", victim, podNames(after), time.Since(killed).Round(time.Second))
	g.waitRequests(t, 40, 2*time.Minute)
	assertLoad(t, "pod-kill", g.stop())

	names := map[string]bool{}
	for _, p := range after {
		names[p.Name] = true
	}
	eventually(t, 60*time.Second, "a running replica to hold the audit Lease", func() error {
		leader, _, _ := leaseHolder(t)
		if !names[leader] {
			return fmt.Errorf("the Lease is held by %s, not by one of %v", leader, podNames(after))
		}
		return nil
	})
	leader, _, transitions := leaseHolder(t)
	t.Logf("audit leader now %s (%d Lease transitions)", leader, transitions)
}

// testRollingUpdateUnderLoad: `kubectl rollout restart` replaces both
// replicas (maxUnavailable 0, maxSurge 1) while Services are written at a
// steady rate. No request fails.
func testRollingUpdateUnderLoad(t *testing.T) {
	ns := namespace(t, "rollout", enforce)
	pods := waitSettled(t, 2, nil, 3*time.Minute)
	old := map[string]bool{}
	for _, p := range pods {
		old[p.Name] = true
	}

	g := startLoad(t, ns)
	defer g.cancel()
	g.waitRequests(t, 40, 2*time.Minute)

	start := time.Now()
	kubectlWithin(t, time.Minute, "-n", sgNamespace, "rollout", "restart", "deployment/"+sgDeployment)
	kubectlWithin(t, 6*time.Minute, "-n", sgNamespace, "rollout", "status", "deployment/"+sgDeployment, "--timeout=5m")
	after := waitSettled(t, 2, old, 3*time.Minute)
	t.Logf("rolled %v -> %v in %s", podNames(pods), podNames(after), time.Since(start).Round(time.Second))
	g.waitRequests(t, 40, 2*time.Minute)
	assertLoad(t, "rolling-update", g.stop())
}

// kubectlWithin runs kubectl with its own deadline (rollouts take longer
// than the suite's usual minute) and fails the test if it fails.
func kubectlWithin(t *testing.T, timeout time.Duration, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, env.Kubectl, append([]string{"--kubeconfig", env.Kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "kubectl %s:\n%s", strings.Join(args, " "), out)
	return string(out)
}

// --- uninstall ---

// testUninstall: the README's uninstall (the two webhook configurations,
// then `kubectl delete -k` of the install) leaves nothing that blocks a
// write and no stickyguard object behind.
func testUninstall(t *testing.T) {
	ns := namespace(t, "uninstall", enforce)
	svc := toJSON(t, brokenLB("ack-broken"))
	r := kubectl(t, svc, "-n", ns, "create", "-f", "-")
	require.Error(t, r.Err, "installed, enforce denies the broken Service\n%s", r)
	require.Contains(t, r.Stderr, "ACK-001")

	ctl(t, "uninstall")

	r = kubectl(t, svc, "-n", ns, "create", "-f", "-")
	require.NoError(t, r.Err, "after the uninstall a broken sticky Service in an opted-in namespace is admitted\n%s", r)
	assert.NotContains(t, r.Stderr, "ACK-001", "nothing reviewed it")
	stored, err := env.Client.CoreV1().Services(ns).Get(context.Background(), "ack-broken", metav1.GetOptions{})
	require.NoError(t, err)
	assert.NotEqual(t, corev1.ServiceExternalTrafficPolicyLocal, stored.Spec.ExternalTrafficPolicy, "no mutating webhook set Local")

	ctx := context.Background()
	mwc, err := env.Client.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	vwc, err := env.Client.AdmissionregistrationV1().ValidatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	var left []string
	for _, c := range mwc.Items {
		for _, w := range c.Webhooks {
			if strings.HasSuffix(w.Name, "stickyguard.io") {
				left = append(left, "mutating "+c.Name+"/"+w.Name)
			}
		}
	}
	for _, c := range vwc.Items {
		for _, w := range c.Webhooks {
			if strings.HasSuffix(w.Name, "stickyguard.io") {
				left = append(left, "validating "+c.Name+"/"+w.Name)
			}
		}
	}
	assert.Empty(t, left, "no stickyguard webhook is left")

	_, err = env.Client.CoreV1().Namespaces().Get(ctx, sgNamespace, metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "namespace %s is gone: %v", sgNamespace, err)

	// Every listable kind, cluster-wide: nothing labelled as stickyguard's,
	// nor named after it at cluster scope (roles, bindings, CRDs).
	kinds := strings.Fields(mustKubectl(t, nil, "api-resources", "--verbs=list", "-o", "name").Stdout)
	require.NotEmpty(t, kinds)
	res := mustKubectl(t, nil, "get", strings.Join(kinds, ","), "-A", "-l", "app.kubernetes.io/name=stickyguard", "-o", "name", "--ignore-not-found")
	assert.Empty(t, strings.TrimSpace(res.Stdout), "objects labelled app.kubernetes.io/name=stickyguard left behind")
	// What the install made at cluster scope, by name: it carries the label
	// today, but a copy of the manifests that dropped it must not hide a
	// leftover.
	res = mustKubectl(t, nil, "get", "clusterroles,clusterrolebindings,mutatingwebhookconfigurations,validatingwebhookconfigurations,customresourcedefinitions,namespaces,priorityclasses,apiservices", "-o", "name")
	for _, line := range strings.Split(res.Stdout, "\n") {
		_, name, _ := strings.Cut(line, "/")
		if strings.HasPrefix(name, "stickyguard") || strings.HasSuffix(name, ".wgpolicyk8s.io") {
			left = append(left, line)
		}
	}
	assert.Empty(t, left, "cluster-scoped stickyguard objects left behind")
}
