package validators

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// ngxA sets nginx.ingress.kubernetes.io/ annotations from name/value pairs.
func ngxA(kv ...string) ingOpt {
	for i := 0; i < len(kv); i += 2 {
		kv[i] = ngxPrefix + kv[i]
	}
	return ingAnn(kv...)
}

// ngxP is the field path string of an nginx annotation.
func ngxP(name string) string { return annPath(ngxPrefix + name).String() }

const ngxPath0 = "spec.rules[0].http.paths[0].path"

// ngxCase is one row of an ingress-nginx Ingress rule table.
type ngxCase struct {
	name     string
	opts     []ingOpt
	ctrl     Controller
	shared   bool // only the shared class name "nginx" says the controller
	wantDeny []finding
	wantWarn []finding
}

func runNgxCases(t *testing.T, tests []ngxCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ing := mkIng(tt.opts...)
			before := ing.DeepCopy()
			ctx := ctxFor(tt.ctrl)
			ctx.Related.ClassShared = tt.shared
			errs, warns := validateIngressNginx(ing, nil, ctx)
			assertFindings(t, errs, warns, tt.wantDeny, tt.wantWarn)
			assertMessagesFit(t, errs, warns)
			assert.Equal(t, before, ing, "input modified")
		})
	}
}

func TestIngressNginx(t *testing.T) {
	runNgxCases(t, []ngxCase{
		{name: "no annotations"},
		{name: "valid cookie affinity", opts: []ingOpt{ngxA("affinity", " cookie ", "affinity-mode", "persistent",
			"session-cookie-name", "shop-aff", "session-cookie-max-age", "172800", "session-cookie-expires", "172800",
			"session-cookie-samesite", "None", "session-cookie-secure", "True", "session-cookie-path", "/shop",
			"session-cookie-domain", ".example.com", "session-cookie-change-on-failure", "false", "use-regex", "false")}},
		{name: "NGX-001 affinity Cookie", opts: []ingOpt{ngxA("affinity", "Cookie")},
			wantDeny: []finding{deny("NGX-001", ngxP("affinity"))}},
		{name: "NGX-001 affinity ip", opts: []ingOpt{ngxA("affinity", "ip")},
			wantDeny: []finding{deny("NGX-001", ngxP("affinity"))}},
		{name: "empty affinity is unset", opts: []ingOpt{ngxA("affinity", "")}},
		{name: "NGX-002 affinity-mode Persistent", opts: []ingOpt{ngxA("affinity", "cookie", "affinity-mode", "Persistent")},
			wantDeny: []finding{deny("NGX-002", ngxP("affinity-mode"))}},
		{name: "NGX-003 canary behavior Sticky", opts: []ingOpt{ngxA("canary", "true", "affinity-canary-behavior", "Sticky")},
			wantDeny: []finding{deny("NGX-003", ngxP("affinity-canary-behavior"))}},
		{name: "NGX-004 canary behavior on main Ingress", opts: []ingOpt{ngxA("affinity-canary-behavior", "legacy")},
			wantWarn: []finding{warn("NGX-004", ngxP("affinity-canary-behavior"))}},
		{name: "canary behavior on canary Ingress", opts: []ingOpt{ngxA("canary", "true", "affinity-canary-behavior", "legacy")}},
		{name: "NGX-005 cookie name with ;", opts: []ingOpt{ngxA("affinity", "cookie", "session-cookie-name", "a;b")},
			wantDeny: []finding{deny("NGX-005", ngxP("session-cookie-name"))}},
		{name: "cookie name spaces are stripped before matching", opts: []ingOpt{ngxA("affinity", "cookie", "session-cookie-name", "my cookie")}},
		{name: "NGX-006 JSESSIONID", opts: []ingOpt{ngxA("affinity", "cookie", "session-cookie-name", "JSESSIONID")},
			wantWarn: []finding{warn("NGX-006", ngxP("session-cookie-name"))}},
		{name: "NGX-007 max-age 48h", opts: []ingOpt{ngxA("affinity", "cookie", "session-cookie-max-age", "48h")},
			wantDeny: []finding{deny("NGX-007", ngxP("session-cookie-max-age"))}},
		{name: "NGX-007 expires with a trailing digit", opts: []ingOpt{ngxA("affinity", "cookie", "session-cookie-expires", "1 day2")},
			wantDeny: []finding{deny("NGX-007", ngxP("session-cookie-expires"))}},
		{name: "NGX-008 max-age 0", opts: []ingOpt{ngxA("affinity", "cookie", "session-cookie-max-age", "0")},
			wantWarn: []finding{warn("NGX-008", ngxP("session-cookie-max-age"))}},
		{name: "NGX-008 expires negative", opts: []ingOpt{ngxA("affinity", "cookie", "session-cookie-expires", "-1")},
			wantWarn: []finding{warn("NGX-008", ngxP("session-cookie-expires"))}},
		{name: "NGX-009 samesite Relaxed", opts: []ingOpt{ngxA("affinity", "cookie", "session-cookie-samesite", "Relaxed")},
			wantDeny: []finding{deny("NGX-009", ngxP("session-cookie-samesite"))}},
		{name: "samesite any case", opts: []ingOpt{ngxA("affinity", "cookie", "session-cookie-samesite", "STRICT")}},
		{name: "NGX-010 conditional with lowercase none", opts: []ingOpt{ngxA("affinity", "cookie", "session-cookie-samesite", "none",
			"session-cookie-conditional-samesite-none", "true", "session-cookie-secure", "true")},
			wantWarn: []finding{warn("NGX-010", ngxP("session-cookie-samesite"))}},
		{name: "conditional with None", opts: []ingOpt{ngxA("affinity", "cookie", "session-cookie-samesite", "None",
			"session-cookie-conditional-samesite-none", "true", "session-cookie-secure", "true")}},
		{name: "NGX-011 SameSite None without Secure", opts: []ingOpt{ngxA("affinity", "cookie", "session-cookie-samesite", "None")},
			wantWarn: []finding{warn("NGX-011", ngxP("session-cookie-secure"))}},
		{name: "NGX-012 secure yes and use-regex on", opts: []ingOpt{ngxA("session-cookie-secure", "yes", "use-regex", "on", "affinity", "cookie", "session-cookie-path", "/a")},
			wantDeny: []finding{deny("NGX-012", ngxP("session-cookie-secure")), deny("NGX-012", ngxP("use-regex"))}},
		{name: "NGX-012 bools are not trimmed", opts: []ingOpt{ngxA("affinity", "cookie", "session-cookie-change-on-failure", " true")},
			wantDeny: []finding{deny("NGX-012", ngxP("session-cookie-change-on-failure"))}},
		{name: "session-cookie-partitioned is no ingress-nginx v1.15.1 annotation", opts: []ingOpt{ngxA("affinity", "cookie", "session-cookie-partitioned", "yes")}},
		{name: "NGX-014 regex cookie path", opts: []ingOpt{ngxA("affinity", "cookie", "session-cookie-path", "/api/(.*)")},
			wantDeny: []finding{deny("NGX-014", ngxP("session-cookie-path"))}},
		{name: "NGX-014 Secure injection", opts: []ingOpt{ngxA("affinity", "cookie", "session-cookie-path", "/; Secure")},
			wantDeny: []finding{deny("NGX-014", ngxP("session-cookie-path"))}},
		{name: "NGX-015 wildcard domain", opts: []ingOpt{ngxA("affinity", "cookie", "session-cookie-domain", "*.example.com")},
			wantDeny: []finding{deny("NGX-015", ngxP("session-cookie-domain"))}},
		{name: "NGX-016 session-cookie-hash", opts: []ingOpt{ngxA("affinity", "cookie", "session-cookie-hash", "sha1")},
			wantWarn: []finding{warn("NGX-016", ngxP("session-cookie-hash"))}},
		{name: "NGX-017 cookie settings without affinity", opts: []ingOpt{ngxA("session-cookie-name", "x", "affinity-mode", "persistent")},
			wantWarn: []finding{warn("NGX-017", ngxP("affinity-mode")), warn("NGX-017", ngxP("session-cookie-name"))}},
		{name: "invalid affinity is NGX-001 only", opts: []ingOpt{ngxA("affinity", "sticky", "session-cookie-name", "x")},
			wantDeny: []finding{deny("NGX-001", ngxP("affinity"))}},
		{name: "NGX-018 affinity with upstream-hash-by", opts: []ingOpt{ngxA("affinity", "cookie", "upstream-hash-by", "$remote_addr")},
			wantWarn: []finding{warn("NGX-018", ngxP("upstream-hash-by"))}},
		{name: "upstream-hash-by alone", opts: []ingOpt{ngxA("upstream-hash-by", "$remote_addr")}},
		{name: "NGX-019 service-upstream", opts: []ingOpt{ngxA("affinity", "cookie", "service-upstream", "true")},
			wantDeny: []finding{deny("NGX-019", ngxP("service-upstream"))}},
		{name: "service-upstream false", opts: []ingOpt{ngxA("affinity", "cookie", "service-upstream", "false")}},
		{name: "other controller: nginx rules do not run", ctrl: ControllerTraefik, opts: []ingOpt{ngxA("affinity", "Cookie")}},
	})
}

