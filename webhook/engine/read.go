package engine

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/stickyguard/stickyguard/validators"
)

// MaxInputBytes bounds one input file or stream.
const MaxInputBytes = 64 << 20

// Document is one object read from a manifest.
type Document struct {
	// Source is "FILE#DOC" (1-based document index; "FILE#DOC.ITEM" for the
	// items of a kind: List).
	Source     string
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
	// Object is the typed object for checked kinds and IngressClasses; nil
	// when the kind is not checked or it did not decode.
	Object runtime.Object
	// BackendConfig is set for GKE BackendConfigs.
	BackendConfig *validators.BackendConfig
	// RawErrors and RawWarnings are findings on the object as written (before
	// the typed decode), e.g. SVC-D01 for timeoutSeconds: "600".
	RawErrors   field.ErrorList
	RawWarnings validators.Warnings
	// Skipped says why the object is not checked ("" when it is).
	Skipped string
}

// Checked reports whether rules run on the document.
func (d *Document) Checked() bool { return d.Skipped == "" }

// ReadError is input that is not YAML/JSON at all.
type ReadError struct {
	Source string
	Err    error
}

func (e *ReadError) Error() string { return e.Source + ": " + e.Err.Error() }
func (e *ReadError) Unwrap() error { return e.Err }

// ReadDocuments splits a YAML or JSON stream into objects. A stream that is
// not YAML/JSON is a *ReadError naming the document; objects of kinds
// stickyguard does not check come back with Skipped set.
func ReadDocuments(source string, r io.Reader) ([]Document, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInputBytes+1))
	if err != nil {
		return nil, &ReadError{Source: source, Err: err}
	}
	if len(data) > MaxInputBytes {
		return nil, &ReadError{Source: source, Err: fmt.Errorf("input is larger than %d MiB", MaxInputBytes>>20)}
	}
	if !isText(data) {
		return nil, &ReadError{Source: source, Err: errors.New("input is not text (YAML or JSON expected)")}
	}
	yr := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs []Document
	for i := 1; ; i++ {
		chunk, err := yr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		src := fmt.Sprintf("%s#%d", source, i)
		if err != nil {
			return nil, &ReadError{Source: src, Err: err}
		}
		if len(bytes.TrimSpace(stripComments(chunk))) == 0 {
			continue
		}
		js, err := yaml.YAMLToJSON(chunk)
		if err != nil {
			return nil, &ReadError{Source: src, Err: fmt.Errorf("not valid YAML/JSON: %w", err)}
		}
		docs = append(docs, splitDocument(src, js)...)
	}
	return docs, nil
}

func isText(b []byte) bool {
	n := len(b)
	if n > 8192 {
		n = 8192
	}
	return !bytes.ContainsRune(b[:n], 0)
}

