package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Golden is the output of `stickyguard check -o json testdata/examples`.
type Golden struct {
	Results []GoldenResult `json:"results"`
}

// GoldenResult is what check says about one document.
type GoldenResult struct {
	Source     string    `json:"source"` // <path>#<1-based document index>
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Namespace  string    `json:"namespace"`
	Name       string    `json:"name"`
	Allowed    bool      `json:"allowed"`
	Violations []Finding `json:"violations"`
	Warnings   []Finding `json:"warnings"`
	Patch      []PatchOp `json:"patch"`
}

// Finding is one violation or warning.
type Finding struct {
	Rule    string `json:"rule"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// PatchOp is one JSON patch operation stickyguard would apply.
type PatchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value,omitempty"`
}

// Example is one document of testdata/examples with what check says of it.
type Example struct {
	File       string // base name, e.g. tke-clientip-valid.yaml
	Index      int    // 1-based document index in the file
	APIVersion string
	Kind       string
	Name       string
	YAML       []byte // the document as written
	Golden     GoldenResult
}

// ID names the example in test output: file#index Kind/name.
func (e *Example) ID() string {
	return fmt.Sprintf("%s#%d %s/%s", e.File, e.Index, e.Kind, e.Name)
}

// admittedKinds are the kinds the webhooks intercept (apiVersion, kind).
var admittedKinds = map[string]bool{
	"v1/Service":                   true,
	"apps/v1/Deployment":           true,
	"apps/v1/StatefulSet":          true,
	"networking.k8s.io/v1/Ingress": true,
}

// Intercepted reports whether the webhooks see this kind at all.
func (e *Example) Intercepted() bool { return admittedKinds[e.APIVersion+"/"+e.Kind] }

// OfflineOnly reports whether a rule can only be seen by `stickyguard check`:
// offline rule IDs contain "-D" (SVC-D01, ...).
func OfflineOnly(rule string) bool { return strings.Contains(rule, "-D") }

// Applicable reports whether the document can be sent to the API server: an
// intercepted kind without offline-only (decode-level) violations, which the
// API server itself rejects or silently rewrites before any webhook runs.
func (e *Example) Applicable() bool {
	if !e.Intercepted() {
		return false
	}
	for _, v := range e.Golden.Violations {
		if OfflineOnly(v.Rule) {
			return false
		}
	}
	return true
}

// LiveViolations are the rule IDs the webhook denies the object for.
func (e *Example) LiveViolations() []string { return liveRules(e.Golden.Violations) }

// LiveWarnings are the rule IDs of the warnings the webhook returns in
// enforce mode (rule warnings and the reports of defaults it set).
func (e *Example) LiveWarnings() []string { return liveRules(e.Golden.Warnings) }

// Denied reports whether enforce mode rejects the object live.
func (e *Example) Denied() bool { return len(e.LiveViolations()) > 0 }

func liveRules(fs []Finding) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range fs {
		if !OfflineOnly(f.Rule) && !seen[f.Rule] {
			seen[f.Rule] = true
			out = append(out, f.Rule)
		}
	}
	sort.Strings(out)
	return out
}

// GoldenPath finds the check output for dir: $E2E_GOLDEN, then
// testdata/golden/check-examples.json, then dir/golden.json.
func GoldenPath(root, dir string) (string, error) {
	candidates := []string{
		os.Getenv("E2E_GOLDEN"),
		filepath.Join(root, "testdata", "golden", "check-examples.json"),
		filepath.Join(dir, "golden.json"),
	}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("no golden check output found (tried %s)", strings.Join(candidates[1:], ", "))
}

// LoadExamples reads every *.yaml in dir, splits the documents and pairs
// each with its golden result. Every document must have exactly one result
// with the same kind and name, and every result a document.
func LoadExamples(dir, goldenPath string) ([]Example, error) {
	data, err := os.ReadFile(goldenPath)
	if err != nil {
		return nil, err
	}
	var g Golden
	if err := json.Unmarshal(data, &g); err != nil {
		return nil, fmt.Errorf("%s: %w", goldenPath, err)
	}
	byKey := map[string]GoldenResult{}
	for _, r := range g.Results {
		key, err := sourceKey(r.Source)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", goldenPath, err)
		}
		if _, dup := byKey[key]; dup {
			return nil, fmt.Errorf("%s: two results for %s", goldenPath, key)
		}
		byKey[key] = r
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Example
	var errs []error
	for _, f := range files {
		docs, err := splitDocuments(f)
		if err != nil {
			return nil, err
		}
		for _, d := range docs {
			i, doc := d.index-1, d.data
			var meta struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Metadata   struct {
					Name string `json:"name"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal(doc, &meta); err != nil {
				return nil, fmt.Errorf("%s#%d: %w", f, i+1, err)
			}
			ex := Example{File: filepath.Base(f), Index: i + 1, APIVersion: meta.APIVersion, Kind: meta.Kind, Name: meta.Metadata.Name, YAML: doc}
			key := fmt.Sprintf("%s#%d", ex.File, ex.Index)
			r, ok := byKey[key]
			if !ok {
				errs = append(errs, fmt.Errorf("%s has no golden result (regenerate %s)", key, goldenPath))
				continue
			}
			delete(byKey, key)
			if r.Kind != ex.Kind || r.Name != ex.Name {
				errs = append(errs, fmt.Errorf("%s is %s/%s but the golden result is for %s/%s", key, ex.Kind, ex.Name, r.Kind, r.Name))
				continue
			}
			ex.Golden = r
			out = append(out, ex)
		}
	}
	for key := range byKey {
		errs = append(errs, fmt.Errorf("golden result %s has no document in %s", key, dir))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// sourceKey turns "../../testdata/examples/x.yaml#2" into "x.yaml#2".
func sourceKey(source string) (string, error) {
	i := strings.LastIndex(source, "#")
	if i < 0 {
		return "", fmt.Errorf("source %q has no #<document>", source)
	}
	if strings.Contains(source[i+1:], ".") {
		return "", fmt.Errorf("source %q is an item of a kind: List; the e2e loader applies whole documents only", source)
	}
	n, err := strconv.Atoi(source[i+1:])
	if err != nil || n < 1 {
		return "", fmt.Errorf("source %q: bad document index", source)
	}
	return fmt.Sprintf("%s#%d", filepath.Base(source[:i]), n), nil
}

type document struct {
	index int // 1-based, counting empty documents too (as check does)
	data  []byte
}

// splitDocuments returns the non-empty YAML documents of a file, in order.
func splitDocuments(path string) ([]document, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs []document
	for i := 1; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if isEmptyDocument(doc) {
			continue
		}
		docs = append(docs, document{index: i, data: doc})
	}
}

func isEmptyDocument(doc []byte) bool {
	for _, line := range strings.Split(string(doc), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") && line != "---" {
			return false
		}
	}
	return true
}
