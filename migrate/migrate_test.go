package migrate

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/engine"
	"github.com/stickyguard/stickyguard/validators"
)

// run migrates YAML input (and optional --onto YAML) to a target.
func run(t *testing.T, target Target, input string, opts ...func(*Options)) *Result {
	t.Helper()
	docs, err := engine.ReadDocuments("in.yaml", strings.NewReader(input))
	require.NoError(t, err)
	raw, err := ReadRaw("in.yaml", []byte(input))
	require.NoError(t, err)
	o := Options{Target: target}
	for _, f := range opts {
		f(&o)
	}
	res, err := Run(Input{Docs: docs, Raw: raw}, o)
	require.NoError(t, err)
	return res
}

func onto(t *testing.T, routes string) func(*Options) {
	raw, err := ReadRaw("onto.yaml", []byte(routes))
	require.NoError(t, err)
	return func(o *Options) { o.Onto, o.OntoSet = raw, true }
}

// ingressYAML builds an ingress-nginx Ingress with annotations (without the
// prefix) and paths "host path service port".
func ingressYAML(name string, ann map[string]string, paths ...string) string {
	var b strings.Builder
	b.WriteString("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: " + name + "\n  annotations:\n")
	for k, v := range ann {
		b.WriteString("    nginx.ingress.kubernetes.io/" + k + ": \"" + v + "\"\n")
	}
	b.WriteString("spec:\n  ingressClassName: nginx\n  rules:\n")
	for _, p := range paths {
		f := strings.Fields(p)
		b.WriteString("  - host: " + f[0] + "\n    http:\n      paths:\n      - path: " + f[1] +
			"\n        pathType: Prefix\n        backend:\n          service:\n            name: " + f[2] +
			"\n            port:\n              number: " + f[3] + "\n")
	}
	return b.String()
}

func item(t *testing.T, res *Result, ing string, a Aspect) Item {
	t.Helper()
	for _, o := range res.Report.Objects {
		if o.Name != ing {
			continue
		}
		for _, it := range o.Items {
			if it.Aspect == a {
				return it
			}
		}
	}
	require.Failf(t, "no item", "%s %s", ing, a)
	return Item{}
}

func at(obj map[string]any, path ...any) any {
	var cur any = obj
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := cur.(map[string]any)
			cur = m[k]
		case int:
			l, _ := cur.([]any)
			if k >= len(l) {
				return nil
			}
			cur = l[k]
		}
	}
	return cur
}

func TestTableComplete(t *testing.T) {
	for _, a := range Aspects() {
		require.Len(t, table[a], len(Columns()), "row %s", a)
		for i, c := range table[a] {
			assert.NotEmpty(t, c.Note, "%s / %s", a, Columns()[i])
			assert.Contains(t, []Verdict{Exact, Approximate, Lost}, c.Verdict)
			if c.Verdict == Lost {
				assert.NotEmpty(t, c.Workaround, "a lost cell names the nearest workaround: %s / %s", a, Columns()[i])
			} else {
				assert.Empty(t, c.Workaround, "%s / %s", a, Columns()[i])
			}
		}
	}
	assert.Len(t, table, len(Aspects()))
}

// TestGatewayDuration: the lifetimes migrate writes (apis.FormatGatewayDuration)
// are GEP-2257 durations the CRDs accept, equal to the seconds unless clamped.
func TestGatewayDuration(t *testing.T) {
	cases := []struct {
		in    int64
		want  string
		exact bool
	}{
		{0, "0s", true}, {1, "1s", true}, {3600, "3600s", true}, {99999, "99999s", true},
		{100000, "27h46m40s", true}, {172800, "48h", true}, {1209600, "336h", true}, {2592000, "720h", true},
		{99999*3600 + 3599, "99999h59m59s", true}, {100000 * 3600, "99999h", false}, {-1, "0s", false},
	}
	for _, tc := range cases {
		got, exact := apis.FormatGatewayDuration(tc.in)
		assert.Equal(t, tc.want, got, "%d", tc.in)
		assert.Equal(t, tc.exact, exact, "%d", tc.in)
		d, err := apis.ParseGatewayDuration(got)
		require.NoError(t, err, "%d", tc.in)
		if exact {
			assert.Equal(t, time.Duration(tc.in)*time.Second, d, "%d", tc.in)
		}
	}
}