// TestIngressNginxCookiePath is NGX-013: regex paths deny, use-regex with
// literal paths warns, a literal path (also with rewrite-target) is fine.
func TestIngressNginxCookiePath(t *testing.T) {
	implSpecific := networkingv1.PathTypeImplementationSpecific
	runNgxCases(t, []ngxCase{
		{name: "NGX-013 regex path without cookie path", opts: []ingOpt{ngxA("affinity", "cookie"), ingPath("/api(/|$)(.*)", implSpecific)},
			wantDeny: []finding{deny("NGX-013", ngxP("session-cookie-path"))}},
		{name: "NGX-013 regex path with rewrite-target", opts: []ingOpt{ngxA("affinity", "cookie", "rewrite-target", "/$1"), ingPath("/(app1/.*)", implSpecific)},
			wantDeny: []finding{deny("NGX-013", ngxP("session-cookie-path"))}},
		{name: "NGX-013 regex characters without use-regex", opts: []ingOpt{ngxA("affinity", "cookie"), ingPath("/api/v[0-9]+", implSpecific)},
			wantDeny: []finding{deny("NGX-013", ngxP("session-cookie-path"))}},
		{name: "NGX-013 use-regex with literal paths only warns", opts: []ingOpt{ngxA("affinity", "cookie", "use-regex", "true"), ingPath("/app", implSpecific)},
			wantWarn: []finding{warn("NGX-013", ngxP("session-cookie-path"))}},
		{name: "literal path with rewrite-target works", opts: []ingOpt{ngxA("affinity", "cookie", "rewrite-target", "/"), ingPath("/app", networkingv1.PathTypePrefix)}},
		{name: "use-regex false with literal path", opts: []ingOpt{ngxA("affinity", "cookie", "use-regex", "false")}},
		{name: "regex path with cookie path set but invalid is NGX-014 only", opts: []ingOpt{ngxA("affinity", "cookie", "session-cookie-path", "/api/(.*)"), ingPath("/api/(.*)", implSpecific)},
			wantDeny: []finding{deny("NGX-014", ngxP("session-cookie-path"))}},
		{name: "regex path with literal cookie path", opts: []ingOpt{ngxA("affinity", "cookie", "session-cookie-path", "/api"), ingPath("/api(/|$)(.*)", implSpecific)}},
		{name: "regex path without affinity", opts: []ingOpt{ingPath("/api(/|$)(.*)", implSpecific)}},
	})
}