// stripComments drops YAML comment lines so a document of comments only
// counts as empty.
func stripComments(b []byte) []byte {
	var out bytes.Buffer
	for _, line := range bytes.Split(b, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			out.Write(line)
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Items []json.RawMessage `json:"items"`
}

// splitDocument decodes one document, expanding kind: List.
func splitDocument(src string, js []byte) []Document {
	var tm typeMeta
	if err := json.Unmarshal(js, &tm); err != nil {
		if bytes.HasPrefix(bytes.TrimSpace(js), []byte("{")) {
			// An object whose metadata has the wrong shape: report it as such.
			return []Document{{Source: src, Skipped: "", RawErrors: field.ErrorList{validators.DecodeError(err)}}}
		}
		return []Document{{Source: src, Skipped: "not a Kubernetes object (a YAML mapping with apiVersion and kind expected)"}}
	}
	if strings.HasSuffix(tm.Kind, "List") && tm.Items != nil {
		var out []Document
		for j, item := range tm.Items {
			out = append(out, splitDocument(fmt.Sprintf("%s.%d", src, j+1), item)...)
		}
		return out
	}
	d := Document{Source: src, APIVersion: tm.APIVersion, Kind: tm.Kind, Name: tm.Metadata.Name, Namespace: tm.Metadata.Namespace}
	decode(&d, js)
	return []Document{d}
}

func decode(d *Document, js []byte) {
	switch gvk := d.APIVersion + "/" + d.Kind; gvk {
	case "v1/Service":
		var raw map[string]any
		if err := json.Unmarshal(js, &raw); err == nil {
			errs, warns, drops := validators.ValidateServiceRaw(raw)
			d.RawErrors, d.RawWarnings = errs, warns
			if len(drops) > 0 {
				for _, p := range drops {
					deletePath(raw, p)
				}
				js, _ = json.Marshal(raw)
			}
		}
		decodeInto(d, js, &corev1.Service{})
	case "networking.k8s.io/v1/Ingress":
		decodeInto(d, js, &networkingv1.Ingress{})
	case "apps/v1/Deployment":
		decodeInto(d, js, &appsv1.Deployment{})
	case "networking.k8s.io/v1/IngressClass":
		decodeInto(d, js, &networkingv1.IngressClass{})
		d.Skipped = "no rules for IngressClass (used to resolve ingress classes)"
	case "cloud.google.com/v1/BackendConfig", "cloud.google.com/v1beta1/BackendConfig":
		d.BackendConfig = decodeBackendConfig(d, js)
	case "extensions/v1beta1/Ingress", "networking.k8s.io/v1beta1/Ingress":
		d.Skipped = d.APIVersion + " Ingress is no longer served (since Kubernetes 1.22); convert it to networking.k8s.io/v1"
	default:
		if d.Kind == "" || d.APIVersion == "" {
			d.Skipped = "not a Kubernetes object (apiVersion and kind are required)"
		} else {
			d.Skipped = "kind not checked by stickyguard"
		}
	}
}

func decodeInto(d *Document, js []byte, obj runtime.Object) {
	if err := json.Unmarshal(js, obj); err != nil {
		d.RawErrors = append(d.RawErrors, validators.DecodeError(err))
		return
	}
	d.Object = obj
}

func deletePath(m map[string]any, path []string) {
	for i, k := range path {
		if i == len(path)-1 {
			delete(m, k)
			return
		}
		next, ok := m[k].(map[string]any)
		if !ok {
			return
		}
		m = next
	}
}

// decodeBackendConfig reads the parts of a BackendConfig the rules use;
// on a decode error it records it on d and returns nil.
func decodeBackendConfig(d *Document, js []byte) *validators.BackendConfig {
	bc, err := BackendConfigFromJSON(d.Namespace, d.Name, js)
	if err != nil {
		d.RawErrors = append(d.RawErrors, validators.DecodeError(err))
		return nil
	}
	return bc
}

// BackendConfigFromJSON reads the parts of a GKE BackendConfig
// (cloud.google.com) the rules use from the object's JSON.
func BackendConfigFromJSON(namespace, name string, js []byte) (*validators.BackendConfig, error) {
	var raw struct {
		Spec struct {
			SessionAffinity *struct {
				AffinityType         string          `json:"affinityType"`
				AffinityCookieTTLSec json.RawMessage `json:"affinityCookieTtlSec"`
			} `json:"sessionAffinity"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(js, &raw); err != nil {
		return nil, err
	}
	bc := &validators.BackendConfig{Namespace: namespace, Name: name}
	if sa := raw.Spec.SessionAffinity; sa != nil {
		bc.SessionAffinity = &validators.BackendConfigAffinity{AffinityType: sa.AffinityType}
		if len(sa.AffinityCookieTTLSec) > 0 && string(sa.AffinityCookieTTLSec) != "null" {
			bc.SessionAffinity.TTLSet = true
			var n int64
			if err := json.Unmarshal(sa.AffinityCookieTTLSec, &n); err != nil {
				return nil, fmt.Errorf("spec.sessionAffinity.affinityCookieTtlSec: %w", err)
			}
			bc.SessionAffinity.AffinityCookieTTLSec = &n
		}
	}
	return bc, nil
}
