package corpus

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/engine"
	"github.com/stickyguard/stickyguard/internal/sticky"
	"github.com/stickyguard/stickyguard/internal/testenv"
	"github.com/stickyguard/stickyguard/validators"
	"github.com/stickyguard/stickyguard/webhook"
)

// The offline parity rule of issue 13: for any object, `stickyguard check`
// with the installed Gateway API bundle gives the verdict the real API
// server and the real webhook give. For every file of testdata/gateway and
// testdata/mesh, on three real bundles (Gateway API v1.6.3 experimental,
// v1.7.0 experimental, v1.6.3 standard; with Envoy Gateway v1.9.1, Istio
// v1.32.0 and the stand-in GCPBackendPolicy CRD), each document in file
// order is
//
//   - checked offline (engine.CheckDocuments, Offline, the bundle set as
//     `check --gateway-api` sets it) together with the documents the
//     cluster already holds, and
//   - created with server-side dry-run and strict field validation (what
//     kubectl apply sends) in an enforce namespace, `stickyguard serve`
//     (webhook.NewServer) answering the reviews;
//
// then stored for real when admitted, so the next documents see it. The
// verdicts must agree: denied by a live rule offline means denied by the
// webhook naming the rule; denied by an offline rule (a mirror of the CRD
// schema, its CEL rules or pruning) means rejected by the API server itself;
// admitted means admitted, with warnings of the same live rules. Before
// each dry run the webhook's cache must show the rules the same related
// objects as the offline index (engine.RelatedOf through the server's
// Lookup), so the comparison never races the informers.

// parityBundle is one installed Gateway API bundle.
type parityBundle struct {
	crds             string // hack/gateway-crds.sh bundle
	version, channel string
}

var parityBundles = []parityBundle{
	{"gateway-api-v1.6.3-experimental", "v1.6.3", apis.ChannelExperimental},
	{"gateway-api-v1.7.0-experimental", "v1.7.0", apis.ChannelExperimental},
	{"gateway-api-v1.6.3-standard", "v1.6.3", apis.ChannelStandard},
}

func (b parityBundle) bundle() apis.GatewayBundle {
	return apis.BundleFor(b.version, b.channel, "--gateway-api "+b.version+"/"+b.channel)
}

// realServer is a kube-apiserver with the shipped webhook configurations
// and `stickyguard serve` behind them.
type realServer struct {
	env      *envtest.Environment
	client   client.Client
	srv      *webhook.Server
	warnings *warningLog
}

// warningLog collects the warnings the API server returns.
type warningLog struct {
	mu   sync.Mutex
	list []string
}

func (w *warningLog) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warningLog) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.list
	w.list = nil
	return out
}

func startRealServer(t *testing.T, crds []string) *realServer {
	t.Helper()
	assets, err := testenv.AssetsDir()
	require.NoError(t, err)
	rs := &realServer{warnings: &warningLog{}}
	rs.env = &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDInstallOptions:     envtest.CRDInstallOptions{Paths: crds, ErrorIfPathMissing: true},
		WebhookInstallOptions: envtest.WebhookInstallOptions{
			Paths:            []string{filepath.Join(repoRoot(), "manifests", "base", "webhook-configurations.yaml")},
			LocalServingHost: "127.0.0.1",
		},
	}
	cfg, err := rs.env.Start()
	require.NoError(t, err, "starting envtest")
	t.Cleanup(func() { assert.NoError(t, rs.env.Stop()) })
	wio := rs.env.WebhookInstallOptions
	rs.srv, err = webhook.NewServer(webhook.ServerOptions{
		RESTConfig: cfg, Host: wio.LocalServingHost, Port: wio.LocalServingPort, CertDir: wio.LocalServingCertDir,
		MetricsBindAddress: "0", HealthProbeBindAddress: "0", ShutdownDelay: time.Millisecond,
		Registry: prometheus.NewRegistry(), Log: logr.Discard(),
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- rs.srv.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-stopped)
	})
	deadline := time.Now().Add(60 * time.Second)
	for rs.srv.Ready() != nil {
		require.True(t, time.Now().Before(deadline), "stickyguard serve not ready: %v", rs.srv.Ready())
		time.Sleep(100 * time.Millisecond)
	}
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = rs.warnings
	rs.client, err = client.New(cfg, client.Options{Scheme: webhook.NewScheme()})
	require.NoError(t, err)
	return rs
}