// TestIngressNginxForeign is NGX-025, with the class name "nginx" shared by
// ingress-nginx and F5 NGINX.
func TestIngressNginxForeign(t *testing.T) {
	runNgxCases(t, []ngxCase{
		{name: "NGX-025 legacy prefix on nginx", ctrl: ControllerNginx,
			opts:     []ingOpt{ingAnn("ingress.kubernetes.io/affinity", "cookie", "nginx.com/sticky-cookie-services", "serviceName=web srv_id")},
			wantWarn: []finding{warn("NGX-025", annPath("ingress.kubernetes.io/affinity").String()), warn("NGX-025", annPath("nginx.com/sticky-cookie-services").String())}},
		{name: "NGX-025 shared class name: F5 keys may be read, the legacy prefix is not", ctrl: ControllerNginx, shared: true,
			opts:     []ingOpt{ingAnn("ingress.kubernetes.io/affinity", "cookie", "nginx.com/sticky-cookie-services", "serviceName=web srv_id", "nginx.org/server-snippets", "x")},
			wantWarn: []finding{warn("NGX-025", annPath("ingress.kubernetes.io/affinity").String())}},
		{name: "NGX-025 nginx.org key on an ingress-nginx IngressClass", ctrl: ControllerNginx, opts: []ingOpt{ingAnn("nginx.org/lb-method", "ip_hash")},
			wantWarn: []finding{warn("NGX-025", annPath("nginx.org/lb-method").String())}},
		{name: "legacy prefix with unknown controller is not NGX-025", opts: []ingOpt{ingAnn("ingress.kubernetes.io/affinity", "cookie")}},
	})
}

