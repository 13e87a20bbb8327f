package webhook

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/stickyguard/stickyguard/internal/sticky"
)

// FuzzReviewDecode feeds arbitrary bodies to every route: the handler must
// not panic (panic recovery is off here), must always answer with an
// AdmissionReview, and any patch it returns must apply to the object.
func FuzzReviewDecode(f *testing.F) {
	seeds := []runtime.Object{
		service(nsEnforce, "web", stickyLB),
		service(nsEnforce, "web", brokenSelector),
		service(nsAudit, "web", stickyLB),
		service(nsEnforce, "web", func(s *corev1.Service) { setAnn(s, sticky.AnnIgnore, "why\x00") }),
		deployment(nsEnforce, "web"),
		ingress(nsEnforce, "web", "web"),
	}
	routes := Routes()
	for _, obj := range seeds {
		for i, r := range routes {
			if r.Kind() == gvkOf(obj) {
				f.Add(uint8(i), reviewJSON(f, admissionv1.Create, obj, nil))
				f.Add(uint8(i), reviewJSON(f, admissionv1.Update, obj, obj))
			}
		}
	}
	f.Add(uint8(0), []byte(`{}`))
	f.Add(uint8(1), []byte(`{"request":{"operation":"CREATE","object":null}}`))
	f.Add(uint8(2), []byte(`{"request":{"uid":"x","operation":"UPDATE","namespace":"shop","object":{"kind":"Ingress","apiVersion":"networking.k8s.io/v1"},"oldObject":{"metadata":{"annotations":{"a":1}}}}}`))
	f.Add(uint8(4), []byte(`{"request":{"uid":"x","operation":"CREATE","namespace":"shop","object":{"apiVersion":"apps/v1","kind":"Deployment","spec":{"selector":{"matchExpressions":[{"key":"app","operator":"Exists"}]},"template":{"metadata":{"labels":{"app":"web"}}}}}}}`))

	idx := newFixture(service(nsEnforce, "web", stickyLB), service(nsAudit, "web", stickyLB)).idx
	hooks := NewWebhooks(Deps{Lookup: idx, Modes: defaultModes()})
	handlers := map[string]http.Handler{}
	for p, wh := range hooks {
		wh.RecoverPanic = ptr(false)
		handlers[p] = limitBody(1<<20, newReviewServer(wh))
	}

	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := routes[int(route)%len(routes)]
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, r.Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		handlers[r.Path].ServeHTTP(rec, req)

		var out admissionv1.AdmissionReview
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Response == nil {
			t.Fatalf("answer is not an AdmissionReview: %v: %s", err, rec.Body.String())
		}
		resp := out.Response
		if len(resp.Patch) == 0 {
			return
		}
		if !resp.Allowed || r.Half != Mutating {
			t.Fatalf("patch on a denial or from a validating webhook: %+v", resp)
		}
		var in admissionv1.AdmissionReview
		if err := json.Unmarshal(body, &in); err != nil || in.Request == nil {
			t.Fatalf("patched a request that does not decode: %v", err)
		}
		p, err := jsonpatch.DecodePatch(resp.Patch)
		if err != nil {
			t.Fatalf("invalid patch %s: %v", resp.Patch, err)
		}
		if _, err := p.Apply(in.Request.Object.Raw); err != nil {
			t.Fatalf("patch %s does not apply: %v", resp.Patch, err)
		}
	})
}