// parityFiles are the example files checked for parity.
func parityFiles(t *testing.T) []string {
	var out []string
	for _, dir := range []string{"gateway", "mesh"} {
		files, err := filepath.Glob(filepath.Join(repoRoot(), "testdata", dir, "*.yaml"))
		require.NoError(t, err)
		require.NotEmpty(t, files, "no examples in testdata/%s", dir)
		out = append(out, files...)
	}
	sort.Strings(out)
	return out
}

// parityDoc is one document of an example file: as written (for the API
// server) and as `check` reads it.
type parityDoc struct {
	raw *unstructured.Unstructured
	doc engine.Document
}

func readParityDocs(t *testing.T, file string) []parityDoc {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	rd := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []parityDoc
	for i := 1; ; i++ {
		chunk, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		u := &unstructured.Unstructured{}
		require.NoError(t, yaml.Unmarshal(chunk, &u.Object))
		if u.Object == nil || u.GetKind() == "" {
			continue
		}
		docs, err := engine.ReadDocuments(fmt.Sprintf("%s#%d", filepath.Base(file), i), bytes.NewReader(chunk))
		require.NoError(t, err)
		require.Len(t, docs, 1)
		out = append(out, parityDoc{raw: u, doc: docs[0]})
	}
}

func TestCheckParityWithAPIServerAndWebhook(t *testing.T) {
	files := parityFiles(t)
	for _, b := range parityBundles {
		t.Run(b.crds, func(t *testing.T) {
			crds, err := crdFiles(b.crds, "envoy-gateway-v1.9.1", "istio-v1.32.0")
			require.NoError(t, err)
			rs := startRealServer(t, append(crds, gkeCRD()))
			verdicts := map[string]int{}
			for i, f := range files {
				t.Run(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), func(t *testing.T) {
					rs.parityFile(t, f, fmt.Sprintf("parity-%d", i), b, verdicts)
				})
			}
			t.Logf("verdicts compared: %v", verdicts)
			// A walk that compares nothing, or only admissions, proves nothing.
			assert.Greater(t, verdicts[verdictAdmitted], len(files)/2, "admitted documents compared")
			assert.NotZero(t, verdicts[verdictAPIServer], "API server rejections compared")
			if b.channel == apis.ChannelExperimental {
				assert.NotZero(t, verdicts[verdictWebhook], "webhook denials compared")
			}
		})
	}
}

// parityFile runs one file in namespace ns, counting the verdicts compared.
func (rs *realServer) parityFile(t *testing.T, file, ns string, b parityBundle, verdicts map[string]int) {
	ctx := testCtx(t)
	require.NoError(t, rs.client.Create(ctx, namespaceObj(ns, "enforce")))
	var stored []engine.Document
	var cluster []*unstructured.Unstructured // cluster-scoped objects this file created
	t.Cleanup(func() {
		for _, o := range cluster {
			_ = rs.client.Delete(context.Background(), o)
		}
	})
	for _, d := range readParityDocs(t, file) {
		obj := d.raw.DeepCopy()
		if !clusterScoped(obj) {
			obj.SetNamespace(ns)
		}
		doc := d.doc
		if !clusterScoped(obj) {
			doc = inNamespace(d.doc, ns)
		}
		if doc.Object == nil || !doc.Checked() {
			// Context only (GatewayClass, Gateway): stored as written.
			if rs.store(t, obj, &cluster) {
				stored = append(stored, doc)
			}
			continue
		}
		checked, _, err := engine.CheckDocuments(append(copyDocs(stored), doc), engine.Options{Offline: true, Bundle: b.bundle()})
		require.NoError(t, err)
		off := checked[len(checked)-1]
		require.Equal(t, doc.Source, off.Doc.Source)

		if !rs.served(obj) {
			t.Logf("%s: %s is not served with %s; not compared", doc.Source, obj.GetKind(), b.crds)
			continue
		}
		rs.waitForCache(t, doc, stored, b)
		rs.warnings.take()
		live := rs.client.Create(ctx, obj.DeepCopy(), client.DryRunAll, client.FieldValidation(metav1.FieldValidationStrict))
		warnings := rs.warnings.take()
		t.Run(fmt.Sprintf("%s %s/%s", strings.TrimPrefix(doc.Source, filepath.Base(file)), doc.Kind, doc.Name), func(t *testing.T) {
			verdicts[assertSameVerdict(t, off.Result, live, warnings)]++
		})
		if live == nil && rs.store(t, obj, &cluster) {
			stored = append(stored, doc)
		}
	}
}

