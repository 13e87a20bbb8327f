package migrate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// RawObject is one input object as written, for what the typed documents
// do not keep: CRD schemas, and routes and Services that are copied to the
// output with a change.
type RawObject struct {
	Source string
	Object map[string]any
}

// ReadRaw splits a YAML or JSON stream into objects as engine.ReadDocuments
// does (kind: List expanded, the last of duplicate keys kept). Call it on
// input engine.ReadDocuments accepted: its errors name file and line.
func ReadRaw(source string, data []byte) ([]RawObject, error) {
	yr := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []RawObject
	for i := 1; ; i++ {
		chunk, err := yr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s#%d: %w", source, i, err)
		}
		js, err := yaml.YAMLToJSON(chunk)
		if err != nil {
			return nil, fmt.Errorf("%s#%d: %w", source, i, err)
		}
		js = bytes.TrimSpace(js)
		if len(js) == 0 || js[0] != '{' {
			continue
		}
		var obj map[string]any
		if err := json.Unmarshal(js, &obj); err != nil {
			return nil, fmt.Errorf("%s#%d: %w", source, i, err)
		}
		out = append(out, expand(fmt.Sprintf("%s#%d", source, i), obj)...)
	}
}

func expand(src string, obj map[string]any) []RawObject {
	kind, _ := obj["kind"].(string)
	items, ok := obj["items"].([]any)
	if !strings.HasSuffix(kind, "List") || !ok {
		return []RawObject{{Source: src, Object: obj}}
	}
	var out []RawObject
	for j, it := range items {
		if m, ok := it.(map[string]any); ok {
			out = append(out, expand(fmt.Sprintf("%s.%d", src, j+1), m)...)
		}
	}
	return out
}

// str reads a string at a path of a raw object.
func str(obj map[string]any, path ...string) string {
	s, _ := dig(obj, path...).(string)
	return s
}

// dig reads the value at a path of a raw object (nil when absent).
func dig(obj map[string]any, path ...string) any {
	var cur any = obj
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

// child returns the map at key, creating it.
func child(obj map[string]any, key string) map[string]any {
	if m, ok := obj[key].(map[string]any); ok {
		return m
	}
	m := map[string]any{}
	obj[key] = m
	return m
}