func TestIngressNginxOffline(t *testing.T) {
	prefix := networkingv1.PathTypePrefix
	tests := []struct {
		name     string
		opts     []ingOpt
		wantWarn []finding
	}{
		{name: "NGX-020 upstream-hash-by with ;", opts: []ingOpt{ngxA("upstream-hash-by", "$request_uri;")},
			wantWarn: []finding{warn("NGX-020", ngxP("upstream-hash-by"))}},
		{name: "upstream-hash-by variables", opts: []ingOpt{ngxA("upstream-hash-by", "${binary_remote_addr}-$http_x_user")}},
		{name: "NGX-022 regex path with Prefix", opts: []ingOpt{ingPath("/api(/|$)(.*)", prefix)},
			wantWarn: []finding{warn("NGX-022", ngxPath0)}},
		{name: "regex path with ImplementationSpecific", opts: []ingOpt{ingPath("/api(/|$)(.*)", networkingv1.PathTypeImplementationSpecific)}},
		{name: "literal path with Prefix", opts: []ingOpt{ingPath("/api/v1", prefix)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs, warns := validateIngressNginxOffline(mkIng(tt.opts...), nil, offlineCtx())
			assertFindings(t, errs, warns, nil, tt.wantWarn)
			assertMessagesFit(t, errs, warns)
		})
	}
}

