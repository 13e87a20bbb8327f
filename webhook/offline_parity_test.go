package webhook

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/stickyguard/stickyguard/engine"
	"github.com/stickyguard/stickyguard/validators"
)

// Live and offline must see the same object. `stickyguard check` reads a
// manifest with engine.ReadDocuments; live, kubectl (or Helm) converts the
// YAML to JSON (sigs.k8s.io/yaml: the last of duplicate keys wins), the API
// server decodes it and the webhook decodes the review's object with
// decodeObject. These tests hold the two paths to the same typed object for
// tricky inputs and for every shipped manifest, and hold "the API server
// refuses it at decode" to "check reports a wrong type" (SG-D01, SVC-D01).

// paritySamples are single documents that a case-insensitive or
// duplicate-merging reader would get wrong.
var paritySamples = map[string]string{
	"NODENAME is not nodeName":         "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {app: d}}\n  template:\n    metadata: {labels: {app: d}}\n    spec:\n      NODENAME: node-1\n      containers: [{name: c, image: nginx}]\n",
	"lower-case sessionaffinity":       "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  selector: {app: s}\n  sessionaffinity: ClientIP\n",
	"upper-case METADATA":              "apiVersion: v1\nkind: Service\nMETADATA: {name: s}\nspec: {selector: {app: s}}\n",
	"clientIp in the wrong case":       "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  sessionAffinity: ClientIP\n  sessionAffinityConfig:\n    clientIp: {timeoutSeconds: 600}\n",
	"duplicate spec blocks":            "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  selector: {app: s}\n  sessionAffinity: ClientIP\nspec:\n  ports: [{port: 80}]\n",
	"duplicate config, the last empty": "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  sessionAffinity: ClientIP\n  sessionAffinityConfig:\n    clientIP: {timeoutSeconds: 600}\n  sessionAffinityConfig: {}\n",
	"duplicate names in JSON":          `{"apiVersion":"v1","kind":"Service","metadata":{"name":"a","name":"b","labels":{"x":"1","x":"2"}},"spec":{"selector":{"a":"b"},"selector":{"c":"d"}}}`,
	"sessionAffinity in a port":        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n  - port: 80\n    sessionAffinity: ClientIP\n",
	"sticky keys at the top level":     "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  sessionAffinity: ClientIP\nsessionAffinityConfig: {clientIP: {timeoutSeconds: 600}}\nspec: {}\n",
	"clientIP dedented":                "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  sessionAffinity: ClientIP\n  sessionAffinityConfig:\n  clientIP:\n    timeoutSeconds: 600\n",
	"string timeout":                   "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  sessionAffinity: ClientIP\n  sessionAffinityConfig:\n    clientIP: {timeoutSeconds: \"600\"}\n",
	"number annotation":                "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: i\n  annotations:\n    nginx.ingress.kubernetes.io/session-cookie-max-age: 172800\n",
	"YAML 1.1 boolean label":           "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: s\n  labels: {enabled: yes}\n",
	"string port":                      "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: \"80\", targetPort: http}]\n",
	"int-or-string target ports":       "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{name: a, port: 80, targetPort: http}, {name: b, port: 81, targetPort: 8081}]\n",
}

func TestOfflineReaderMatchesWebhookDecode(t *testing.T) {
	for name, doc := range paritySamples {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, 1, assertParity(t, name, []byte(doc)), "the sample is a checked kind")
		})
	}
	compared := 0
	for _, dir := range []string{"../testdata/examples", "../testdata/rules", "../testdata/realworld"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		require.NoError(t, err)
		for _, f := range files {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			rd := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
			for {
				chunk, err := rd.Read()
				if errors.Is(err, io.EOF) {
					break
				}
				require.NoError(t, err, f)
				compared += assertParity(t, f, chunk)
			}
		}
	}
	// A walk that compares nothing is a broken test.
	assert.Greater(t, compared, 100, "documents compared")
}

// assertParity reads one document both ways and compares; it returns how
// many objects of a kind the webhook reviews it compared.
func assertParity(t *testing.T, name string, doc []byte) int {
	t.Helper()
	docs, err := engine.ReadDocuments(name, bytes.NewReader(doc))
	if err != nil || len(docs) != 1 {
		return 0 // not one object (empty, a List, or unreadable)
	}
	d := docs[0]
	gvk := schema.FromAPIVersionAndKind(d.APIVersion, d.Kind)
	newObj, ok := routeKinds()[gvk]
	if !ok {
		return 0 // a kind the webhook does not review
	}
	sent, err := yaml.YAMLToJSON(doc) // what kubectl sends
	require.NoError(t, err, name)
	live := newObj()
	liveErr := decodeObject(sent, live, gvk)
	if wrongType(d) {
		assert.Error(t, liveErr, "%s: check reports a wrong type, so the API server must refuse it at decode", name)
		return 1
	}
	require.NoError(t, liveErr, "%s: the API server decodes it, so check must not report a wrong type", name)
	assert.Equal(t, live, d.Object, "%s: the object check judges is the object the webhook judges", name)
	return 1
}

// wrongType reports a finding for a value the typed decode refuses.
func wrongType(d engine.Document) bool {
	for _, e := range d.RawErrors {
		if r := validators.RuleOf(e); r == "SG-D01" || r == "SVC-D01" {
			return true
		}
	}
	return false
}
