package engine

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	kjson "sigs.k8s.io/json"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/validators"
)

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Items []json.RawMessage `json:"items"`
}

// splitDocument decodes one document (a JSON object), expanding kind: List.
// An item of a List that is not an object is an error.
func splitDocument(src string, js []byte) ([]Document, error) {
	var tm typeMeta
	if err := kjson.UnmarshalCaseSensitivePreserveInts(js, &tm); err != nil {
		// An object whose metadata has the wrong shape: report it as such.
		return []Document{{Source: src, RawErrors: field.ErrorList{validators.DecodeError(err)}}}, nil
	}
	if strings.HasSuffix(tm.Kind, "List") && tm.Items != nil {
		var out []Document
		for j, item := range tm.Items {
			isrc := fmt.Sprintf("%s.%d", src, j+1)
			item = []byte(strings.TrimSpace(string(item)))
			if len(item) == 0 || item[0] != '{' {
				return nil, fmt.Errorf("item %d of the %s is not an object (%s)", j+1, tm.Kind, clip(string(item)))
			}
			docs, err := splitDocument(isrc, item)
			if err != nil {
				return nil, err
			}
			out = append(out, docs...)
		}
		return out, nil
	}
	d := Document{Source: src, APIVersion: tm.APIVersion, Kind: tm.Kind, Name: tm.Metadata.Name, Namespace: tm.Metadata.Namespace}
	decode(&d, js)
	return []Document{d}, nil
}

func clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	cut := 40
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// checkedKinds are the kinds the rules run on, by apiVersion/kind, with a
// constructor for the typed object.
var checkedKinds = map[string]func() runtime.Object{
	"v1/Service":                   func() runtime.Object { return &corev1.Service{} },
	"networking.k8s.io/v1/Ingress": func() runtime.Object { return &networkingv1.Ingress{} },
	"apps/v1/Deployment":           func() runtime.Object { return &appsv1.Deployment{} },
	"apps/v1/StatefulSet":          func() runtime.Object { return &appsv1.StatefulSet{} },
}

func decode(d *Document, js []byte) {
	gvk := d.APIVersion + "/" + d.Kind
	if mk, ok := checkedKinds[gvk]; ok {
		decodeChecked(d, checkRaw(d, js), mk())
		return
	}
	if obj := apis.New(d.APIVersion, d.Kind); obj != nil {
		decodeGatewayKind(d, checkRaw(d, js))
		return
	}
	switch gvk {
	case "networking.k8s.io/v1/IngressClass":
		ic := &networkingv1.IngressClass{}
		if err := kjson.UnmarshalCaseSensitivePreserveInts(js, ic); err == nil {
			d.Object = ic
		}
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

// decodeGatewayKind decodes a kind of package apis (unknown fields ignored:
// what the installed CRDs would prune or reject is the rules' business,
// decided with the bundle). Gateways, GatewayClasses and CRDs are context:
// they resolve routes' implementations and the bundle, and no rule runs on
// them.
func decodeGatewayKind(d *Document, js []byte) {
	obj, err := apis.Decode(d.APIVersion, d.Kind, js)
	if err != nil {
		d.RawErrors = append(d.RawErrors, validators.DecodeError(err))
		if contextKinds[d.Kind] != "" {
			d.Skipped = contextKinds[d.Kind]
		}
		return
	}
	d.Object = obj
	if why := contextKinds[d.Kind]; why != "" {
		d.Skipped = why
	}
}

// contextKinds are the apis kinds that are read but not checked, with why.
var contextKinds = map[string]string{
	apis.KindGateway:                  "no rules for Gateway (used to resolve the implementation of routes)",
	apis.KindGatewayClass:             "no rules for GatewayClass (used to resolve the implementation of routes)",
	apis.KindCustomResourceDefinition: "no rules for CustomResourceDefinition (Gateway API CRDs tell the installed bundle)",
}

// checkRaw runs the findings on the object as written (wrong JSON types
// that the typed decode would only report as one error without the key)
// and returns the JSON to decode, without the values it reported.
func checkRaw(d *Document, js []byte) []byte {
	var raw map[string]any
	if err := json.Unmarshal(js, &raw); err != nil {
		return js
	}
	errs, drops := validators.ValidateMetaRaw(raw)
	d.RawErrors = append(d.RawErrors, errs...)
	if d.Kind == validators.KindService {
		errs, warns, more := validators.ValidateServiceRaw(raw)
		d.RawErrors = append(d.RawErrors, errs...)
		d.RawWarnings = append(d.RawWarnings, warns...)
		drops = append(drops, more...)
	}
	if len(drops) == 0 {
		return js
	}
	for _, p := range drops {
		deletePath(raw, p)
		// A value of the wrong type is lost too: no default over it.
		d.Misplaced = append(d.Misplaced, strings.Join(p, "."))
	}
	out, err := json.Marshal(raw)
	if err != nil {
		return js
	}
	return out
}

// decodeChecked decodes a checked kind as the API server does
// (sigs.k8s.io/json: case-sensitive field names); the unknown fields that
// its strict mode reports, which kubectl's default strict field validation
// refuses, become SG-D02/SVC-D02 findings.
func decodeChecked(d *Document, js []byte, obj runtime.Object) {
	strict, err := kjson.UnmarshalStrict(js, obj, kjson.DisallowUnknownFields)
	if err != nil {
		d.RawErrors = append(d.RawErrors, validators.DecodeError(err))
		return
	}
	d.Object = obj
	if len(strict) == 0 {
		return
	}
	paths := make([]string, 0, len(strict))
	for _, e := range strict {
		if fe, ok := e.(kjson.FieldError); ok {
			paths = append(paths, fe.FieldPath())
		}
	}
	errs, misplaced := validators.UnknownFields(obj, d.Kind, paths)
	d.RawErrors = append(d.RawErrors, errs...)
	d.Misplaced = append(d.Misplaced, misplaced...)
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
// (cloud.google.com) the rules use from the object's JSON, with field names
// case-sensitive as the API server's structural schema reads them.
func BackendConfigFromJSON(namespace, name string, js []byte) (*validators.BackendConfig, error) {
	var raw struct {
		Spec struct {
			SessionAffinity *struct {
				AffinityType         string          `json:"affinityType"`
				AffinityCookieTTLSec json.RawMessage `json:"affinityCookieTtlSec"`
			} `json:"sessionAffinity"`
		} `json:"spec"`
	}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(js, &raw); err != nil {
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

// misplacedByObject maps each document's object (kind/namespace/name) to
// the positions where its author wrote a key at a wrong position (offline).
func misplacedByObject(docs []Document) map[string][]string {
	var m map[string][]string
	for i := range docs {
		if d := &docs[i]; len(d.Misplaced) > 0 {
			if m == nil {
				m = map[string][]string{}
			}
			k := objectKey(d.Kind, d.Namespace, d.Name)
			m[k] = append(m[k], d.Misplaced...)
		}
	}
	return m
}

func objectKey(kind, namespace, name string) string { return kind + "/" + namespace + "/" + name }

// wroteElsewhere reports whether the author of the object wrote a value
// for path, or for a field around or inside it, at a wrong position: a
// default for path would then replace what the user meant, so it is not
// filled. Always false live (the API server dropped such keys).
func (o *Options) wroteElsewhere(kind, namespace, name, path string) bool {
	for _, p := range o.misplaced[objectKey(kind, namespace, name)] {
		if p == path || strings.HasPrefix(path, p+".") || strings.HasPrefix(p, path+".") || strings.HasPrefix(p, path+"[") {
			return true
		}
	}
	return false
}
