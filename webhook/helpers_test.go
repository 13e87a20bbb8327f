package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/engine"
	"github.com/stickyguard/stickyguard/policy"
	"github.com/stickyguard/stickyguard/validators"
)

// Namespaces of the handler tests, by mode label.
const (
	nsEnforce = "shop"
	nsAudit   = "staging"
	nsOff     = "plain"   // no label
	nsOdd     = "strange" // unknown label value
)

// fakeModes is a ModeSource over a map of namespace -> label value.
type fakeModes struct {
	labels map[string]string
	err    error
}

func (f fakeModes) ModeLabel(_ context.Context, ns string) (string, bool, error) {
	if f.err != nil {
		return "", false, f.err
	}
	v, ok := f.labels[ns]
	return v, ok, nil
}

func defaultModes() fakeModes {
	return fakeModes{labels: map[string]string{nsEnforce: "enforce", nsAudit: "audit", nsOdd: "strict"}}
}

// fixture builds the real HTTP handlers over a fake lookup and modes.
type fixture struct {
	idx      *engine.Index
	modes    fakeModes
	policy   *policy.Policy
	force    bool
	metrics  *Metrics
	maxBytes int64
	handlers map[string]http.Handler
}

func newFixture(objs ...any) *fixture {
	f := &fixture{idx: engine.NewIndex(), modes: defaultModes()}
	for _, o := range objs {
		f.idx.Put(o)
	}
	return f
}

func (f *fixture) build() *fixture {
	d := Deps{Lookup: f.idx, Modes: f.modes, ForceAudit: f.force, Metrics: f.metrics}
	if f.policy != nil {
		d.Policy = StaticPolicy{f.policy}
	}
	f.handlers = HTTPHandlers(d, f.maxBytes)
	return f
}

// post sends a raw body to a path and decodes the AdmissionReview answer.
func (f *fixture) post(t testing.TB, path string, body []byte) *admissionv1.AdmissionResponse {
	t.Helper()
	if f.handlers == nil {
		f.build()
	}
	h, ok := f.handlers[path]
	require.True(t, ok, "no handler for %s", path)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	var out admissionv1.AdmissionReview
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out), rec.Body.String())
	require.NotNil(t, out.Response)
	return out.Response
}

// review sends obj (and old on UPDATE) to the route of the given half.
func (f *fixture) review(t testing.TB, half Half, op admissionv1.Operation, obj, old runtime.Object) *admissionv1.AdmissionResponse {
	t.Helper()
	return f.post(t, pathFor(t, half, obj), reviewJSON(t, op, obj, old))
}

func pathFor(t testing.TB, half Half, obj runtime.Object) string {
	t.Helper()
	gvk := gvkOf(obj)
	for _, r := range Routes() {
		if r.Half == half && r.Kind() == gvk {
			return r.Path
		}
	}
	t.Fatalf("no route for %s %v", half, gvk)
	return ""
}

func gvkOf(obj runtime.Object) (gvk schema.GroupVersionKind) {
	switch obj.(type) {
	case *corev1.Service:
		return services().GVK
	case *networkingv1.Ingress:
		return ingresses().GVK
	case *appsv1.Deployment:
		return deployments().GVK
	case *appsv1.StatefulSet:
		return statefulSets().GVK
	}
	// The custom resources of package apis carry their kind.
	return obj.GetObjectKind().GroupVersionKind()
}

// reviewJSON is the AdmissionReview the API server would send.
func reviewJSON(t testing.TB, op admissionv1.Operation, obj, old runtime.Object) []byte {
	t.Helper()
	gvk := gvkOf(obj)
	m := obj.(metav1.Object)
	req := &admissionv1.AdmissionRequest{
		UID:       types.UID("uid-" + m.GetName()),
		Kind:      metav1.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind},
		Resource:  metav1.GroupVersionResource{Group: gvk.Group, Version: gvk.Version, Resource: resourceOf(gvk.Kind)},
		Namespace: m.GetNamespace(),
		Name:      m.GetName(),
		Operation: op,
		Object:    runtime.RawExtension{Raw: mustJSON(t, withTypeMeta(obj))},
	}
	if old != nil {
		req.OldObject = runtime.RawExtension{Raw: mustJSON(t, withTypeMeta(old))}
	}
	return mustJSON(t, admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request:  req,
	})
}

func resourceOf(kind string) string {
	switch kind {
	case "Service":
		return "services"
	case "Ingress":
		return "ingresses"
	case "StatefulSet":
		return "statefulsets"
	case "Deployment":
		return "deployments"
	}
	for _, k := range cachedKinds() {
		if k.kind == kind {
			return k.gvr.Resource
		}
	}
	if r, ok := strings.CutSuffix(strings.ToLower(kind), "y"); ok {
		return r + "ies"
	}
	return strings.ToLower(kind) + "s"
}

func withTypeMeta(obj runtime.Object) runtime.Object {
	obj = obj.DeepCopyObject()
	gvk := gvkOf(obj)
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	return obj
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// patchOps decodes a response's JSON patch into generic operations.
func patchOps(t testing.TB, resp *admissionv1.AdmissionResponse) []map[string]any {
	t.Helper()
	if len(resp.Patch) == 0 {
		return nil
	}
	var ops []map[string]any
	require.NoError(t, json.Unmarshal(resp.Patch, &ops))
	return ops
}

// jsonValue turns a typed value into its generic JSON form for comparison
// with decoded patch values.
func jsonValue(t testing.TB, v any) any {
	t.Helper()
	var out any
	require.NoError(t, json.Unmarshal(mustJSON(t, v), &out))
	return out
}

// --- object builders ---

const annACKPersistence = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-persistence-timeout"

func service(ns, name string, mut ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{
			Type:            corev1.ServiceTypeClusterIP,
			Selector:        map[string]string{"app": "web"},
			Ports:           []corev1.ServicePort{{Name: "http", Port: 80}},
			SessionAffinity: corev1.ServiceAffinityNone,
		},
	}
	for _, m := range mut {
		m(s)
	}
	return s
}