func TestHashKey(t *testing.T) {
	cases := []struct{ in, kind, name string }{
		{"$http_x_tenant_id", hashHeader, "x-tenant-id"},
		{"${http_X_Api_Key}", hashHeader, "x-api-key"},
		{"$cookie_session", hashCookie, "session"},
		{"$arg_user", hashQuery, "user"},
		{"$remote_addr", hashIP, ""},
		{"$binary_remote_addr", hashIP, ""},
		{"$request_uri", "", ""},
		{"$request_uri$host", "", ""},
		{"${request_uri}-text", "", ""},
		{"$http_x$arg_y", "", ""},
	}
	for _, tc := range cases {
		kind, name, ok := hashKey(tc.in)
		assert.Equal(t, tc.kind != "", ok, tc.in)
		assert.Equal(t, tc.kind, kind, tc.in)
		assert.Equal(t, tc.name, name, tc.in)
	}
}

// TestRegexCookiePath: a regex path's cookie Path is the literal prefix
// NGX-013 suggests; session-cookie-path wins over it.
func TestRegexCookiePath(t *testing.T) {
	cases := []struct {
		ann  map[string]string
		path string
		want string
	}{
		{map[string]string{"affinity": "cookie"}, "/(app1/.*)", "/app1"},
		{map[string]string{"affinity": "cookie"}, "/api/v[0-9]+/.*", "/api"},
		{map[string]string{"affinity": "cookie"}, "/files.*", "/"},
		{map[string]string{"affinity": "cookie"}, "/shop", "/shop"},
		{map[string]string{"affinity": "cookie", "session-cookie-path": "/app"}, "/(app1/.*)", "/app"},
	}
	for _, tc := range cases {
		res := run(t, GatewayAPI, ingressYAML("x", tc.ann, "a.example "+tc.path+" svc 80"))
		require.Len(t, res.Objects, 1, tc.path)
		assert.Equal(t, tc.want, at(res.Objects[0].Body, "spec", "rules", 0, "sessionPersistence", "cookie", "path"), tc.path)
	}
}

func TestReadNginxAsIngressNginxDoes(t *testing.T) {
	res := run(t, GatewayAPI, ingressYAML("x", map[string]string{
		"affinity": "cookie", "affinity-mode": "Persistent", "session-cookie-name": "bad name!",
		"session-cookie-max-age": "48h", "session-cookie-expires": "3600", "session-cookie-samesite": "none",
	}, "a.example / svc 80"))
	require.Len(t, res.Objects, 1)
	sp := at(res.Objects[0].Body, "spec", "rules", 0, "sessionPersistence").(map[string]any)
	// An invalid mode is balanced; an invalid name is INGRESSCOOKIE; an
	// invalid max-age is dropped and expires applies.
	assert.Equal(t, "INGRESSCOOKIE", at(sp, "cookie", "name"))
	assert.Equal(t, "3600s", sp["absoluteTimeout"])
	assert.Equal(t, "Permanent", at(sp, "cookie", "lifetimeType"))
	assert.Equal(t, Approximate, item(t, res, "x", AspBalanced).Verdict)
	assert.Equal(t, "3600", item(t, res, "x", AspExpires).Value)

	res = run(t, GatewayAPI, ingressYAML("x", map[string]string{"affinity": "Cookie"}, "a.example / svc 80"))
	assert.Empty(t, res.Objects, "ingress-nginx ignores affinity: Cookie, so there is nothing to migrate")
	assert.Empty(t, res.Report.Objects)
}

func TestGatewayShapes(t *testing.T) {
	in := ingressYAML("x", map[string]string{"affinity": "cookie", "session-cookie-name": "a:b", "session-cookie-max-age": "60"},
		"a.example / svc 80", "a.example /api api 8080")
	v17 := run(t, GatewayAPI, in)
	require.Len(t, v17.Objects, 1)
	r := v17.Objects[0].Body
	assert.Equal(t, map[string]any{"type": "Cookie", "absoluteTimeout": "60s",
		"cookie": map[string]any{"name": "a-b", "path": "/", "lifetimeType": "Permanent"}}, at(r, "spec", "rules", 0, "sessionPersistence"))
	assert.Equal(t, "a-b-2", at(r, "spec", "rules", 1, "sessionPersistence", "cookie", "name"), "rules on one host get distinct cookies")
	assert.Equal(t, "/api", at(r, "spec", "rules", 1, "sessionPersistence", "cookie", "path"))
	assert.Equal(t, Approximate, item(t, v17, "x", AspName).Verdict)

	v16 := run(t, GatewayAPI, in, func(o *Options) { o.GatewayAPI = "v1.6.3" })
	r = v16.Objects[0].Body
	assert.Equal(t, map[string]any{"type": "Cookie", "absoluteTimeout": "60s", "sessionName": "a:b",
		"cookieConfig": map[string]any{"lifetimeType": "Permanent"}}, at(r, "spec", "rules", 0, "sessionPersistence"),
		"sessionName allows any characters")
	assert.Equal(t, "a:b-2", at(r, "spec", "rules", 1, "sessionPersistence", "sessionName"))
	assert.Contains(t, v16.Report.GatewayAPI, "v1.6.3")
}