// Verdicts, as counted.
const (
	verdictAdmitted  = "admitted"
	verdictWebhook   = "denied by the webhook"
	verdictAPIServer = "rejected by the API server"
	verdictIstiod    = "denied by istiod (not running)"
)

// istiodRejects are the offline rules that mirror istiod's validating
// webhook, not the API server: the envtest cluster runs no istiod, so the
// API server admits what they deny (a cluster with Istio rejects it).
var istiodRejects = map[string]bool{
	"IST-004": true, // httpCookie.ttl: the CRD does not validate it; istiod's admitPilot fails to decode it
}

// assertSameVerdict compares check's result with the API server's answer
// and returns the verdict.
func assertSameVerdict(t *testing.T, off *engine.Result, live error, liveWarnings []string) string {
	var offlineRules, liveRules, istiod []string
	for _, e := range off.Errors {
		id := validators.RuleOf(e)
		r, ok := validators.RuleByID(id)
		switch {
		case ok && !r.Offline:
			liveRules = append(liveRules, id)
		case istiodRejects[id]:
			istiod = append(istiod, id)
		default:
			offlineRules = append(offlineRules, id)
		}
	}
	switch {
	case len(istiod) > 0 && len(offlineRules) == 0 && len(liveRules) == 0:
		require.NoError(t, live, "check denies %v, which only istiod's webhook enforces (none runs here)", istiod)
		t.Logf("check denies %v: istiod's validating webhook rejects it where Istio runs", istiod)
		return verdictIstiod
	case len(offlineRules) > 0:
		require.Error(t, live, "check denies %v (what the API server rejects before admission): the API server must reject it", offlineRules)
		assert.NotContains(t, live.Error(), "admission webhook", "rejected by the API server itself, not by a webhook")
		assert.True(t, apierrors.IsInvalid(live) || apierrors.IsBadRequest(live), "a schema, CEL or strict-decoding rejection: %v", live)
		return verdictAPIServer
	case len(liveRules) > 0:
		require.Error(t, live, "check denies %v: the webhook must deny it", liveRules)
		assert.Contains(t, live.Error(), "stickyguard.io\" denied the request", "denied by stickyguard's webhook")
		for _, id := range liveRules {
			assert.Contains(t, live.Error(), id, "the denial names %s", id)
		}
		return verdictWebhook
	default:
		require.NoError(t, live, "check admits it (warnings %v): the API server and the webhook must admit it", ruleIDs(off.Warnings))
		var want []string
		for _, id := range ruleIDs(off.Warnings) {
			if r, ok := validators.RuleByID(id); ok && !r.Offline {
				want = append(want, id)
			}
		}
		assert.Equal(t, want, warningRuleIDs(liveWarnings), "the same rules warn (live warnings %q)", liveWarnings)
		return verdictAdmitted
	}
}

func ruleIDs(ws validators.Warnings) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Rule)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

var warningRuleRE = regexp.MustCompile(`^(?:\[audit\] )?([A-Z]{2,4}-D?[0-9]{2,3})\b`)

