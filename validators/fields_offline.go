package validators

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Offline-only rules about the object as written: keys the typed decode
// does not know and keys written twice. Live admission never sees them:
// kubectl (strict field validation, its default) is refused before
// admission, other clients drop the key, and a YAML duplicate is collapsed
// by the client before the request is sent.
var (
	sgD02 = &Rule{
		ID: "SG-D02", Severity: Deny, Kinds: []string{KindService, KindIngress, KindDeployment, KindStatefulSet}, Family: "stickyguard", Offline: true,
		Title: "a key is not a field of the object at that position (mis-indented, misspelled or wrong case)",
		Fix:   "move the key to where it belongs, spelled as the API field",
		Explain: "Field names are case-sensitive and each field has one position. kubectl's default strict field " +
			"validation rejects an unknown field with 400 before admission; other clients (and kubectl --validate=false) " +
			"silently drop it, so the value is lost and the API default applies instead. When the key is a known " +
			"sticky-session key, an annotation, or differs from a field only by case, the message names where it belongs.",
		Source: "sigs.k8s.io/json strict decoding (DisallowUnknownFields); KEP-2885 server-side field validation; kubectl --validate default strict",
	}
	sgD03 = &Rule{
		ID: "SG-D03", Severity: Warn, Kinds: []string{KindService, KindIngress, KindDeployment, KindStatefulSet}, Family: "stickyguard", Offline: true,
		Title: "a key is written twice in the same mapping; only the last one is kept",
		Fix:   "merge the two into one key",
		Explain: "kubectl and Helm convert YAML to JSON before sending it, keeping the last of duplicate keys; a whole " +
			"earlier block (e.g. a first spec:) is then lost without an error.",
		Source: "sigs.k8s.io/yaml YAMLToJSON (last key wins); YAMLToJSONStrict reports the duplicate",
	}
)

// DuplicateKey is the SG-D03 warning for a YAML key written twice; line is
// the line of the later occurrence in the input file (0 when unknown).
func DuplicateKey(key string, line int) Warning {
	where := ""
	if line > 0 {
		where = " (line " + strconv.Itoa(line) + ")"
	}
	return Warning{Rule: sgD03.ID, Value: key, Detail: message(sgD03, fmt.Sprintf("key %q is written twice%s; the earlier value is lost", clipValue(key), where))}
}

// UnknownFields turns the paths of unknown fields reported by a strict
// decode of obj (a pointer to the typed object, e.g. *corev1.Service; paths
// as sigs.k8s.io/json reports them, e.g. "spec.ports[0].sessionAffinity")
// into SVC-D02 findings for sticky-session keys of a Service and SG-D02
// findings for the others. misplaced lists, for keys whose right position is
// known, that position (e.g. "spec.sessionAffinity"), so no default is
// filled over a value the user wrote in the wrong place.
func UnknownFields(obj any, kind string, paths []string) (errs field.ErrorList, misplaced []string) {
	t := reflect.TypeOf(obj)
	var f findings
	for _, s := range paths {
		u := locate(t, s)
		if u.holder != nil && vendorFields[u.holder.Name()+"."+u.key] {
			continue
		}
		r := sgD02
		if kind == KindService && u.sticky() {
			r = svcD02
		}
		details, belongs := u.explain(kind)
		if belongs != "" {
			misplaced = append(misplaced, belongs)
		}
		f.forbidden(r, u.path, fitting(r, u.path, details))
	}
	return f.errs, misplaced
}

// vendorFields are fields that a provider's API server adds to an upstream
// type (Go struct name "." JSON name); they are not reported. Huawei CCE
// documents spec.rules[].http.paths[].property on Ingress
// (ingress.beta.kubernetes.io/url-match-mode).
var vendorFields = map[string]bool{"HTTPIngressPath.property": true}

// unknownField is one unknown key located in the typed object's structure.
type unknownField struct {
	path   *field.Path  // where it was written, the key last
	parent *field.Path  // the object holding it (nil at the top level)
	holder reflect.Type // the Go struct holding it (nil when not a struct)
	key    string
}

// locate walks the Go type along a strict-decoder path, so that a key with
// dots (an annotation written as a field) stays one key.
func locate(t reflect.Type, s string) unknownField {
	var p *field.Path
	rest := s
	for {
		t = deref(t)
		switch t.Kind() {
		case reflect.Slice, reflect.Array:
			end := strings.IndexByte(rest, ']')
			if !strings.HasPrefix(rest, "[") || end < 0 {
				return unknownAt(p, nil, rest)
			}
			i, err := strconv.Atoi(rest[1:end])
			if err != nil || p == nil {
				return unknownAt(p, nil, rest)
			}
			p, t, rest = p.Index(i), t.Elem(), strings.TrimPrefix(rest[end+1:], ".")
		case reflect.Struct:
			name, after := cutSegment(rest)
			ft, ok := jsonField(t, name)
			switch {
			case !ok:
				return unknownAt(p, t, rest)
			case after == "":
				// The whole path names known fields (a key with dots
				// that reads as a path): report its last segment.
				return unknownAt(p, t, name)
			}
			p, t, rest = child(p, name), ft, after
		default:
			return unknownAt(p, nil, rest)
		}
	}
}

