package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/stickyguard/stickyguard/policy"
)

func read(t *testing.T, s string) []Document {
	t.Helper()
	docs, err := ReadDocuments("in.yaml", strings.NewReader(s))
	require.NoError(t, err)
	return docs
}

func rawRules(d Document) (deny, warn []string) {
	for _, e := range d.RawErrors {
		deny = append(deny, e.Origin+" "+e.Field)
	}
	for _, w := range d.RawWarnings {
		warn = append(warn, w.Rule)
	}
	return deny, warn
}

// TestReadErrors: input that is not a set of objects is an input error
// naming the document and the line in the file.
func TestReadErrors(t *testing.T) {
	const svc = "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n"
	tests := []struct {
		name       string
		in         string
		wantSource string
		wantLine   int
		mentions   []string
	}{
		{name: "scalar", in: "just a string\n", wantSource: "in.yaml#1", wantLine: 1, mentions: []string{"is a string", "not an object"}},
		{name: "list after comments in the second document", in: svc + "---\n# a list\n\n- a\n- b\n", wantSource: "in.yaml#2", wantLine: 7, mentions: []string{"is a list"}},
		{name: "number", in: "42\n", wantSource: "in.yaml#1", wantLine: 1, mentions: []string{"is a number"}},
		{name: "boolean", in: "# c\nyes\n", wantSource: "in.yaml#1", wantLine: 2, mentions: []string{"is a boolean"}},
		{name: "non-breaking spaces after the colons (a published guide)", in: "apiVersion:\u00a0v1\nkind:\u00a0Service\n",
			wantSource: "in.yaml#1", wantLine: 1, mentions: []string{"is a string", "line 1 contains non-breaking spaces (U+00A0)"}},
		{name: "JSON array", in: `[{"apiVersion":"v1","kind":"Service"}]`, wantSource: "in.yaml#1", wantLine: 1, mentions: []string{"is a list"}},
		{name: "List item that is not an object", in: "apiVersion: v1\nkind: List\nitems:\n- 1\n", wantSource: "in.yaml#1", wantLine: 1, mentions: []string{"item 1 of the List"}},
		{name: "invalid YAML, line counted in the file", in: svc + "---\nkey: [unclosed\n  - : :\n", wantSource: "in.yaml#2", wantLine: 5, mentions: []string{"not valid YAML/JSON", "line 5"}},
		{name: "bad separator", in: svc + "--- x\n", wantSource: "in.yaml#1", mentions: []string{"separator"}},
		{name: "not text", in: "\x00\x01", wantSource: "in.yaml", mentions: []string{"not text"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadDocuments("in.yaml", strings.NewReader(tc.in))
			var re *ReadError
			require.True(t, errors.As(err, &re), "want a *ReadError, got %v", err)
			assert.Equal(t, tc.wantSource, re.Source)
			if tc.wantLine > 0 {
				assert.Equal(t, tc.wantLine, re.Line)
			}
			for _, m := range tc.mentions {
				assert.Contains(t, err.Error(), m)
			}
		})
	}
}

func TestReadEmptyDocuments(t *testing.T) {
	for _, in := range []string{"", "---\n---\n", "# only a comment\n", "~\n", "---\n# c\n---\n"} {
		assert.Empty(t, read(t, in), "%q", in)
	}
	docs := read(t, "---\n# c\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n\n\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\n")
	require.Len(t, docs, 2)
	assert.Equal(t, "in.yaml#2", docs[0].Source)
	assert.Equal(t, 4, docs[0].Line)
	assert.Equal(t, "in.yaml#3", docs[1].Source)
	assert.Equal(t, 10, docs[1].Line)
}

// TestReadCaseSensitive: field names are matched as the API server matches
// them; a key in the wrong case is an unknown field, not the field.
func TestReadCaseSensitive(t *testing.T) {
	docs := read(t, `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      NODENAME: node-1
      containers: [{name: web, image: nginx}]
`)
	require.Len(t, docs, 1)
	dep, ok := docs[0].Object.(*appsv1.Deployment)
	require.True(t, ok)
	assert.Empty(t, dep.Spec.Template.Spec.NodeName)
	deny, _ := rawRules(docs[0])
	assert.Equal(t, []string{"SG-D02 spec.template.spec.NODENAME"}, deny)

	docs = read(t, "APIVERSION: v1\nKIND: Service\nMETADATA: {NAME: x}\n")
	require.Len(t, docs, 1)
	assert.False(t, docs[0].Checked(), "no apiVersion and kind in the API's spelling")
}

