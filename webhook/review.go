package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	admissionv1beta1 "k8s.io/api/admission/v1beta1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// reviewServer is the HTTP side of one route: it reads the AdmissionReview,
// calls the route's admission.Webhook (Handle: panic recovery, the response
// UID, patch rendering) and writes the answer, exactly as
// admission.Webhook.ServeHTTP does, except that the review is decoded
// straight into its Go type (unmarshal: the same answers as the universal
// deserializer, which first reads the whole body once more to find
// apiVersion and kind, in half the time). Both AdmissionReview versions
// have the same shape; the answer has the request's version (v1 unless it
// says v1beta1).
type reviewServer struct {
	wh  *admission.Webhook
	log logr.Logger
}

var _ http.Handler = reviewServer{}

// newReviewServer serves wh, logging with the route's logger.
func newReviewServer(wh *admission.Webhook) reviewServer {
	log := logr.Discard()
	if wh.LogConstructor != nil {
		log = wh.LogConstructor(log, nil)
	}
	return reviewServer{wh: wh, log: log}
}

func (s reviewServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody {
		s.fail(w, http.StatusBadRequest, errors.New("request body is empty"))
		return
	}
	defer r.Body.Close()
	// The hard bound; limitBody applies the configured (usually equal) one first.
	lr := &io.LimitedReader{R: r.Body, N: DefaultMaxRequestBytes}
	bp := bodyPool.Get().(*[]byte)
	body, err := readAll(lr, (*bp)[:0], r.ContentLength)
	defer func() {
		// The decoded review holds copies (strings, RawExtension bytes),
		// never the body itself, so the buffer can be reused.
		if cap(body) <= maxPooledBody {
			*bp = body[:0]
			bodyPool.Put(bp)
		}
	}()
	if err != nil {
		s.fail(w, http.StatusBadRequest, err)
		return
	}
	if lr.N <= 0 {
		s.fail(w, http.StatusRequestEntityTooLarge, fmt.Errorf("request entity is too large; limit is %d bytes", DefaultMaxRequestBytes))
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		s.fail(w, http.StatusBadRequest, fmt.Errorf("contentType=%s, expected application/json", ct))
		return
	}
	req := admission.Request{}
	ar := admissionv1.AdmissionReview{Request: &req.AdmissionRequest}
	if err := unmarshal(body, &ar); err != nil {
		s.fail(w, http.StatusBadRequest, err)
		return
	}
	resp := s.wh.Handle(r.Context(), req)
	out := admissionv1.AdmissionReview{Response: &resp.AdmissionResponse}
	out.SetGroupVersionKind(admissionv1.SchemeGroupVersion.WithKind("AdmissionReview"))
	if ar.APIVersion == admissionv1beta1.SchemeGroupVersion.String() {
		out.SetGroupVersionKind(admissionv1beta1.SchemeGroupVersion.WithKind("AdmissionReview"))
	}
	s.write(w, out)
}

// bodyPool recycles request body buffers: reading each review into a
// fresh, doubling buffer was an eighth of a review's allocations.
var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// maxPooledBody: larger buffers (rare, huge objects) are left to the GC.
const maxPooledBody = 1 << 20

// readAll reads r into buf (grown as needed), sized from the
// Content-Length when the client sent one.
func readAll(r io.Reader, buf []byte, size int64) ([]byte, error) {
	if size > 0 && size < DefaultMaxRequestBytes && int64(cap(buf)) < size+1 {
		buf = make([]byte, 0, size+1)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// fail answers a request that could not be read, like controller-runtime:
// an AdmissionReview whose response carries the error status.
func (s reviewServer) fail(w http.ResponseWriter, code int32, err error) {
	s.log.Error(err, "unable to read the admission request")
	resp := admission.Errored(code, err)
	s.write(w, admissionv1.AdmissionReview{Response: &resp.AdmissionResponse})
}

func (s reviewServer) write(w http.ResponseWriter, ar admissionv1.AdmissionReview) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(ar); err != nil {
		s.log.Error(err, "unable to encode and write the response")
	}
}
