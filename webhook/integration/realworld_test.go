package integration

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stickyguard/stickyguard/internal/sticky"
)

// realworldDir holds the real-world valid set: configurations as users
// write them, each valid upstream (see each file's Source comment).
var realworldDir = filepath.Join(repoRoot(), "testdata", "realworld")

// checkedKinds are the kinds whose creation counts towards the set's
// coverage: what stickyguard reviews or reads.
var checkedKinds = map[string]bool{
	"Service": true, "Ingress": true, "IngressClass": true, "Deployment": true,
	"StatefulSet": true, "BackendConfig": true,
}

// causeRule finds the rule ID in a stickyguard cause message
// ("Invalid value: \"ClientIP\": SVC-001: ...").
var causeRule = regexp.MustCompile(`(?:^|: )([A-Z][A-Z0-9]*-[A-Z0-9]+): `)

// loadKnownWrongDenials reads testdata/realworld/knownWrongDenials.txt, the
// one list shared with `stickyguard check`'s real-world test: file -> rule
// IDs that serve still denies although upstream says the file works.
func loadKnownWrongDenials(t *testing.T, mode string) map[string][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(realworldDir, "knownWrongDenials.txt"))
	require.NoError(t, err)
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		require.Contains(t, []int{2, 3}, len(fields), "knownWrongDenials.txt: want FILE RULE [check|serve]: %q", line)
		if len(fields) == 3 && fields[2] != mode {
			continue
		}
		out[fields[0]] = append(out[fields[0]], fields[1])
	}
	require.NoError(t, sc.Err())
	return out
}

// decodeObjects reads every non-empty document of a YAML file.
func decodeObjects(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]interface{}
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, path)
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
	return objs
}

// createOrder: IngressClasses, then Services (and other config), then
// workloads, then Ingresses, so each object finds what it refers to.
func createOrder(kind string) int {
	switch kind {
	case "IngressClass":
		return 0
	case "Deployment", "StatefulSet", "DaemonSet":
		return 2
	case "Ingress":
		return 3
	default:
		return 1
	}
}

// prepare places the object in ns and drops what belongs to the source
// cluster: the server metadata of an export and the cluster-wide
// allocations of a Service (its cluster IPs and node ports come from
// another cluster's ranges and would collide between files).
func prepare(t *testing.T, obj *unstructured.Unstructured, ns string, namespaced bool) {
	if namespaced {
		obj.SetNamespace(ns)
	}
	obj.SetResourceVersion("")
	obj.SetUID("")
	if obj.GetKind() != "Service" {
		return
	}
	for _, f := range []string{"clusterIP", "clusterIPs", "healthCheckNodePort"} {
		if _, ok, _ := unstructured.NestedFieldNoCopy(obj.Object, "spec", f); ok {
			t.Logf("%s/%s: dropped spec.%s (allocated by the source cluster)", obj.GetKind(), obj.GetName(), f)
			unstructured.RemoveNestedField(obj.Object, "spec", f)
		}
	}
	ports, _, _ := unstructured.NestedSlice(obj.Object, "spec", "ports")
	for i := range ports {
		if p, ok := ports[i].(map[string]interface{}); ok {
			delete(p, "nodePort")
		}
	}
	if ports != nil {
		require.NoError(t, unstructured.SetNestedSlice(obj.Object, ports, "spec", "ports"))
	}
}

// enforceNamespace creates a fresh enforce namespace and waits until the
// webhook reviews requests in it: a server-side dry-run of a Service with
// sessionAffinity under spec.selector (SVC-001) must be denied.
func enforceNamespace(t *testing.T, c client.Client) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: uniq("realworld"), Labels: map[string]string{sticky.LabelMode: "enforce"},
	}}
	require.NoError(t, c.Create(ctx(t), ns))
	probe := service(ns.Name, "probe", "probe", brokenSelector)
	err := wait.PollUntilContextTimeout(ctx(t), 100*time.Millisecond, 15*time.Second, true,
		func(ctx context.Context) (bool, error) {
			err := c.Create(ctx, probe.DeepCopy(), client.DryRunAll)
			return apierrors.IsInvalid(err), nil
		})
	require.NoError(t, err, "the webhook never reviewed requests in namespace %s", ns.Name)
	return ns.Name
}

