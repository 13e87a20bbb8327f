package engine

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

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
	Source string
	// Line is the first line of the document in its file (1-based; 0 when
	// the document was not read from a file).
	Line       int
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
	// Misplaced lists the positions (field paths) of values the author
	// wrote but the API server would not store: a key at a wrong position
	// (spec.sessionAffinityConfig.clientIP for a dedented clientIP) or a
	// value of the wrong type. No default is filled over such a value.
	Misplaced []string
	// Skipped says why the object is not checked ("" when it is).
	Skipped string
}

// Checked reports whether rules run on the document.
func (d *Document) Checked() bool { return d.Skipped == "" }

// ReadError is input that cannot be read as Kubernetes objects: not text,
// not YAML/JSON, or a document that is not an object.
type ReadError struct {
	Source string // "FILE" or "FILE#DOC"
	Line   int    // line in the file, 0 when unknown
	Err    error
}

func (e *ReadError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s, line %d: %v", e.Source, e.Line, e.Err)
	}
	return e.Source + ": " + e.Err.Error()
}

func (e *ReadError) Unwrap() error { return e.Err }

// ReadDocuments splits a YAML or JSON stream into objects, decoding each the
// way the API server does what kubectl sends (YAML converted to JSON, the
// last of duplicate keys kept, field names case-sensitive). Input that is
// not YAML/JSON, or a document that is not an object, is a *ReadError naming
// the document and its line; objects of kinds stickyguard does not check
// come back with Skipped set.
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
	line := 1 // first line of the next chunk
	for i := 1; ; i++ {
		chunk, err := yr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		src := fmt.Sprintf("%s#%d", source, i)
		if err != nil {
			return nil, &ReadError{Source: src, Line: line, Err: err}
		}
		start := line
		// The reader returns every line once, ending each with "\n", and
		// drops the separator line that ends a document.
		line += bytes.Count(chunk, []byte("\n")) + 1
		got, err := readChunk(src, chunk, start)
		if err != nil {
			return nil, err
		}
		docs = append(docs, got...)
	}
	return docs, nil
}

// readChunk reads one YAML document that starts at line start of its file.
func readChunk(src string, chunk []byte, start int) ([]Document, error) {
	first, empty := firstContentLine(chunk)
	if empty {
		return nil, nil
	}
	js, dups, err := toJSON(chunk)
	if err != nil {
		return nil, &ReadError{Source: src, Line: yamlErrorLine(err, start, start+first), Err: fmt.Errorf("not valid YAML/JSON: %s%s", absoluteLines(err.Error(), start), nbspHint(chunk, start))}
	}
	js = bytes.TrimSpace(js)
	if string(js) == "null" {
		return nil, nil // e.g. a document of only "~"
	}
	if js[0] != '{' {
		return nil, &ReadError{Source: src, Line: start + first, Err: notAnObject(js, chunk, start)}
	}
	docs, err := splitDocument(src, js)
	if err != nil {
		return nil, &ReadError{Source: src, Line: start + first, Err: err}
	}
	for i := range docs {
		docs[i].Line = start + first
	}
	if len(docs) > 0 && docs[0].Checked() {
		for _, d := range dups {
			docs[0].RawWarnings = append(docs[0].RawWarnings, validators.DuplicateKey(d.key, start+d.line-1))
		}
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

// firstContentLine returns the 0-based index of the chunk's first line that
// is not blank, a comment or a document separator; empty when there is none
// (a document of comments only counts as empty).
func firstContentLine(chunk []byte) (int, bool) {
	for i, l := range bytes.Split(chunk, []byte("\n")) {
		t := bytes.TrimSpace(l)
		if len(t) == 0 || t[0] == '#' || (bytes.HasPrefix(l, []byte("---")) && isSeparator(l)) {
			continue
		}
		return i, false
	}
	return 0, true
}

// isSeparator reports a "---" line followed only by spaces or a comment.
func isSeparator(l []byte) bool {
	rest := bytes.TrimSpace(l[3:])
	return len(rest) == 0 || rest[0] == '#'
}

type duplicate struct {
	key  string
	line int // in the chunk, 1-based
}

var duplicateRe = regexp.MustCompile(`line (\d+): key (.+) already set in map`)

// toJSON converts a YAML document to JSON the way kubectl does (the last of
// duplicate keys wins) and lists the duplicates, which a strict conversion
// reports.
func toJSON(chunk []byte) ([]byte, []duplicate, error) {
	js, strictErr := yaml.YAMLToJSONStrict(chunk)
	if strictErr == nil {
		return js, nil, nil
	}
	js, err := yaml.YAMLToJSON(chunk)
	if err != nil {
		return nil, nil, err
	}
	var dups []duplicate
	for _, m := range duplicateRe.FindAllStringSubmatch(strictErr.Error(), -1) {
		n, _ := strconv.Atoi(m[1])
		key := m[2]
		if k, err := strconv.Unquote(key); err == nil {
			key = k
		}
		dups = append(dups, duplicate{key: key, line: keyLine(chunk, key, n)})
	}
	return js, dups, nil
}

// keyLine finds the line of a duplicate key: the strict conversion names
// the line of its value, which for a block value is a later line.
func keyLine(chunk []byte, key string, valueLine int) int {
	lines := bytes.Split(chunk, []byte("\n"))
	for l := min(valueLine, len(lines)); l >= 1 && l > valueLine-50; l-- {
		if startsWithKey(lines[l-1], key) {
			return l
		}
	}
	return valueLine
}

// startsWithKey reports a YAML line that starts (after indentation and list
// dashes) with key, plain or quoted, followed by a colon.
func startsWithKey(line []byte, key string) bool {
	t := string(bytes.TrimLeft(line, " -"))
	for _, k := range []string{key, `"` + key + `"`, `'` + key + `'`} {
		if rest, ok := strings.CutPrefix(t, k); ok && strings.HasPrefix(strings.TrimLeft(rest, " "), ":") {
			return true
		}
	}
	return false
}

var lineRe = regexp.MustCompile(`line (\d+)`)

// absoluteLines rewrites "line N" (N counted in the chunk) in a YAML error
// into the line of the file.
func absoluteLines(msg string, start int) string {
	return lineRe.ReplaceAllStringFunc(msg, func(s string) string {
		n, err := strconv.Atoi(s[len("line "):])
		if err != nil {
			return s
		}
		return "line " + strconv.Itoa(start+n-1)
	})
}

// yamlErrorLine is the file line a YAML error names, else def.
func yamlErrorLine(err error, start, def int) int {
	if m := lineRe.FindStringSubmatch(err.Error()); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil {
			return start + n - 1
		}
	}
	return def
}

// notAnObject explains a document that parsed as a scalar or a list.
func notAnObject(js, chunk []byte, start int) error {
	what := "a string"
	switch js[0] {
	case '[':
		what = "a list"
	case 't', 'f':
		what = "a boolean"
	case '"':
	default:
		what = "a number"
	}
	return fmt.Errorf("the document is %s, not an object (a mapping with apiVersion, kind and metadata)%s", what, nbspHint(chunk, start))
}

// nbspHint points at the first non-breaking space (U+00A0), which YAML
// does not read as a space: text copied from a web page often has them
// after "key:" or as indentation.
func nbspHint(chunk []byte, start int) string {
	for i, l := range bytes.Split(chunk, []byte("\n")) {
		if bytes.Contains(l, []byte("\u00a0")) {
			return fmt.Sprintf("; line %d contains non-breaking spaces (U+00A0), which YAML does not read as spaces: replace them with plain spaces", start+i)
		}
	}
	return ""
}