// unknownAt is the unknown key (clipped, for messages) inside parent.
func unknownAt(parent *field.Path, holder reflect.Type, key string) unknownField {
	key = clipValue(key)
	return unknownField{path: child(parent, key), parent: parent, holder: holder, key: key}
}

func cutSegment(s string) (name, rest string) {
	i := strings.IndexAny(s, ".[")
	if i < 0 {
		return s, ""
	}
	if s[i] == '.' {
		return s[:i], s[i+1:]
	}
	return s[:i], s[i:]
}

func child(p *field.Path, name string) *field.Path {
	if p == nil {
		return field.NewPath(name)
	}
	return p.Child(name)
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// jsonFields lists the JSON field names of a struct type, inline members
// included, with their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" && (sf.Anonymous || strings.Contains(opts, "inline")) && deref(sf.Type).Kind() == reflect.Struct {
			for n, ft := range jsonFields(deref(sf.Type)) {
				out[n] = ft
			}
			continue
		}
		if name == "" {
			if !sf.IsExported() {
				continue
			}
			name = sf.Name
		}
		out[name] = sf.Type
	}
	return out
}

func jsonField(t reflect.Type, name string) (reflect.Type, bool) {
	ft, ok := jsonFields(t)[name]
	return ft, ok
}

// stickyHome is where each sticky-session key of a Service belongs.
var stickyHome = map[string]string{
	"sessionAffinity":       "spec.sessionAffinity",
	"sessionAffinityConfig": "spec.sessionAffinityConfig",
	"clientIP":              "spec.sessionAffinityConfig.clientIP",
	"timeoutSeconds":        "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
	"externalTrafficPolicy": "spec.externalTrafficPolicy",
	"internalTrafficPolicy": "spec.internalTrafficPolicy",
	"healthCheckNodePort":   "spec.healthCheckNodePort",
}

// workloadHome is where the keys of the spread default belong in a
// Deployment or StatefulSet.
var workloadHome = map[string]string{
	"affinity":        "spec.template.spec.affinity",
	"podAntiAffinity": "spec.template.spec.affinity.podAntiAffinity",
}

const nbsp = "\u00a0"

// bareKey is the key without surrounding spaces and non-breaking spaces.
func (u unknownField) bareKey() string { return strings.Trim(u.key, " \t"+nbsp) }

// stickyName returns the canonical sticky-session key the key stands for,
// comparing without case.
func stickyName(key string) (string, bool) {
	for k := range stickyHome {
		if strings.EqualFold(k, key) {
			return k, true
		}
	}
	return "", false
}

// sticky reports a Service key that SVC-D02 owns: a sticky-session key (in
// any case) anywhere, or any key inside sessionAffinityConfig.
func (u unknownField) sticky() bool {
	if _, ok := stickyName(u.bareKey()); ok {
		return true
	}
	return u.parent != nil && strings.HasPrefix(u.parent.String(), "spec.sessionAffinityConfig")
}

// fitting returns the first of the details, longest first, whose finding
// fits an admission warning (the last one otherwise).
func fitting(r *Rule, p *field.Path, details []string) string {
	for _, d := range details {
		if renderedLen(field.Forbidden(p, message(r, d)).WithOrigin(r.ID)) <= MessageBudget {
			return d
		}
	}
	return details[len(details)-1]
}

// explain says what is wrong with the key, as details from the most to the
// least helpful, and, when known, where it belongs (a field path, "" when
// unknown).
func (u unknownField) explain(kind string) (details []string, belongs string) {
	key := u.bareKey()
	where := u.where()
	var hint string
	switch {
	case u.holder != nil && sameFieldOtherCase(u.holder, key) != "":
		name := sameFieldOtherCase(u.holder, key)
		belongs = child(u.parent, name).String()
		hint = fmt.Sprintf("field names are case-sensitive: did you mean %s?", name)
	case strings.Contains(key, "/"):
		ann := metadataOf(u.parent).Child("annotations")
		belongs = ann.Key(key).String()
		hint = "an annotation belongs under " + ann.String()
	case key == "annotations" || key == "labels":
		belongs = metadataOf(u.parent).Child(key).String()
		hint = key + " belongs at " + belongs
	default:
		belongs, hint = homeOf(kind, key)
	}
	short := "not a field of " + where
	if strings.Contains(u.key, nbsp) {
		short += "; it contains non-breaking spaces (U+00A0): indent with plain spaces"
	}
	if hint != "" {
		details = append(details, short+"; "+hint)
	}
	return append(details, short, "not a field here"), belongs
}