// deniedBy returns the stickyguard rule IDs of a webhook's 422 denial, or
// nil when err is not one. A denial whose causes name no rule yields
// "unnamed" so that it is reported, not mistaken for another error.
func deniedBy(err error) []string {
	var st apierrors.APIStatus
	if !apierrors.IsInvalid(err) || !errors.As(err, &st) || !strings.Contains(err.Error(), "admission webhook") {
		return nil
	}
	rules := []string{}
	if d := st.Status().Details; d != nil {
		for _, c := range d.Causes {
			if m := causeRule.FindStringSubmatch(c.Message); m != nil {
				rules = append(rules, m[1])
			}
		}
	}
	if len(rules) == 0 {
		rules = append(rules, "unnamed")
	}
	return rules
}

type realworldCounts struct{ created, skipped int }

// createFile creates one file's objects in a fresh enforce namespace and
// returns the rules that denied any of them.
func createFile(t *testing.T, c client.Client, path string, counts *realworldCounts) []string {
	t.Helper()
	objs := decodeObjects(t, path)
	require.NotEmpty(t, objs)
	sort.SliceStable(objs, func(i, j int) bool { return createOrder(objs[i].GetKind()) < createOrder(objs[j].GetKind()) })
	ns := enforceNamespace(t, c)
	var denied []string
	for _, obj := range objs {
		gvk := obj.GroupVersionKind()
		mapping, err := c.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
		if meta.IsNoMatchError(err) {
			t.Logf("skipped %s %s: the kind is not served by this API server (no CRD)", gvk, obj.GetName())
			counts.skipped++
			continue
		}
		require.NoError(t, err, gvk.String())
		namespaced := mapping.Scope.Name() == meta.RESTScopeNameNamespace
		prepare(t, obj, ns, namespaced)
		err = c.Create(ctx(t), obj)
		if rules := deniedBy(err); rules != nil {
			t.Logf("%s %s denied: %v", gvk.Kind, obj.GetName(), err)
			denied = append(denied, rules...)
			continue
		}
		require.NoError(t, err, "creating %s %s", gvk.Kind, obj.GetName())
		if !namespaced {
			created := obj.DeepCopy()
			t.Cleanup(func() { assert.NoError(t, client.IgnoreNotFound(c.Delete(context.Background(), created))) })
		}
		if checkedKinds[gvk.Kind] {
			counts.created++
		}
	}
	return denied
}

// TestRealWorldValidSetAdmitted creates every real-world configuration on
// the API server with the webhook in an enforce namespace and expects each
// object to be admitted: a denial is a finding unless it is listed in
// knownWrongDenials.txt, and a listed entry must still reproduce.
func TestRealWorldValidSetAdmitted(t *testing.T) {
	c, err := client.New(suite.cfg, client.Options{})
	require.NoError(t, err)
	known := loadKnownWrongDenials(t, "serve")
	files, err := filepath.Glob(filepath.Join(realworldDir, "*.yaml"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 40)
	var counts realworldCounts
	for _, f := range files {
		base := filepath.Base(f)
		t.Run(base, func(t *testing.T) {
			denied := createFile(t, c, f, &counts)
			for _, rule := range denied {
				assert.Contains(t, known[base], rule, "%s: a real-world valid configuration was denied by %s", base, rule)
			}
			for _, rule := range known[base] {
				assert.Contains(t, denied, rule, "%s: %s is listed in knownWrongDenials.txt but no longer denied: remove the entry", base, rule)
			}
		})
	}
	t.Logf("%d objects of checked kinds created, %d skipped (kind not served)", counts.created, counts.skipped)
	assert.GreaterOrEqual(t, counts.created, 40, "objects of checked kinds created")
}