func TestShapeFromCRDInInput(t *testing.T) {
	crd := func(key string) string {
		return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: httproutes.gateway.networking.k8s.io
  annotations:
    gateway.networking.k8s.io/bundle-version: v1.6.3
    gateway.networking.k8s.io/channel: experimental
spec:
  group: gateway.networking.k8s.io
  names: {kind: HTTPRoute, plural: httproutes}
  versions:
  - name: v1
    schema:
      openAPIV3Schema:
        properties:
          spec:
            properties:
              rules:
                items:
                  properties:
                    ` + key + `
---
`
	}
	in := ingressYAML("x", map[string]string{"affinity": "cookie"}, "a.example / svc 80")
	res := run(t, GatewayAPI, crd("sessionPersistence: {properties: {sessionName: {type: string}}}")+in)
	assert.NotNil(t, at(res.Objects[0].Body, "spec", "rules", 0, "sessionPersistence", "sessionName"))
	res = run(t, GatewayAPI, crd("matches: {type: array}")+in)
	assert.Empty(t, res.Objects, "standard channel: nothing a cluster would keep")
	assert.Equal(t, Lost, item(t, res, "x", AspAffinity).Verdict)
	assert.True(t, res.Report.Lost())

	// Without a schema (a metadata-only copy), the annotations decide.
	meta := "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: httproutes.gateway.networking.k8s.io\n" +
		"  annotations:\n    gateway.networking.k8s.io/bundle-version: %s\n    gateway.networking.k8s.io/channel: %s\n" +
		"spec:\n  group: gateway.networking.k8s.io\n  names: {kind: HTTPRoute, plural: httproutes}\n---\n"
	res = run(t, GatewayAPI, fmt.Sprintf(meta, "v1.6.3", "experimental")+in)
	assert.NotNil(t, at(res.Objects[0].Body, "spec", "rules", 0, "sessionPersistence", "sessionName"))
	assert.Contains(t, res.Report.GatewayAPI, "v1.6.3 (sessionName/cookieConfig shape), experimental channel, from the CRD httproutes.gateway.networking.k8s.io in in.yaml#1")
	res = run(t, GatewayAPI, fmt.Sprintf(meta, "v1.7.0", "standard")+in)
	assert.Empty(t, res.Objects, "standard channel")
}

func TestFlagShape(t *testing.T) {
	cases := []struct {
		in   string
		want apis.PersistenceShape
		err  string
	}{
		{in: "v1.6.3", want: apis.ShapeV1}, {in: "1.1.0", want: apis.ShapeV1}, {in: "v1.5", want: apis.ShapeV1},
		{in: "v1.7", want: apis.ShapeV2}, {in: " 1.7.0 ", want: apis.ShapeV2}, {in: "v1.7.0-rc.1", want: apis.ShapeV2},
		{in: "v1.8.0", want: apis.ShapeV2},
		{in: "v1.0.0", err: "exists from v1.1.0"}, {in: "v2.0", err: "want a version"},
		{in: "latest", err: "want a version"}, {in: "v1", err: "want a version"},
	}
	for _, tc := range cases {
		got, err := flagShape(tc.in)
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		assert.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestEnvoyGatewayMechanism(t *testing.T) {
	persistent := ingressYAML("p", map[string]string{"affinity": "cookie", "affinity-mode": "persistent"}, "a.example / svc 80")
	res := run(t, EnvoyGateway, persistent)
	require.Len(t, res.Objects, 1)
	assert.Equal(t, "HTTPRoute", res.Objects[0].Body["kind"], "persistent: Envoy stateful session")
	assert.Equal(t, "INGRESSCOOKIE", at(res.Objects[0].Body, "spec", "rules", 0, "sessionPersistence", "sessionName"))

	grpc := strings.Replace(persistent, "annotations:\n", "annotations:\n    nginx.ingress.kubernetes.io/backend-protocol: GRPC\n", 1)
	res = run(t, EnvoyGateway, grpc)
	require.Len(t, res.Objects, 1)
	assert.Equal(t, "BackendTrafficPolicy", res.Objects[0].Body["kind"], "EG ignores GRPCRoute sessionPersistence")
	assert.Equal(t, "GRPCRoute", at(res.Objects[0].Body, "spec", "targetRefs", 0, "kind"))
	assert.Equal(t, "0s", at(res.Objects[0].Body, "spec", "loadBalancer", "consistentHash", "cookie", "ttl"), "no ttl, no cookie")

	balanced := ingressYAML("b", map[string]string{"affinity": "cookie", "session-cookie-samesite": "none", "session-cookie-secure": "true"}, "a.example / svc 80")
	res = run(t, EnvoyGateway, balanced)
	assert.Equal(t, map[string]any{"SameSite": "None", "Secure": ""}, at(res.Objects[0].Body, "spec", "loadBalancer", "consistentHash", "cookie", "attributes"))
}

func TestIstioNeverWritesRoutes(t *testing.T) {
	in := ingressYAML("x", map[string]string{"affinity": "cookie", "session-cookie-max-age": "172800"}, "a.example /app svc 80", "a.example /app/v2 svc 80")
	res := run(t, Istio, in)
	require.Len(t, res.Objects, 1)
	dr := res.Objects[0].Body
	assert.Equal(t, "DestinationRule", dr["kind"])
	assert.Equal(t, "svc.default.svc.cluster.local", at(dr, "spec", "host"))
	assert.Equal(t, map[string]any{"name": "INGRESSCOOKIE", "path": "/app", "ttl": "172800s"},
		at(dr, "spec", "trafficPolicy", "loadBalancer", "consistentHash", "httpCookie"))
	assert.Equal(t, Approximate, item(t, res, "x", AspDefaultPath).Verdict, "two paths, one Path")
}

func TestGKEClamp(t *testing.T) {
	res := run(t, GKE, ingressYAML("x", map[string]string{"affinity": "cookie", "session-cookie-max-age": "2592000"}, "a.example / svc 80"))
	require.Len(t, res.Objects, 1)
	assert.Equal(t, int64(validators.GCPMaxCookieTTL), at(res.Objects[0].Body, "spec", "default", "sessionAffinity", "cookieTtlSec"))
	it := item(t, res, "x", AspMaxAge)
	assert.Equal(t, Approximate, it.Verdict)
	assert.Contains(t, it.Note, "clamped")
}

func TestTraefikCopiesInputService(t *testing.T) {
	svc := "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc\n  resourceVersion: \"7\"\nspec:\n  ports:\n  - port: 80\nstatus: {}\n---\n"
	res := run(t, Traefik, svc+ingressYAML("x", map[string]string{"affinity": "cookie", "session-cookie-samesite": "Strict"}, "a.example / svc 80"))
	require.Len(t, res.Objects, 1)
	s := res.Objects[0].Body
	assert.Empty(t, res.Objects[0].Comment)
	assert.NotNil(t, at(s, "spec", "ports"), "the Service is copied whole")
	assert.Nil(t, s["status"])
	assert.Nil(t, at(s, "metadata", "resourceVersion"))
	assert.Equal(t, "strict", at(s, "metadata", "annotations", traefikPrefix+".samesite"))
	assert.Equal(t, "true", at(s, "metadata", "annotations", traefikPrefix+".httponly"))
}

func TestOntoMatching(t *testing.T) {
	routes := `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: x-a-example
spec:
  parentRefs: [{name: gw}]
  hostnames: [a.example]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: svc, port: 80}]
    filters: [{type: RequestHeaderModifier, requestHeaderModifier: {add: [{name: x, value: y}]}}]
  - matches: [{path: {type: PathPrefix, value: /other}}]
    backendRefs: [{name: other, port: 80}]
`
	in := ingressYAML("x", map[string]string{"affinity": "cookie"}, "a.example / svc 80", "a.example /api api 80", "b.example / svc 80")
	res := run(t, GatewayAPI, in, onto(t, routes))
	require.Len(t, res.Objects, 1, "the --onto file is written back")
	r := res.Objects[0].Body
	assert.NotNil(t, at(r, "spec", "rules", 0, "sessionPersistence"))
	assert.NotNil(t, at(r, "spec", "rules", 0, "filters"), "fields migrate does not know are kept")
	assert.Nil(t, at(r, "spec", "rules", 1, "sessionPersistence"), "a rule of no sticky path is left alone")
	require.Len(t, res.Report.Unmatched, 2)
	assert.Equal(t, "/api", res.Report.Unmatched[0].Path)
	assert.Equal(t, "b.example", res.Report.Unmatched[1].Host)
	assert.True(t, res.Report.Lost())
}