func TestIngressNginxShared(t *testing.T) {
	other := func(name string, ctrl Controller, opts ...ingOpt) RelatedIngress {
		ing := mkIng(opts...)
		ing.Name = name
		return RelatedIngress{Ingress: ing, Controller: ctrl}
	}
	byPortName := func(i *networkingv1.Ingress) {
		i.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port = networkingv1.ServiceBackendPort{Name: "http"}
	}
	otherHost := func(i *networkingv1.Ingress) {
		i.Spec.Rules[0].Host = "other.example.com"
		i.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name = "web-canary"
	}
	canarySvc := func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name = "web-canary" }
	affA := ngxA("affinity", "cookie", "session-cookie-name", "a")
	tests := []struct {
		name     string
		opts     []ingOpt
		related  []RelatedIngress
		wantWarn []finding
	}{
		{name: "NGX-023 same Service port, different cookie name", opts: []ingOpt{affA},
			related:  []RelatedIngress{other("web-2", ControllerNginx, ngxA("affinity", "cookie", "session-cookie-name", "b"))},
			wantWarn: []finding{warn("NGX-023", ngxP("affinity"))}},
		{name: "NGX-023 one Ingress without affinity", opts: []ingOpt{affA},
			related:  []RelatedIngress{other("web-2", ControllerNginx)},
			wantWarn: []finding{warn("NGX-023", ngxP("affinity"))}},
		{name: "NGX-023 port name resolved through the Service", opts: []ingOpt{affA},
			related:  []RelatedIngress{other("web-2", ControllerNginx, byPortName, ngxA("affinity", "cookie", "affinity-mode", "persistent", "session-cookie-name", "a"))},
			wantWarn: []finding{warn("NGX-023", ngxP("affinity"))}},
		{name: "identical affinity", opts: []ingOpt{affA},
			related: []RelatedIngress{other("web-2", ControllerNginx, ngxA("affinity", "cookie", "session-cookie-name", " a", "affinity-mode", "balanced"))}},
		{name: "neither has affinity", related: []RelatedIngress{other("web-2", ControllerNginx, ngxA("affinity-mode", "persistent"))}},
		{name: "other controller is not compared", opts: []ingOpt{affA},
			related: []RelatedIngress{other("web-2", ControllerTraefik, ngxA("affinity", "cookie", "session-cookie-name", "b"))}},
		{name: "NGX-024 canary differs from main", opts: []ingOpt{ngxA("canary", "true", "affinity", "cookie", "session-cookie-name", "c"), canarySvc},
			related:  []RelatedIngress{other("web-main", ControllerNginx, affA)},
			wantWarn: []finding{warn("NGX-024", ngxP("affinity"))}},
		{name: "NGX-024 main sees a differing canary", opts: []ingOpt{affA},
			related:  []RelatedIngress{other("web-canary", ControllerNginx, canarySvc, ngxA("canary", "true", "affinity", "cookie", "session-cookie-name", "c"))},
			wantWarn: []finding{warn("NGX-024", ngxP("affinity"))}},
		// controller.go mergeAlternativeBackend copies the main's affinity to
		// the canary backend unless affinity-canary-behavior is legacy: a
		// canary without affinity annotations is sticky like its main.
		{name: "canary without affinity inherits the main's (main under review)", opts: []ingOpt{affA},
			related: []RelatedIngress{other("web-canary", ControllerNginx, canarySvc, ngxA("canary", "true", "canary-weight", "20"))}},
		{name: "canary without affinity inherits the main's (canary under review)", opts: []ingOpt{ngxA("canary", "true", "canary-weight", "20"), canarySvc},
			related: []RelatedIngress{other("web-main", ControllerNginx, affA)}},
		{name: "canary with legacy behavior keeps its own affinity",
			opts:    []ingOpt{ngxA("canary", "true", "affinity-canary-behavior", "legacy", "affinity", "cookie", "session-cookie-name", "c"), canarySvc},
			related: []RelatedIngress{other("web-main", ControllerNginx, affA)}},
		{name: "canary of another host", opts: []ingOpt{ngxA("canary", "true", "affinity", "cookie"), otherHost},
			related: []RelatedIngress{other("web-main", ControllerNginx, affA)}},
	}
	svc := mkSvc()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := ctxFor(ControllerNginx)
			ctx.Related.Ingresses = tt.related
			ctx.Related.BackendServices = []*corev1.Service{svc}
			errs, warns := validateIngressNginx(mkIng(tt.opts...), nil, ctx)
			assertFindings(t, errs, warns, nil, tt.wantWarn)
			assertMessagesFit(t, errs, warns)
		})
	}
}

func TestNgxLiteralPrefix(t *testing.T) {
	for in, want := range map[string]string{
		"/api(/|$)(.*)":         "/api",
		"/api(?:/|$)(.*)":       "/api",
		"/api/v1/(.*)":          "/api/v1",
		"^/shop/.*":             "/shop",
		"/(app1/.*)":            "/app1",
		"/(?:app1/.*)":          "/app1",
		"/((app1)/x)/.*":        "/app1/x",
		"/api/v[0-9]+/.*":       "/api",
		"/app/?":                "/app",
		"/app/?(.*)":            "/app",
		"/apps?":                "/",
		"/a+":                   "/",
		"/(app1|app2)/.*":       "/",
		"/(app1)?/x":            "/",
		"/api(/.*)?":            "/api",
		"/api(/.*)?x":           "/",
		"/api(|/.*)":            "/api",
		"/a|/b":                 "/",
		"/files\\.d/(.*)":       "/files.d",
		"/x\\d+":                "/",
		"/(?i)api":              "/",
		"/foo.*":                "/",
		"/":                     "/",
		"(.*)":                  "/",
		"/a/b":                  "/a/b",
		"/a/b/":                 "/a/b",
		"/unclosed(abc":         "/unclosedabc",
		"/stray)/x":             "/",
		"":                      "/",
		"/api/(?P<rest>.*)$":    "/api",
		"/static/.+\\.(js|css)": "/static",
	} {
		assert.Equal(t, want, NginxLiteralPrefix(in), in)
	}
}

func TestNgxCommonPrefix(t *testing.T) {
	assert.Equal(t, "/", NginxCommonPrefix(nil))
	assert.Equal(t, "/app1", NginxCommonPrefix([]string{"/app1"}))
	assert.Equal(t, "/shop", NginxCommonPrefix([]string{"/shop/api", "/shop/ui", "/shop"}))
	assert.Equal(t, "/", NginxCommonPrefix([]string{"/app1", "/app2"}), "segments, not characters")
	assert.Equal(t, "/", NginxCommonPrefix([]string{"/", "/app"}))
}

