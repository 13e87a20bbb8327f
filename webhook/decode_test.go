package webhook

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsjson "sigs.k8s.io/json"
)

// The handlers decode with encoding/json/v2 (github.com/go-json-experiment/json)
// instead of sigs.k8s.io/json, the decoder of the API machinery's universal
// deserializer (admission.Decoder). These tests hold the two to the same
// answers: the same typed object for every document in testdata, and, under
// fuzzing, the same object or an error from both for arbitrary bytes.

// routeKinds are the kinds the routes decode, with a constructor each.
func routeKinds() map[schema.GroupVersionKind]func() runtime.Object {
	out := map[schema.GroupVersionKind]func() runtime.Object{}
	for _, r := range Routes() {
		out[r.Kind()] = r.kind.New
	}
	return out
}

// referenceDecode is what admission.Decoder does with a raw object.
func referenceDecode(raw []byte, obj runtime.Object) error {
	codecs := serializer.NewCodecFactory(NewScheme())
	_, _, err := codecs.UniversalDeserializer().Decode(raw, nil, obj)
	return err
}

func TestDecodeObjectMatchesUniversalDeserializer(t *testing.T) {
	kinds := routeKinds()
	var files []string
	for _, dir := range []string{"../testdata/examples", "../testdata/rules"} {
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".yaml") {
				files = append(files, p)
			}
			return err
		})
		require.NoError(t, err)
	}
	decoded := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		rd := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for {
			doc, err := rd.Read()
			if err != nil {
				break
			}
			raw, err := utilyaml.ToJSON(doc)
			if err != nil || len(bytes.TrimSpace(raw)) == 0 || string(raw) == "null" {
				continue
			}
			var tm struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if sigsjson.UnmarshalCaseSensitivePreserveInts(raw, &tm) != nil {
				continue
			}
			gvk := schema.FromAPIVersionAndKind(tm.APIVersion, tm.Kind)
			newObj, ok := kinds[gvk]
			if !ok {
				continue
			}
			got, want := newObj(), newObj()
			errGot := decodeObject(raw, got, gvk)
			errWant := referenceDecode(raw, want)
			require.Equal(t, errWant == nil, errGot == nil, "%s: decodeObject error %v, deserializer error %v", file, errGot, errWant)
			if errGot == nil {
				require.True(t, reflect.DeepEqual(want, got), "%s: objects differ\nwant %#v\ngot  %#v", file, want, got)
				decoded++
			}
		}
	}
	// The corpus is large; a walk that finds nothing is a broken test.
	require.Greater(t, decoded, 100, "documents decoded and compared")
}

// FuzzDecodeObject: for any bytes, decodeObject and sigs.k8s.io/json agree on
// whether they decode and, when they do, on the object.
func FuzzDecodeObject(f *testing.F) {
	for _, obj := range []runtime.Object{
		service(nsEnforce, "web", stickyLB), service(nsEnforce, "web", brokenSelector),
		deployment(nsEnforce, "web"), ingress(nsEnforce, "web", "web"),
	} {
		body := reviewJSON(f, admissionv1.Create, obj, nil)
		var ar admissionv1.AdmissionReview
		require.NoError(f, unmarshal(body, &ar))
		f.Add(ar.Request.Object.Raw)
	}
	f.Add([]byte(`{"spec":{"ports":[{"port":80,"port":"x"}]},"metadata":{"name":"a\ud800","name":"b"}}`))
	f.Add([]byte(`{"spec":{"sessionAffinityConfig":{"clientIP":{"timeoutSeconds":1.0}}}}`))
	f.Add([]byte(`{"metadata":{"creationTimestamp":"2026-01-01T00:00:00Z","labels":null},"spec":{"replicas":null}}`))
	// Custom resources: free-form maps keep integers.
	f.Add([]byte(`{"apiVersion":"gateway.envoyproxy.io/v1alpha1","kind":"BackendTrafficPolicy","spec":{"targetSelectors":[{"kind":"HTTPRoute","n":1}],"loadBalancer":{"type":"ConsistentHash","slowStart":{"window":"1s","x":2.5}}}}`))
	f.Add([]byte(`{"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute","spec":{"rules":[{"sessionPersistence":{"sessionName":"a","sessionName":"b"}}]}}`))
	kinds := routeKinds()
	var gvks []schema.GroupVersionKind
	for gvk := range kinds {
		gvks = append(gvks, gvk)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, gvk := range gvks {
			got, want := kinds[gvk](), kinds[gvk]()
			errGot := decodeObject(raw, got, gvk)
			errWant := sigsjson.UnmarshalCaseSensitivePreserveInts(raw, want)
			if errWant == nil && errGot != nil && !strings.Contains(errGot.Error(), "this path admits") {
				t.Fatalf("%s: sigs.k8s.io/json decodes, decodeObject fails: %v", gvk.Kind, errGot)
			}
			if errWant != nil && errGot == nil {
				t.Fatalf("%s: sigs.k8s.io/json fails (%v), decodeObject decodes", gvk.Kind, errWant)
			}
			if errGot == nil && !reflect.DeepEqual(want, got) {
				t.Fatalf("%s: objects differ\nwant %#v\ngot  %#v", gvk.Kind, want, got)
			}
		}
	})
}

// FuzzDecodeReview: the AdmissionReview envelope decodes the same with the
// handlers' decoder as with sigs.k8s.io/json.
func FuzzDecodeReview(f *testing.F) {
	for _, obj := range []runtime.Object{service(nsEnforce, "web", stickyLB), deployment(nsEnforce, "web")} {
		f.Add(reviewJSON(f, admissionv1.Create, obj, nil))
		f.Add(reviewJSON(f, admissionv1.Update, obj, obj))
	}
	f.Add([]byte(`{"request":{"uid":"x","userInfo":{"extra":{"a":["b"],"c":null}},"dryRun":true,"options":null}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var got, want admissionv1.AdmissionReview
		errGot := unmarshal(body, &got)
		errWant := sigsjson.UnmarshalCaseSensitivePreserveInts(body, &want)
		if (errGot == nil) != (errWant == nil) {
			t.Fatalf("decoder errors differ: handlers %v, sigs.k8s.io/json %v", errGot, errWant)
		}
		if errGot == nil && !reflect.DeepEqual(want, got) {
			t.Fatalf("reviews differ\nwant %#v\ngot  %#v", want, got)
		}
	})
}