func homeOf(kind, key string) (belongs, hint string) {
	if name, ok := stickyName(key); ok {
		if kind != KindService {
			return "", name + " is a Service field (Service " + stickyHome[name] + ")"
		}
		return stickyHome[name], name + " belongs at " + stickyHome[name]
	}
	if kind == KindDeployment || kind == KindStatefulSet {
		for k, home := range workloadHome {
			if strings.EqualFold(k, key) {
				return home, k + " belongs at " + home
			}
		}
	}
	return "", ""
}

// metadataOf is the object's metadata, or the pod template's when the key
// was written inside spec.template.
func metadataOf(parent *field.Path) *field.Path {
	if parent != nil && strings.HasPrefix(parent.String(), "spec.template") {
		return field.NewPath("spec", "template", "metadata")
	}
	return field.NewPath("metadata")
}

// friendly names for the structs users most often mis-indent into.
var holderNames = map[string]string{
	"ServicePort": "a port", "ObjectMeta": "metadata", "Container": "a container", "PodSpec": "the pod spec",
	"ContainerPort": "a container port", "HTTPIngressPath": "an Ingress path", "IngressRule": "an Ingress rule",
}

func (u unknownField) where() string {
	switch {
	case u.parent == nil:
		return "the object's top level"
	case u.holder != nil && holderNames[u.holder.Name()] != "":
		return holderNames[u.holder.Name()]
	}
	return u.parent.String()
}

// sameFieldOtherCase returns the field of t whose name equals key except
// for case, or "".
func sameFieldOtherCase(t reflect.Type, key string) string {
	var names []string
	for n := range jsonFields(t) {
		if n != key && strings.EqualFold(n, key) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

// ValidateMetaRaw inspects the string maps of metadata as written (an
// object decoded only as generic JSON): an annotation or label value that is
// not a string (an unquoted 600 or true) fails the typed decode, and the
// decode error does not name the key. It returns SG-D01 findings naming each
// key and the JSON paths to delete so the rest of the object still decodes.
// obj is not modified.
func ValidateMetaRaw(obj map[string]any) (field.ErrorList, [][]string) {
	var f findings
	var drop [][]string
	check := func(prefix []string, what string) {
		m, ok := lookupMap(obj, prefix)
		if !ok {
			return
		}
		for _, k := range mapKeys(m) {
			v := m[k]
			if _, isStr := v.(string); isStr || v == nil {
				continue
			}
			p := pathOf(prefix).Key(k)
			var value any = v
			if _, isMap := v.(map[string]any); isMap || isList(v) {
				value = clipEcho(jsonText(v))
			}
			detail := fitKey(k, func(key string) string {
				return fmt.Sprintf("%s %s is %s: quote it", what, key, jsonType(v))
			}, func(detail string) int {
				return renderedLen(field.Invalid(p, value, message(sgD01, detail)).WithOrigin(sgD01.ID))
			})
			f.invalid(sgD01, p, value, detail)
			drop = append(drop, append(append([]string{}, prefix...), k))
		}
	}
	for _, base := range [][]string{{"metadata"}, {"spec", "template", "metadata"}} {
		check(append(append([]string{}, base...), "annotations"), "annotation")
		check(append(append([]string{}, base...), "labels"), "label")
	}
	return f.errs, drop
}

// fitKey renders a detail naming key, shortening the key from its start
// (the end of an annotation key tells it apart) until the whole finding
// fits an admission warning.
func fitKey(key string, detail func(key string) string, rendered func(detail string) int) string {
	const budget = 256
	d := detail(key)
	drop := 0
	for over := rendered(d) - budget; over > 0 && len(key)-drop > 16; over = rendered(d) - budget {
		drop = min(drop+over+len("..."), len(key)-16)
		for drop < len(key) && !utf8.RuneStart(key[drop]) {
			drop++
		}
		d = detail("..." + key[drop:])
	}
	return d
}

func lookupMap(m map[string]any, path []string) (map[string]any, bool) {
	for _, k := range path {
		next, ok := m[k].(map[string]any)
		if !ok {
			return nil, false
		}
		m = next
	}
	return m, true
}

func pathOf(keys []string) *field.Path {
	p := field.NewPath(keys[0])
	for _, k := range keys[1:] {
		p = p.Child(k)
	}
	return p
}

// clipEcho shortens a value echoed in an offline finding (the field error
// quotes it once more) to 32 bytes at a rune boundary.
func clipEcho(s string) string { return clipTo(s, 32) }

func isList(v any) bool {
	_, ok := v.([]any)
	return ok
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