// TestNgx013Fix: the suggested fix never proposes a value the message
// forbids, names the literal prefix when there is one, and asks for a
// cookie name of its own with "/".
func TestNgx013Fix(t *testing.T) {
	implSpecific := networkingv1.PathTypeImplementationSpecific
	tests := []struct {
		path, want string
	}{
		{"/(app1/.*)", `fix: set session-cookie-path: "/app1"`},
		{"/api(/|$)(.*)", `fix: set session-cookie-path: "/api"`},
		{"/(.*)", `fix: set session-cookie-path: "/" and a session-cookie-name of its own`},
		{"/" + strings.Repeat("seg/", 12) + "(.*)", "fix: set session-cookie-path to the paths' literal prefix"},
	}
	for _, tt := range tests {
		errs, _ := validateIngressNginx(mkIng(ngxA("affinity", "cookie"), ingPath(tt.path, implSpecific)), nil, ctxFor(ControllerNginx))
		if assert.Len(t, errs, 1, tt.path) {
			assert.Equal(t, "NGX-013", errs[0].Origin)
			assert.Contains(t, errs[0].Detail, tt.want, tt.path)
			assert.Equal(t, 1, strings.Count(errs[0].Detail, "session-cookie-path"), "one instruction, nothing it contradicts: %s", errs[0].Detail)
		}
	}
	_, warns := validateIngressNginx(mkIng(ngxA("affinity", "cookie", "use-regex", "true"), ingPath("/app", implSpecific)), nil, ctxFor(ControllerNginx))
	if assert.Len(t, warns, 1) {
		assert.Contains(t, warns[0].Message(), `fix: set session-cookie-path: "/app"`)
	}
}

func TestServiceNginx(t *testing.T) {
	tests := []struct {
		name     string
		opts     []svcOpt
		wantWarn []finding
	}{
		{name: "no annotations"},
		{name: "NGX-026 cookie affinity written on a Service", opts: []svcOpt{svcAnn(ngxPrefix+"affinity", "cookie", ngxPrefix+"session-cookie-name", "route",
			ngxPrefix+"affinity-mode", "persistent")},
			wantWarn: []finding{warn("NGX-026", ngxP("affinity")), warn("NGX-026", ngxP("affinity-mode")), warn("NGX-026", ngxP("session-cookie-name"))}},
		{name: "NGX-026 upstream-hash-by on a Service", opts: []svcOpt{svcAnn(ngxPrefix+"upstream-hash-by", "$remote_addr")},
			wantWarn: []finding{warn("NGX-026", ngxP("upstream-hash-by"))}},
		{name: "other nginx annotations on a Service are not affinity", opts: []svcOpt{svcAnn(ngxPrefix+"backend-protocol", "HTTPS")}},
		{name: "the legacy prefix on a Service is HAProxy Ingress's", opts: []svcOpt{svcAnn("ingress.kubernetes.io/affinity", "cookie")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := mkSvc(tt.opts...)
			before := svc.DeepCopy()
			errs, warns := validateServiceNginx(svc, nil, ctxFor(ControllerUnknown))
			assertFindings(t, errs, warns, nil, tt.wantWarn)
			assertMessagesFit(t, errs, warns)
			assert.Equal(t, before, svc, "input modified")
		})
	}
}

func FuzzIngressNginx(f *testing.F) {
	f.Add("affinity", "cookie", "session-cookie-max-age", "48h", "/api(/|$)(.*)")
	f.Add("session-cookie-samesite", "None", "canary", "true", "/")
	f.Add("upstream-hash-by", "$request_uri;", "use-regex", "yes", "^/x")
	f.Add("session-cookie-expires", "-0", "affinity-mode", "", "")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, path string) {
		ing := mkIng(ngxA(k1, v1, "affinity", "cookie"), ingAnn(k2, v2), ingPath(path, networkingv1.PathTypePrefix))
		before := ing.DeepCopy()
		peer := ing.DeepCopy()
		peer.Name = "peer"
		peer.Annotations[ngxPrefix+"canary"] = v2
		shared := ctxFor(ControllerNginx)
		shared.Related.Ingresses = []RelatedIngress{{Ingress: peer, Controller: ControllerNginx}, {}}
		for _, ctx := range []*Context{ctxFor(ControllerUnknown), ctxFor(ControllerNginx), offlineCtx(), shared} {
			validateIngressNginx(ing, nil, ctx)
			validateIngressNginxOffline(ing, nil, ctx)
		}
		if !assert.Equal(t, before, ing) {
			t.Fatal("input modified")
		}
	})
}