// warningRuleIDs are the rule IDs that lead admission warnings.
func warningRuleIDs(ws []string) []string {
	var out []string
	for _, w := range ws {
		if m := warningRuleRE.FindStringSubmatch(w); m != nil {
			out = append(out, m[1])
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// store creates obj for real; a GatewayClass already there with another
// controllerName is replaced. It reports whether obj is now stored.
func (rs *realServer) store(t *testing.T, obj *unstructured.Unstructured, cluster *[]*unstructured.Unstructured) bool {
	t.Helper()
	if !rs.served(obj) {
		return false
	}
	err := rs.client.Create(testCtx(t), obj.DeepCopy(), client.FieldValidation(metav1.FieldValidationStrict))
	if clusterScoped(obj) && apierrors.IsAlreadyExists(err) {
		require.NoError(t, rs.client.Delete(testCtx(t), obj.DeepCopy()))
		require.Eventually(t, func() bool {
			return apierrors.IsNotFound(rs.client.Get(testCtx(t), client.ObjectKeyFromObject(obj), obj.DeepCopy()))
		}, 10*time.Second, 50*time.Millisecond)
		err = rs.client.Create(testCtx(t), obj.DeepCopy(), client.FieldValidation(metav1.FieldValidationStrict))
	}
	if err != nil {
		t.Logf("%s %s is not stored: %v", obj.GetKind(), obj.GetName(), err)
		return false
	}
	if clusterScoped(obj) {
		*cluster = append(*cluster, obj.DeepCopy())
	}
	return true
}

// served reports whether the API server serves the object's kind.
func (rs *realServer) served(obj *unstructured.Unstructured) bool {
	_, err := rs.client.RESTMapper().RESTMapping(obj.GroupVersionKind().GroupKind(), obj.GroupVersionKind().Version)
	return !meta.IsNoMatchError(err)
}

// waitForCache waits until the webhook's cache shows the rules for obj the
// related objects the offline index shows.
func (rs *realServer) waitForCache(t *testing.T, d engine.Document, stored []engine.Document, b parityBundle) {
	t.Helper()
	lk := rs.srv.Lookup()
	if p, ok := lk.(interface {
		Prepare(context.Context, schema.GroupKind) error
	}); ok {
		gk := schema.FromAPIVersionAndKind(d.APIVersion, d.Kind).GroupKind()
		require.NoError(t, p.Prepare(testCtx(t), gk))
	}
	idx := engine.NewIndex()
	for _, s := range stored {
		if s.Object != nil {
			idx.Put(s.Object)
		}
	}
	want, err := engine.RelatedOf(d.Object, engine.Options{Lookup: idx, Bundle: b.bundle()})
	if errors.Is(err, engine.ErrUnsupportedKind) {
		return // no related objects for this kind
	}
	require.NoError(t, err)
	var got validators.Related
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, err = engine.RelatedOf(d.Object, engine.Options{Lookup: lk})
		if err == nil && reflect.DeepEqual(relatedIDs(want), relatedIDs(got)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook's cache shows %v (err %v), the offline index %v", relatedIDs(got), err, relatedIDs(want))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// relatedIDs lists the objects a Related view holds (kind, namespace, name;
// a GatewayClass with its controller) and the bundle, for comparing views
// built from different copies of the same objects.
func relatedIDs(rel validators.Related) []string {
	var out []string
	b := rel.Gateway.Bundle
	out = append(out, fmt.Sprintf("bundle %s/%s shape %v idle %v", b.Version, b.Channel, b.Shape, b.IdleTimeout))
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if v.IsNil() {
				return
			}
			if o, ok := v.Interface().(metav1.Object); ok {
				id := fmt.Sprintf("%T %s/%s", v.Interface(), o.GetNamespace(), o.GetName())
				if gc, ok := v.Interface().(*apis.GatewayClass); ok {
					id += " " + gc.Spec.ControllerName
				}
				out = append(out, id)
				return
			}
			walk(v.Elem())
		case reflect.Struct:
			if v.Type() == reflect.TypeOf(apis.GatewayBundle{}) {
				return
			}
			for i := 0; i < v.NumField(); i++ {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		case reflect.Slice, reflect.Array:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		}
	}
	walk(reflect.ValueOf(rel))
	sort.Strings(out)
	return out
}

// inNamespace is a Document moved to ns (check reads objects without a
// namespace as "default"; live they are created in ns).
func inNamespace(d engine.Document, ns string) engine.Document {
	if d.Object != nil {
		c := d.Object.DeepCopyObject()
		if o, ok := c.(metav1.Object); ok {
			o.SetNamespace(ns)
		}
		d.Object = c
	}
	d.Namespace = ns
	return d
}

func copyDocs(ds []engine.Document) []engine.Document { return append([]engine.Document(nil), ds...) }

func namespaceObj(name, mode string) *corev1.Namespace {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if mode != "" {
		ns.Labels = map[string]string{sticky.LabelMode: mode}
	}
	return ns
}