func TestReadMisplacedKeys(t *testing.T) {
	const head = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"
	tests := []struct {
		name      string
		body      string
		wantDeny  []string
		misplaced []string
	}{
		{name: "in a ports item", body: "spec:\n  selector: {app: web}\n  ports:\n  - port: 80\n    sessionAffinity: ClientIP\n",
			wantDeny: []string{"SVC-D02 spec.ports[0].sessionAffinity"}, misplaced: []string{"spec.sessionAffinity"}},
		{name: "at the top level", body: "sessionAffinity: ClientIP\nspec:\n  selector: {app: web}\n",
			wantDeny: []string{"SVC-D02 sessionAffinity"}, misplaced: []string{"spec.sessionAffinity"}},
		{name: "under metadata", body: "  sessionAffinity: ClientIP\nspec:\n  selector: {app: web}\n",
			wantDeny: []string{"SVC-D02 metadata.sessionAffinity"}, misplaced: []string{"spec.sessionAffinity"}},
		{name: "clientIP dedented beside an empty sessionAffinityConfig",
			body:     "spec:\n  selector: {app: web}\n  sessionAffinity: ClientIP\n  sessionAffinityConfig:\n  clientIP:\n    timeoutSeconds: 600\n",
			wantDeny: []string{"SVC-D02 spec.clientIP"}, misplaced: []string{"spec.sessionAffinityConfig.clientIP"}},
		{name: "annotation dedented out of annotations", body: "  annotations:\n  service.beta.kubernetes.io/x: \"1\"\nspec:\n  selector: {app: web}\n",
			wantDeny: []string{"SG-D02 metadata.service.beta.kubernetes.io/x"}, misplaced: []string{"metadata.annotations[service.beta.kubernetes.io/x]"}},
		{name: "non-breaking space indentation", body: "\u00a0\u00a0namespace: shop\nspec:\n  selector: {app: web}\n",
			wantDeny: []string{"SG-D02 \u00a0\u00a0namespace"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			docs := read(t, head+tc.body)
			require.Len(t, docs, 1)
			require.NotNil(t, docs[0].Object)
			deny, _ := rawRules(docs[0])
			assert.Equal(t, tc.wantDeny, deny)
			assert.Equal(t, tc.misplaced, docs[0].Misplaced)
		})
	}
}

// TestReadDuplicateKeys: the last of duplicate keys wins, as kubectl's YAML
// conversion keeps it, and the duplicate is reported with its line.
func TestReadDuplicateKeys(t *testing.T) {
	docs := read(t, "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  sessionAffinity: ClientIP\nspec:\n  ports: [{port: 80}]\n")
	require.Len(t, docs, 1)
	svc := docs[0].Object.(*corev1.Service)
	assert.Empty(t, svc.Spec.Selector, "the first spec is lost")
	assert.Empty(t, svc.Spec.SessionAffinity)
	require.Len(t, docs[0].RawWarnings, 1)
	assert.Equal(t, "SG-D03", docs[0].RawWarnings[0].Rule)
	assert.Equal(t, "spec", docs[0].RawWarnings[0].Value)
	assert.Contains(t, docs[0].RawWarnings[0].Message(), "line 7")

	docs = read(t, `{"apiVersion":"v1","kind":"Service","metadata":{"name":"j","name":"k"}}`)
	require.Len(t, docs, 1)
	assert.Equal(t, "k", docs[0].Object.(*corev1.Service).Name)
	_, warns := rawRules(docs[0])
	assert.Equal(t, []string{"SG-D03"}, warns)
}

// TestReadAnnotationTypes: an unquoted number or boolean in annotations
// names the annotation; the rest of the object is still checked.
func TestReadAnnotationTypes(t *testing.T) {
	docs := read(t, "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  annotations:\n    service.beta.kubernetes.io/alibaba-cloud-loadbalancer-persistence-timeout: 1800\n    x/enabled: on\nspec:\n  selector: {app: web}\n")
	require.Len(t, docs, 1)
	deny, _ := rawRules(docs[0])
	assert.ElementsMatch(t, []string{
		"SG-D01 metadata.annotations[service.beta.kubernetes.io/alibaba-cloud-loadbalancer-persistence-timeout]",
		"SG-D01 metadata.annotations[x/enabled]",
	}, deny)
	require.NotNil(t, docs[0].Object)
	assert.Equal(t, "web", docs[0].Object.(*corev1.Service).Spec.Selector["app"])
}

// TestMisplacedValueGetsNoDefault: a default is not filled over a value the
// user wrote at a wrong position (offline), and still is without one.
func TestMisplacedValueGetsNoDefault(t *testing.T) {
	const svc = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  sessionAffinity: ClientIP\n"
	pol := policy.Default()
	pol.Service.ClientIPTimeout.Default = 3600 // an organisation default, so SVC-008 has something to fill
	mutated := func(in string) []string {
		checked, _, err := CheckDocuments(read(t, in), Options{Offline: true, Policy: pol})
		require.NoError(t, err)
		require.Len(t, checked, 1)
		return rules(checked[0].Result.Mutations)
	}
	assert.Equal(t, []string{"SVC-008"}, mutated(svc), "no timeout written: the default applies")
	assert.Empty(t, mutated(svc+"  sessionAffinityConfig:\n  clientIP:\n    timeoutSeconds: 600\n"), "dedented clientIP")
	assert.Empty(t, mutated(svc+"  sessionAffinityConfig:\n    clientIP:\n    timeoutSeconds: 600\n"), "dedented timeoutSeconds")
	assert.Empty(t, mutated(svc+"  ports:\n  - port: 80\n    sessionAffinityConfig: {clientIP: {timeoutSeconds: 600}}\n"), "config inside a port")
	assert.Empty(t, mutated(svc+"  sessionAffinityConfig:\n    clientIP:\n      timeoutSeconds: \"600\"\n"), "a string timeout")

	// With the API default as the organisation's, the API server stores the
	// same value: check reports no default, as serve does not.
	checked, _, err := CheckDocuments(read(t, svc), Options{Offline: true})
	require.NoError(t, err)
	require.Len(t, checked, 1)
	assert.Empty(t, checked[0].Result.Mutations, "10800 is what the API server fills anyway")
}