// TestNginxAffinity: the affinity config is read as ingress-nginx reads it
// (invalid values fall back to the defaults, lifetimes as sticky.lua's
// tonumber makes them), and only cookie affinity reads the cookie fields.
func TestNginxAffinity(t *testing.T) {
	ann := func(kv ...string) map[string]string {
		a := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			a[ngxPrefix+kv[i]] = kv[i+1]
		}
		return a
	}
	type secs struct {
		n  int64
		ok bool
	}
	tests := []struct {
		name           string
		a              map[string]string
		want           NginxAffinityConf
		maxAge, expire secs
	}{
		{name: "nothing set", a: ann(),
			want: NginxAffinityConf{Mode: "balanced", CanaryBehavior: "sticky"}},
		{name: "cookie with defaults", a: ann("affinity", " cookie "),
			want: NginxAffinityConf{Type: "cookie", Mode: "balanced", CanaryBehavior: "sticky", Name: "INGRESSCOOKIE"}},
		{name: "Cookie is not cookie: cookie settings ignored", a: ann("affinity", "Cookie", "session-cookie-name", "web", "affinity-mode", "persistent"),
			want: NginxAffinityConf{Mode: "persistent", CanaryBehavior: "sticky"}},
		{name: "invalid values fall back", a: ann("affinity", "cookie", "affinity-mode", "Persistent", "affinity-canary-behavior", "Legacy",
			"session-cookie-name", "bad name!", "session-cookie-samesite", "Sometimes", "session-cookie-secure", "yes"),
			want: NginxAffinityConf{Type: "cookie", Mode: "balanced", CanaryBehavior: "sticky", Name: "INGRESSCOOKIE"}},
		{name: "valid values, trimmed", a: ann("affinity", "cookie", "affinity-mode", "persistent", "affinity-canary-behavior", "legacy",
			"session-cookie-name", " web ", "session-cookie-path", "/shop", "session-cookie-domain", ".example.com",
			"session-cookie-samesite", "None", "session-cookie-secure", "true", "session-cookie-conditional-samesite-none", "1",
			"session-cookie-change-on-failure", "true", "session-cookie-max-age", "172800", "session-cookie-expires", "3600"),
			want: NginxAffinityConf{Type: "cookie", Mode: "persistent", CanaryBehavior: "legacy", Name: "web", Path: "/shop",
				Domain: ".example.com", SameSite: "None", Secure: true, ConditionalSameSiteNone: true, ChangeOnFailure: true,
				MaxAge: "172800", Expires: "3600"},
			maxAge: secs{172800, true}, expire: secs{3600, true}},
		{name: "lifetimes that are not integers are dropped", a: ann("affinity", "cookie", "session-cookie-max-age", "48h", "session-cookie-expires", "1.5"),
			want: NginxAffinityConf{Type: "cookie", Mode: "balanced", CanaryBehavior: "sticky", Name: "INGRESSCOOKIE", Expires: "1.5"}},
		{name: "zero and negative lifetimes are kept", a: ann("affinity", "cookie", "session-cookie-max-age", "0", "session-cookie-expires", "-60"),
			want:   NginxAffinityConf{Type: "cookie", Mode: "balanced", CanaryBehavior: "sticky", Name: "INGRESSCOOKIE", MaxAge: "0", Expires: "-60"},
			maxAge: secs{0, true}, expire: secs{-60, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NginxAffinity(tt.a)
			assert.Equal(t, tt.want, c)
			assert.Equal(t, tt.want.Type == "cookie", c.Cookie())
			n, ok := c.MaxAgeSeconds()
			assert.Equal(t, tt.maxAge, secs{n, ok}, "max-age")
			n, ok = c.ExpiresSeconds()
			assert.Equal(t, tt.expire, secs{n, ok}, "expires")
		})
	}
}
