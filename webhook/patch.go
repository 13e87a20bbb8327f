package webhook

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"

	"gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// patch computes the answer for a mutated object the way
// controller-runtime's typed Defaulter does: a JSON patch from the raw
// request object to the marshalled mutated object (so fields are not
// reordered or re-encoded), minus the "remove" operations that only come
// from our Go types not knowing a field the API server sent (a newer API
// field must never be deleted). An empty patch means nothing to change.
func patch(r *request, mutated runtime.Object) ([]jsonpatch.Operation, error) {
	// The namespace was filled in from the request for the rules; it is not
	// a change to the object.
	if m, err := meta.Accessor(mutated); err == nil {
		m.SetNamespace(r.rawNS)
	}
	r.meta.SetNamespace(r.rawNS)
	marshalled, err := json.Marshal(mutated)
	if err != nil {
		return nil, err
	}
	ops, err := rawPatch(r.req.Object.Raw, marshalled, "", nil)
	if err != nil {
		return nil, err
	}
	return dropSchemeRemovals(ops, r.obj, r.req.Object.Raw)
}

// patched is an allowed response carrying a JSON patch.
func patched(ops []jsonpatch.Operation) admission.Response {
	pt := admissionv1.PatchTypeJSONPatch
	return admission.Response{Patches: ops, AdmissionResponse: admissionv1.AdmissionResponse{Allowed: true, PatchType: &pt}}
}

// dropSchemeRemovals removes from ops every "remove" that a plain
// decode/encode round trip of the original object also produces: those
// remove fields our types do not know, not fields a mutator cleared. (The
// same technique as controller-runtime's defaulter.)
func dropSchemeRemovals(ops []jsonpatch.Operation, original runtime.Object, raw []byte) ([]jsonpatch.Operation, error) {
	if !slices.ContainsFunc(ops, func(o jsonpatch.Operation) bool { return o.Operation == "remove" }) {
		return ops, nil
	}
	marshalledOriginal, err := json.Marshal(original)
	if err != nil {
		return nil, err
	}
	roundTrip, err := rawPatch(raw, marshalledOriginal, "", nil)
	if err != nil {
		return nil, err
	}
	byScheme := map[string]bool{}
	for _, p := range roundTrip {
		if p.Operation == "remove" {
			byScheme[p.Path] = true
		}
	}
	return slices.DeleteFunc(ops, func(p jsonpatch.Operation) bool {
		return p.Operation == "remove" && byScheme[p.Path]
	}), nil
}

// rawPatch appends to ops the JSON patch that turns document a into b,
// under the JSON pointer prefix. It yields the operations
// jsonpatch.CreatePatch (what admission.PatchResponseFromRaw uses) yields,
// without decoding the whole object into maps: objects are split into
// their members in place, byte-identical members (almost all of an object)
// are skipped, and only differing leaves and arrays are handed to
// jsonpatch.CreatePatch. Added values stay raw JSON. Keys are visited in
// order, so the patch is deterministic.
func rawPatch(a, b []byte, prefix string, ops []jsonpatch.Operation) ([]jsonpatch.Operation, error) {
	a, b = bytes.TrimSpace(a), bytes.TrimSpace(b)
	if bytes.Equal(a, b) {
		return ops, nil
	}
	am, okA := objectMembers(a)
	bm, okB := objectMembers(b)
	if !okA || !okB {
		sub, err := jsonpatch.CreatePatch(a, b)
		if err != nil {
			return nil, err
		}
		for _, op := range sub {
			op.Path = prefix + op.Path
			ops = append(ops, op)
		}
		return ops, nil
	}
	var err error
	i, j := 0, 0
	for i < len(am) || j < len(bm) {
		var c int
		switch {
		case i == len(am):
			c = 1
		case j == len(bm):
			c = -1
		default:
			c = bytes.Compare(am[i].key, bm[j].key)
		}
		switch {
		case c < 0: // only in a
			ops = append(ops, jsonpatch.NewOperation("remove", pointer(prefix, am[i].key), nil))
			i++
		case c > 0: // only in b
			ops = append(ops, jsonpatch.NewOperation("add", pointer(prefix, bm[j].key), json.RawMessage(bm[j].val)))
			j++
		default:
			if !bytes.Equal(am[i].val, bm[j].val) {
				if ops, err = rawPatch(am[i].val, bm[j].val, pointer(prefix, am[i].key), ops); err != nil {
					return nil, err
				}
			}
			i++
			j++
		}
	}
	return ops, nil
}

// pointer appends an escaped key to a JSON pointer (RFC 6901).
func pointer(prefix string, key []byte) string {
	k := string(key)
	if strings.ContainsAny(k, "~/") {
		k = strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
	}
	return prefix + "/" + k
}

// member is one "key": value of a JSON object; key is unescaped.
type member struct{ key, val []byte }

// objectMembers splits a JSON object into its members sorted by key (the
// last of duplicate keys wins, as in encoding/json). ok is false when b is
// not an object or not well formed; callers then decode it fully.
func objectMembers(b []byte) (ms []member, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	ms = make([]member, 0, 16)
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return ms, skipSpace(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		end, escaped, ok := scanString(b, i)
		if !ok {
			return nil, false
		}
		key := b[i+1 : end-1]
		if escaped || !utf8.Valid(key) {
			var s string
			if json.Unmarshal(b[i:end], &s) != nil {
				return nil, false
			}
			key = []byte(s)
		}
		if i = skipSpace(b, end); i >= len(b) || b[i] != ':' {
			return nil, false
		}
		i = skipSpace(b, i+1)
		vend, ok := scanValue(b, i)
		if !ok {
			return nil, false
		}
		ms = append(ms, member{key, b[i:vend]})
		if i = skipSpace(b, vend); i >= len(b) {
			return nil, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			if skipSpace(b, i+1) != len(b) {
				return nil, false
			}
			slices.SortStableFunc(ms, func(x, y member) int { return bytes.Compare(x.key, y.key) })
			// Keep the last of duplicate keys.
			out := ms[:0]
			for k, m := range ms {
				if k+1 < len(ms) && bytes.Equal(ms[k+1].key, m.key) {
					continue
				}
				out = append(out, m)
			}
			return out, true
		default:
			return nil, false
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString returns the index after the string starting at b[i] == '"'.
func scanString(b []byte, i int) (end int, escaped, ok bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j + 1, escaped, true
		}
	}
	return 0, false, false
}

// scanValue returns the index after the JSON value starting at b[i]. It
// finds the value's end; whether the value is well formed is checked when
// it is decoded or re-encoded.
func scanValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		end, _, ok := scanString(b, i)
		return end, ok
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _, ok := scanString(b, j)
				if !ok {
					return 0, false
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1, true
				}
			}
		}
		return 0, false
	}
	j := i
	for j < len(b) && !strings.ContainsRune(",}] \t\n\r", rune(b[j])) {
		j++
	}
	return j, j > i
}
