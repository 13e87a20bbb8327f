package webhook

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// discardWriter is a ResponseWriter that keeps the last answer in a reused
// buffer, so the benchmark measures the handler, not the recorder.
type discardWriter struct {
	h   http.Header
	buf bytes.Buffer
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return w.buf.Write(b) }
func (w *discardWriter) WriteHeader(int)             {}

// benchReview runs one AdmissionReview JSON through the real handler per
// iteration: decode, engine, patch/adapter, encode.
func benchReview(b *testing.B, f *fixture, half Half, obj runtime.Object, wantPatch bool) {
	f.build()
	path := pathFor(b, half, obj)
	body := reviewJSON(b, admissionv1.Create, obj, nil)
	h := f.handlers[path]
	w := &discardWriter{h: http.Header{}}
	u := &url.URL{Path: path}
	header := http.Header{"Content-Type": []string{"application/json"}}
	rd := bytes.NewReader(body)

	// Sanity check once.
	req := &http.Request{Method: http.MethodPost, URL: u, Header: header, Body: io.NopCloser(rd), ContentLength: int64(len(body))}
	h.ServeHTTP(w, req)
	resp := decodeReview(b, w.buf.Bytes())
	if !resp.Allowed || (len(resp.Patch) > 0) != wantPatch {
		b.Fatalf("unexpected answer: allowed=%v patch=%s result=%+v", resp.Allowed, resp.Patch, resp.Result)
	}

	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.buf.Reset()
		rd.Reset(body)
		req := &http.Request{Method: http.MethodPost, URL: u, Header: header, Body: io.NopCloser(rd), ContentLength: int64(len(body))}
		h.ServeHTTP(w, req)
	}
}

func BenchmarkReviewService(b *testing.B) {
	svc := service(nsEnforce, "web", stickyLB, func(s *corev1.Service) {
		s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
		s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr(int32(3600))}}
	})
	deps := func() *fixture { return newFixture(deployment(nsEnforce, "web"), ingress(nsEnforce, "web", "web")) }
	b.Run("mutate", func(b *testing.B) { benchReview(b, deps(), Mutating, svc, true) })
	b.Run("validate", func(b *testing.B) { benchReview(b, deps(), Validating, svc, false) })
}

func BenchmarkReviewIngress(b *testing.B) {
	ing := ingress(nsEnforce, "web", "web", func(i *networkingv1.Ingress) {
		setAnn(i, "nginx.ingress.kubernetes.io/affinity", "cookie")
		setAnn(i, "nginx.ingress.kubernetes.io/session-cookie-name", "route")
		setAnn(i, "nginx.ingress.kubernetes.io/session-cookie-max-age", "172800")
	})
	deps := func() *fixture {
		return newFixture(service(nsEnforce, "web"), &networkingv1.IngressClass{
			ObjectMeta: metaName("nginx"), Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}})
	}
	b.Run("mutate", func(b *testing.B) { benchReview(b, deps(), Mutating, ing, false) })
	b.Run("validate", func(b *testing.B) { benchReview(b, deps(), Validating, ing, false) })
}

func BenchmarkReviewDeployment(b *testing.B) {
	dep := deployment(nsEnforce, "web")
	deps := func() *fixture { return newFixture(service(nsEnforce, "web", stickyLB)) }
	b.Run("mutate", func(b *testing.B) { benchReview(b, deps(), Mutating, dep, true) })
	b.Run("validate", func(b *testing.B) { benchReview(b, deps(), Validating, dep, false) })
}
