package migrate

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/yaml"
)

// WriteObjects writes the objects as YAML documents (format "yaml") or as
// one JSON List ("json").
func WriteObjects(w io.Writer, objs []Object, format string) error {
	if format == "json" {
		items := make([]any, 0, len(objs))
		for _, o := range objs {
			items = append(items, o.Body)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
	}
	var b strings.Builder
	for i, o := range objs {
		if i > 0 {
			b.WriteString("---\n")
		}
		for _, l := range strings.Split(o.Comment, "\n") {
			if l != "" {
				b.WriteString("# " + l + "\n")
			}
		}
		y, err := yaml.Marshal(o.Body)
		if err != nil {
			return fmt.Errorf("writing %s: %w", str(o.Body, "kind"), err)
		}
		b.Write(y)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