// stickyLB is a LoadBalancer Service with ACK source-IP persistence, as the
// API server hands it to webhooks (externalTrafficPolicy defaulted).
func stickyLB(s *corev1.Service) {
	s.Spec.Type = corev1.ServiceTypeLoadBalancer
	s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	setAnn(s, annACKPersistence, "1800")
}

// brokenSelector puts sessionAffinity under spec.selector (SVC-001).
func brokenSelector(s *corev1.Service) {
	s.Spec.Selector = map[string]string{"app": "web", "sessionAffinity": "ClientIP"}
}

func setAnn(o metav1.Object, k, v string) {
	a := o.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[k] = v
	o.SetAnnotations(a)
}

func deployment(ns, name string, mut ...func(*appsv1.Deployment)) *appsv1.Deployment {
	labels := map[string]string{"app": "web"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(int32(3)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}
	for _, m := range mut {
		m(d)
	}
	return d
}

func statefulSet(ns, name string, mut ...func(*appsv1.StatefulSet)) *appsv1.StatefulSet {
	labels := map[string]string{"app": "web"}
	s := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr(int32(3)),
			ServiceName: name + "-headless",
			Selector:    &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}
	for _, m := range mut {
		m(s)
	}
	return s
}

func ingress(ns, name, backend string, mut ...func(*networkingv1.Ingress)) *networkingv1.Ingress {
	pt := networkingv1.PathTypePrefix
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr("nginx"),
			Rules: []networkingv1.IngressRule{{
				Host: "shop.example.com",
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{{
						Path: "/", PathType: &pt,
						Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
							Name: backend, Port: networkingv1.ServiceBackendPort{Number: 80},
						}},
					}},
				}},
			}},
		},
	}
	for _, m := range mut {
		m(ing)
	}
	return ing
}

// failingLookup answers every question with an error, like a cache that
// has not synced.
type failingLookup struct{}

func (failingLookup) IngressClass(string) (*networkingv1.IngressClass, error) {
	return nil, ErrCacheNotSynced
}
func (failingLookup) DefaultIngressClass() (*networkingv1.IngressClass, error) {
	return nil, ErrCacheNotSynced
}
func (failingLookup) Service(string, string) (*corev1.Service, error) { return nil, ErrCacheNotSynced }
func (failingLookup) ServicesSelecting(string, map[string]string) ([]*corev1.Service, error) {
	return nil, ErrCacheNotSynced
}
func (failingLookup) DeploymentsSelectedBy(string, map[string]string) ([]*appsv1.Deployment, error) {
	return nil, ErrCacheNotSynced
}
func (failingLookup) StatefulSetsSelectedBy(string, map[string]string) ([]*appsv1.StatefulSet, error) {
	return nil, ErrCacheNotSynced
}
func (failingLookup) IngressesForService(string, string) ([]*networkingv1.Ingress, error) {
	return nil, ErrCacheNotSynced
}
func (failingLookup) IngressesForHost(string, string) ([]*networkingv1.Ingress, error) {
	return nil, ErrCacheNotSynced
}
func (failingLookup) BackendConfigs(string) (map[string]*validators.BackendConfig, error) {
	return nil, ErrCacheNotSynced
}
func (failingLookup) GatewayBundle() (apis.GatewayBundle, error) {
	return apis.GatewayBundle{}, ErrCacheNotSynced
}
func (failingLookup) GatewayClass(string) (*apis.GatewayClass, error) { return nil, ErrCacheNotSynced }
func (failingLookup) Gateway(string, string) (*apis.Gateway, error)   { return nil, ErrCacheNotSynced }
func (failingLookup) Routes(string) ([]*apis.Route, error)            { return nil, ErrCacheNotSynced }
func (failingLookup) RoutesForParent(engine.ParentKey) ([]*apis.Route, error) {
	return nil, ErrCacheNotSynced
}
func (failingLookup) RoutesForBackend(string, string) ([]*apis.Route, error) {
	return nil, ErrCacheNotSynced
}
func (failingLookup) BackendPolicies(string) ([]*apis.BackendPolicy, error) {
	return nil, ErrCacheNotSynced
}
func (failingLookup) EnvoyPolicies(string) ([]*apis.EnvoyBackendTrafficPolicy, error) {
	return nil, ErrCacheNotSynced
}

// panickingLookup panics on the Deployment path.
type panickingLookup struct{ failingLookup }

func (panickingLookup) ServicesSelecting(string, map[string]string) ([]*corev1.Service, error) {
	panic("boom")
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

// newChunkedRequest is a POST without a Content-Length.
func newChunkedRequest(path string, body []byte) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, io.NopCloser(bytes.NewReader(body)))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	return req
}

func decodeReview(t testing.TB, b []byte) *admissionv1.AdmissionResponse {
	t.Helper()
	var out admissionv1.AdmissionReview
	require.NoError(t, json.Unmarshal(b, &out), string(b))
	require.NotNil(t, out.Response)
	return out.Response
}

func metaName(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name} }
