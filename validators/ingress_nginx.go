package validators

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ingress-nginx session-affinity rules. Values are read the way
// internal/ingress/annotations/sessionaffinity/main.go and parser/validators.go
// read them: enums trimmed and compared case-sensitively (samesite
// case-insensitively), regex validators applied after removing spaces, bools
// through strconv.ParseBool on the raw value, empty values treated as unset.

// NginxPrefix is the prefix of ingress-nginx's annotations; ngxPrefix is
// its short form in the rules.
const (
	NginxPrefix = "nginx.ingress.kubernetes.io/"
	ngxPrefix   = NginxPrefix
)

var (
	// parser.BasicCharsRegex and parser.URLIsValidRegex.
	ngxBasicChars = regexp.MustCompile(`^[/\-._~a-zA-Z0-9:]*$`)
	ngxURLChars   = regexp.MustCompile(`^[\-._~a-zA-Z0-9/:,?&=]*$`)
	// sessionaffinity affinityCookieExpiresRegex (unanchored start: lax).
	ngxExpiresLax = regexp.MustCompile(`(^0|-?[1-9]\d*$)`)
	// What sticky.lua's tonumber() needs: an integer number of seconds.
	ngxSeconds = regexp.MustCompile(`^-?\d+$`)
	// upstreamhashby hashByRegex.
	ngxHashBy = regexp.MustCompile(`^[A-Za-z0-9\-_${}]*$`)
)

var ngx001 = &Rule{ID: "NGX-001", Severity: Deny, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:   `affinity is not exactly "cookie", so affinity stays off`,
	Fix:     `write "cookie" in lowercase`,
	Explain: `ingress-nginx accepts only the value "cookie" (case-sensitive, trimmed); any other value (Cookie, true, ip, sticky) makes the parser drop the annotation, and the Ingress runs without affinity.`,
	Source:  "ingress-nginx sessionaffinity/main.go:74 ValidateOptions, main.go:267 at=\"\"; ingress-nginx#10295"}

var ngx002 = &Rule{ID: "NGX-002", Severity: Deny, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:   "affinity-mode is invalid; falls back to balanced",
	Fix:     "use balanced or persistent",
	Explain: "affinity-mode is compared case-sensitively; balancer.lua treats anything but \"persistent\" as balanced, so a typo silently gives the mode that redistributes sessions when pods scale.",
	Source:  "ingress-nginx sessionaffinity/main.go:80; rootfs/etc/nginx/lua/balancer.lua:48-54"}

var ngx003 = &Rule{ID: "NGX-003", Severity: Deny, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "affinity-canary-behavior is not sticky or legacy",
	Fix:    `use "sticky" or "legacy"`,
	Source: "ingress-nginx sessionaffinity/main.go:88; controller.go:1597"}

var ngx004 = &Rule{ID: "NGX-004", Severity: Warn, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "affinity-canary-behavior is only read from a canary Ingress",
	Fix:    `move it to the Ingress with nginx.ingress.kubernetes.io/canary: "true"`,
	Source: "ingress-nginx controller.go:1597 mergeAlternativeBackend"}

var ngx005 = &Rule{ID: "NGX-005", Severity: Deny, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "cookie name has characters outside [/-._~a-zA-Z0-9:]; INGRESSCOOKIE is used",
	Fix:    "use only letters, digits and - . _ ~ : /",
	Source: "ingress-nginx sessionaffinity/main.go:96; parser/validators.go BasicCharsRegex"}

var ngx006 = &Rule{ID: "NGX-006", Severity: Warn, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:   "the affinity cookie has the name of a common application session cookie and overwrites it",
	Fix:     "give it a name of its own, e.g. INGRESSCOOKIE",
	Explain: "ingress-nginx writes the affinity cookie with the value <key>|<backend>; named JSESSIONID, PHPSESSID, ASP.NET_SessionId, connect.sid, SESSION or laravel_session it replaces the application's own session cookie and logs users out.",
	Source:  `ingress-nginx sticky.lua (value .. "|" .. backend_key); ingress-nginx#2622, #2735`}

var ngx007 = &Rule{ID: "NGX-007", Severity: Deny, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "not an integer number of seconds; ingress-nginx silently drops it",
	Fix:    `write whole seconds, e.g. "172800" for 48h`,
	Source: "ingress-nginx sessionaffinity/main.go:154 affinityCookieExpiresRegex; sticky.lua tonumber"}

var ngx008 = &Rule{ID: "NGX-008", Severity: Warn, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "zero or negative lifetime: the browser drops the cookie at once",
	Fix:    "use positive seconds, or remove it for a session cookie",
	Source: "RFC 6265 Max-Age semantics; ingress-nginx regex allows -?"}

var ngx009 = &Rule{ID: "NGX-009", Severity: Deny, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "SameSite is not None, Lax or Strict; ignored",
	Fix:    "use None, Lax or Strict",
	Source: "ingress-nginx sessionaffinity/main.go:132 ValidateOptions(none, lax, strict)"}

var ngx010 = &Rule{ID: "NGX-010", Severity: Warn, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  `conditional-samesite-none acts only when samesite is exactly "None"`,
	Fix:    `write session-cookie-samesite: "None" (capital N)`,
	Source: `ingress-nginx sticky.lua:84 cookie_samesite == "None"`}

var ngx011 = &Rule{ID: "NGX-011", Severity: Warn, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:   "SameSite=None without Secure: browsers reject the cookie unless nginx itself sees HTTPS",
	Fix:     `set session-cookie-secure: "true"`,
	Explain: "Browsers drop SameSite=None cookies that are not Secure. Without session-cookie-secure, ingress-nginx adds Secure only when the request reaching nginx is HTTPS, which it is not behind a TLS-terminating load balancer.",
	Source:  "ingress-nginx sticky.lua:91; pkg/apis/ingress/types.go Secure; ingress-nginx#6812"}

var ngx012 = &Rule{ID: "NGX-012", Severity: Deny, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:   "not a boolean (strconv.ParseBool); ingress-nginx ignores it",
	Fix:     `write "true" or "false"`,
	Explain: "Checked on session-cookie-secure, session-cookie-conditional-samesite-none, session-cookie-change-on-failure and use-regex (ingress-nginx v1.15.1 has no session-cookie-partitioned annotation). The value is not trimmed.",
	Source:  "ingress-nginx sessionaffinity/main.go parser.ValidateBool"}

var ngx013 = &Rule{ID: "NGX-013", Severity: Deny, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:   "cookie affinity on a regex path without session-cookie-path: the cookie Path becomes the regex",
	Fix:     `set session-cookie-path to the paths' literal prefix; if that is "/", also give the cookie a session-cookie-name of its own`,
	Explain: "Without session-cookie-path, ingress-nginx sets the cookie Path to the Ingress path as written (sticky.lua cookie_path = location_path). A literal path (/app, also with rewrite-target) works. A path with regex characters becomes a Path that browsers never match, so the cookie never comes back: denied. use-regex \"true\" with only literal paths still works, but the docs require session-cookie-path with use-regex: a warning. The suggested value is the longest literal prefix, cut to whole path segments, that all the Ingress's paths share; \"/\" is sent to every app on the host, so it needs a cookie name no other app uses.",
	Source:  "ingress-nginx annotations.md §Use Regex; nginx.tmpl $location_path; sticky.lua cookie_path; ingress-nginx#3362, #8961"}

var ngx014 = &Rule{ID: "NGX-014", Severity: Deny, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "session-cookie-path has characters outside [-._~a-zA-Z0-9/:,?&=]; ignored",
	Fix:    `use a literal URL path such as "/shop"`,
	Source: "ingress-nginx sessionaffinity/main.go:120; parser/validators.go URLIsValidRegex; ingress-nginx#6812"}

var ngx015 = &Rule{ID: "NGX-015", Severity: Deny, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "session-cookie-domain has characters outside [/-._~a-zA-Z0-9:]; ignored",
	Fix:    `use a plain domain such as ".example.com"`,
	Source: "ingress-nginx sessionaffinity/main.go:126 BasicCharsRegex"}

var ngx016 = &Rule{ID: "NGX-016", Severity: Warn, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "session-cookie-hash was removed in ingress-nginx 0.24.0 and is ignored",
	Fix:    "remove it",
	Source: "ingress-nginx PR #3743 (Changelog 0.23/0.24)"}

var ngx017 = &Rule{ID: "NGX-017", Severity: Warn, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  `cookie settings are ignored unless affinity is "cookie"`,
	Fix:    `add nginx.ingress.kubernetes.io/affinity: "cookie" or remove them`,
	Source: "ingress-nginx sessionaffinity/main.go Parse (cookieAffinityParse runs only for cookie)"}

var ngx018 = &Rule{ID: "NGX-018", Severity: Warn, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "cookie affinity takes precedence; upstream-hash-by is ignored",
	Fix:    "remove either affinity or upstream-hash-by",
	Source: "ingress-nginx rootfs/etc/nginx/lua/balancer.lua:45-63"}

var ngx019 = &Rule{ID: "NGX-019", Severity: Deny, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:   "sticky sessions do not work with service-upstream (one ClusterIP upstream)",
	Fix:     `remove service-upstream or set it to "false"`,
	Explain: "With service-upstream nginx sends every request to the Service's ClusterIP and kube-proxy picks the pod, so the affinity cookie has no endpoint to pin (annotations.md, Service Upstream, Known Issues).",
	Source:  "ingress-nginx annotations.md §Service Upstream, Known Issues"}

var ngx020 = &Rule{ID: "NGX-020", Severity: Warn, Kinds: []string{KindIngress}, Family: "ingress-nginx", Offline: true,
	Title:  "upstream-hash-by has characters outside [A-Za-z0-9-_${}]; ingress-nginx rejects it",
	Fix:    `use nginx variables, e.g. "$remote_addr"`,
	Source: "ingress-nginx upstreamhashby/main.go:37; annotations.go:192"}

var ngx022 = &Rule{ID: "NGX-022", Severity: Warn, Kinds: []string{KindIngress}, Family: "ingress-nginx", Offline: true,
	Title:  "regex path with pathType Exact or Prefix; ingress-nginx (strict-validate-path-type) rejects the Ingress",
	Fix:    "use pathType: ImplementationSpecific for regex paths",
	Source: "ingress-nginx internal/ingress/inspector ValidatePathType; configmap.md §strict-validate-path-type"}

var ngx023 = &Rule{ID: "NGX-023", Severity: Warn, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:   "Ingresses sharing a Service port disagree on affinity",
	Fix:     "make the affinity annotations identical",
	Explain: "ingress-nginx keeps one affinity config per upstream (Service and port): affinity type and mode come from the first Ingress processed, cookie attributes from the last, so the result depends on processing order.",
	Source:  "ingress-nginx controller.go:875-897; docs/examples/affinity/cookie/README.md §Caveats; ingress-nginx#3168"}

var ngx024 = &Rule{ID: "NGX-024", Severity: Warn, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:   "canary affinity differs from the main Ingress",
	Fix:     "match the main Ingress, or use affinity-canary-behavior: legacy",
	Explain: "With affinity-canary-behavior sticky (the default) ingress-nginx copies the main Ingress's affinity config to the canary backend (controller.go mergeAlternativeBackend), so the canary's own affinity annotations do not apply; legacy keeps them. A canary with no affinity annotations of its own simply inherits the main's and is not reported.",
	Source:  "ingress-nginx annotations.md §Canary; controller.go:1597-1598"}

var ngx025 = &Rule{ID: "NGX-025", Severity: Warn, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:   "annotation of another controller dialect on an ingress-nginx Ingress; ingress-nginx does not read it",
	Fix:     `use nginx.ingress.kubernetes.io/affinity: "cookie" and session-cookie-*`,
	Explain: "The pre-0.9 ingress.kubernetes.io/ prefix (still read by haproxy-ingress) and the F5 NGINX Ingress Controller's nginx.org/ and nginx.com/ keys. When only the class name \"nginx\" says which controller serves the Ingress (no IngressClass object, or the legacy class annotation), it may be F5 NGINX, so its keys are not reported.",
	Source:  "ingress-nginx#2622, #2735, #771; nginx/kubernetes-ingress#500"}

var ngx026 = &Rule{ID: "NGX-026", Severity: Warn, Kinds: []string{KindService}, Family: "ingress-nginx",
	Title:   "ingress-nginx reads affinity annotations only from Ingresses, not Services",
	Fix:     "move it to the Ingresses that route to this Service",
	Explain: "ingress-nginx parses nginx.ingress.kubernetes.io/affinity, affinity-mode, affinity-canary-behavior, session-cookie-* and upstream-hash-by* from the Ingress only; on a Service they do nothing.",
	Source:  "ingress-nginx internal/ingress/annotations (parsers run on the Ingress); annotations.md"}

var nginxRules = []*Rule{
	ngx001, ngx002, ngx003, ngx004, ngx005, ngx006, ngx007, ngx008, ngx009, ngx010, ngx011, ngx012,
	ngx013, ngx014, ngx015, ngx016, ngx017, ngx018, ngx019, ngx020, ngx022, ngx023, ngx024, ngx025, ngx026,
}

// ruleWithFix returns a copy of r whose messages carry fix, a fix naming a
// value computed from the object; the catalog and docs keep r.Fix.
func ruleWithFix(r *Rule, fix string) *Rule {
	c := *r
	c.Fix = fix
	return &c
}

// echoValue clips a value echoed in a field error. Admission warnings are
// cut at 256 characters, and the rule ID, the field path, what is wrong and
// the fix must all fit.
func echoValue(s string) string {
	const limit = 20
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	return string([]rune(s)[:limit]) + "..."
}

// NginxAnnotation reads nginx.ingress.kubernetes.io/<name>; ok is false
// when the annotation is missing or empty (ingress-nginx skips empty values).
func NginxAnnotation(a map[string]string, name string) (string, bool) {
	v, ok := a[ngxPrefix+name]
	return v, ok && v != ""
}

func ngxPath(name string) *field.Path { return annPath(ngxPrefix + name) }

// IsNginxCanary reports whether an Ingress is an ingress-nginx canary
// (nginx.ingress.kubernetes.io/canary true, as ingress-nginx parses it).
func IsNginxCanary(ing *networkingv1.Ingress) bool { return NginxBool(ing.Annotations, "canary") }

// NginxBool reads nginx.ingress.kubernetes.io/<name> as
// parser.GetBoolAnnotation does: strconv.ParseBool on the raw value.
func NginxBool(a map[string]string, name string) bool {
	v, _ := NginxAnnotation(a, name)
	b, ok := parseBool(v)
	return ok && b
}

// ngxCookie reports whether affinity is "cookie" as ingress-nginx parses it.
func ngxCookie(a map[string]string) bool {
	v, _ := NginxAnnotation(a, "affinity")
	return strings.TrimSpace(v) == "cookie"
}

func validateIngressNginx(ing, old *networkingv1.Ingress, ctx *Context) (field.ErrorList, Warnings) {
	if !appliesTo(ctx.Related.Controller, ControllerNginx) {
		return nil, nil
	}
	var f findings
	a := ing.Annotations
	ngxEnums(&f, a)
	ngxCookieValues(&f, a)
	ngxInteractions(&f, ing)
	if ctx.Related.Controller == ControllerNginx {
		ngxForeign(&f, a, ctx.Related.ClassShared)
	}
	ngxShared(&f, ing, ctx)
	return f.result()
}

// ngxForeign is NGX-025. When only the shared class name "nginx" says which
// controller serves the Ingress, it may be F5 NGINX, which reads nginx.org/
// and nginx.com/ keys: those are not reported then.
func ngxForeign(f *findings, a map[string]string, shared bool) {
	detail := "not read by ingress-nginx"
	if shared {
		detail = "read by neither ingress-nginx nor F5 NGINX"
	}
	for _, k := range slices.Sorted(maps.Keys(a)) {
		if !ngxForeignKey(k) || (shared && ngxF5Key(k)) {
			continue
		}
		f.warn(ngx025, annPath(k), nil, detail)
	}
}

// validateServiceNginx is NGX-026: ingress-nginx affinity annotations on a
// Service, where ingress-nginx never reads them.
func validateServiceNginx(svc, old *corev1.Service, ctx *Context) (field.ErrorList, Warnings) {
	var f findings
	for _, k := range keysWhere(svc.Annotations, func(k string) bool { return strings.HasPrefix(k, ngxPrefix) }) {
		if n, ok := strings.CutPrefix(k, ngxPrefix); ok && ngxStickyName(n) {
			f.warn(ngx026, annPath(k), nil, "")
		}
	}
	return f.result()
}

// ngxStickyName reports the ingress-nginx annotation names (after the
// prefix) that configure stickiness: affinity and cookie settings, and the
// upstream-hash-by family.
func ngxStickyName(n string) bool {
	switch {
	case n == "affinity", n == "affinity-mode", n == "affinity-canary-behavior",
		strings.HasPrefix(n, "session-cookie-"), strings.HasPrefix(n, "upstream-hash-by"):
		return true
	}
	return false
}

// validateIngressNginxOffline holds the rules ingress-nginx's own admission
// webhook already enforces (NGX-020, NGX-022); `check` runs them.
func validateIngressNginxOffline(ing, old *networkingv1.Ingress, ctx *Context) (field.ErrorList, Warnings) {
	if !appliesTo(ctx.Related.Controller, ControllerNginx) {
		return nil, nil
	}
	var f findings
	if v, ok := NginxAnnotation(ing.Annotations, "upstream-hash-by"); ok && !ngxHashBy.MatchString(strings.ReplaceAll(v, " ", "")) {
		f.warn(ngx020, ngxPath("upstream-hash-by"), echoValue(v), "")
	}
	ngxEachPath(ing, func(p *field.Path, hp networkingv1.HTTPIngressPath) {
		if hp.PathType != nil && *hp.PathType != networkingv1.PathTypeImplementationSpecific && NginxRegexPath(hp.Path) {
			f.warn(ngx022, p, echoValue(hp.Path), "regex characters in a path with pathType "+string(*hp.PathType))
		}
	})
	return f.result()
}

func ngxEnums(f *findings, a map[string]string) {
	enum := func(r *Rule, name string, valid []string, fold bool) {
		v, ok := NginxAnnotation(a, name)
		if !ok {
			return
		}
		s := strings.TrimSpace(v)
		if fold {
			s = strings.ToLower(s)
		}
		if !slices.Contains(valid, s) {
			f.notSupported(r, ngxPath(name), echoValue(v), valid, "")
		}
	}
	enum(ngx001, "affinity", []string{"cookie"}, false)
	enum(ngx002, "affinity-mode", []string{"balanced", "persistent"}, false)
	enum(ngx003, "affinity-canary-behavior", []string{"sticky", "legacy"}, false)
	enum(ngx009, "session-cookie-samesite", []string{"none", "lax", "strict"}, true)
	for _, name := range []string{
		"session-cookie-secure", "session-cookie-conditional-samesite-none",
		"session-cookie-change-on-failure", "use-regex",
	} {
		if v, ok := NginxAnnotation(a, name); ok {
			if _, valid := parseBool(v); !valid {
				f.invalid(ngx012, ngxPath(name), echoValue(v), "")
			}
		}
	}
	if _, ok := NginxAnnotation(a, "affinity-canary-behavior"); ok && !NginxBool(a, "canary") {
		f.warn(ngx004, ngxPath("affinity-canary-behavior"), nil, "")
	}
}

func ngxCookieValues(f *findings, a map[string]string) {
	chars := func(r *Rule, name string, re *regexp.Regexp) {
		if v, ok := NginxAnnotation(a, name); ok && !re.MatchString(strings.ReplaceAll(v, " ", "")) {
			f.invalid(r, ngxPath(name), echoValue(v), "")
		}
	}
	chars(ngx005, "session-cookie-name", ngxBasicChars)
	chars(ngx014, "session-cookie-path", ngxURLChars)
	chars(ngx015, "session-cookie-domain", ngxBasicChars)
	cookie := ngxCookie(a)
	for _, name := range []string{"session-cookie-max-age", "session-cookie-expires"} {
		v, ok := NginxAnnotation(a, name)
		if !ok {
			continue
		}
		s := strings.TrimSpace(v)
		switch {
		case !ngxSeconds.MatchString(s):
			f.invalid(ngx007, ngxPath(name), echoValue(v), "")
		case cookie && (s[0] == '-' || strings.Trim(s, "0") == ""):
			f.warn(ngx008, ngxPath(name), echoValue(s), "")
		}
	}
	if _, ok := a[ngxPrefix+"session-cookie-hash"]; ok {
		f.warn(ngx016, ngxPath("session-cookie-hash"), nil, "")
	}
	if !cookie {
		if _, set := NginxAnnotation(a, "affinity"); !set { // an invalid affinity is NGX-001's
			for _, k := range slices.Sorted(maps.Keys(a)) {
				name, ok := strings.CutPrefix(k, ngxPrefix)
				if ok && a[k] != "" && name != "session-cookie-hash" && (name == "affinity-mode" || strings.HasPrefix(name, "session-cookie-")) {
					f.warn(ngx017, annPath(k), nil, "")
				}
			}
		}
		return
	}
	if v, ok := NginxAnnotation(a, "session-cookie-name"); ok {
		name := strings.TrimSpace(v)
		for _, app := range []string{"JSESSIONID", "PHPSESSID", "ASP.NET_SessionId", "connect.sid", "SESSION", "laravel_session"} {
			if strings.EqualFold(name, app) {
				f.warn(ngx006, ngxPath("session-cookie-name"), name, "affinity cookie "+name+" overwrites the app's session cookie")
			}
		}
	}
	samesite, _ := NginxAnnotation(a, "session-cookie-samesite")
	samesite = strings.TrimSpace(samesite)
	if NginxBool(a, "session-cookie-conditional-samesite-none") && samesite != "None" {
		f.warn(ngx010, ngxPath("session-cookie-samesite"), echoValue(samesite), "")
	}
	if strings.EqualFold(samesite, "none") && !NginxBool(a, "session-cookie-secure") {
		f.warn(ngx011, ngxPath("session-cookie-secure"), nil, "")
	}
}

// ngxInteractions covers cookie affinity combined with other annotations.
func ngxInteractions(f *findings, ing *networkingv1.Ingress) {
	a := ing.Annotations
	if !ngxCookie(a) {
		return
	}
	if _, ok := NginxAnnotation(a, "upstream-hash-by"); ok {
		f.warn(ngx018, ngxPath("upstream-hash-by"), nil, "")
	}
	if NginxBool(a, "service-upstream") {
		f.forbidden(ngx019, ngxPath("service-upstream"), "")
	}
	if p, ok := NginxAnnotation(a, "session-cookie-path"); ok && strings.TrimSpace(p) != "" {
		return
	}
	ngxCookiePath(f, ing)
}

// ngxCookiePath is NGX-013 for a cookie-affinity Ingress without
// session-cookie-path: the cookie Path is then each location's path as
// written. A path with regex characters makes a Path no browser matches
// (deny); use-regex with only literal paths still works, but the docs ask
// for session-cookie-path (warn).
func ngxCookiePath(f *findings, ing *networkingv1.Ingress) {
	regex, n := "", 0
	var prefixes []string
	ngxEachPath(ing, func(_ *field.Path, hp networkingv1.HTTPIngressPath) {
		n++
		if regex == "" && NginxRegexPath(hp.Path) {
			regex = hp.Path
		}
		prefixes = append(prefixes, NginxLiteralPrefix(hp.Path))
	})
	p := ngxPath("session-cookie-path")
	fix := ngxCookiePathFix(NginxCommonPrefix(prefixes))
	switch {
	case regex != "":
		f.required(ruleWithFix(ngx013, fix), p, "regex path "+strconv.Quote(ngxClipPath(regex))+" would become the cookie Path")
	case n > 0 && NginxBool(ing.Annotations, "use-regex"):
		f.warn(ruleWithFix(ngx013, fix), p, nil, "use-regex is true: ingress-nginx docs require session-cookie-path")
	}
}

// ngxCookiePathFix is NGX-013's fix for the suggested literal prefix. "/"
// reaches every app of the host, so it needs a cookie name of its own; a
// long prefix is described rather than echoed.
func ngxCookiePathFix(prefix string) string {
	switch {
	case prefix == "/":
		return `set session-cookie-path: "/" and a session-cookie-name of its own`
	case utf8.RuneCountInString(prefix) > 40:
		return "set session-cookie-path to the paths' literal prefix"
	}
	return "set session-cookie-path: " + strconv.Quote(prefix)
}

func ngxClipPath(p string) string {
	if utf8.RuneCountInString(p) <= 32 {
		return p
	}
	return string([]rune(p)[:32]) + "..."
}

// NginxRegexPath reports regex metacharacters in an Ingress path: as a
// cookie Path (or a non-regex match) such a path matches no request.
func NginxRegexPath(p string) bool { return strings.ContainsAny(p, `^$()[]{}*+?|`) }

// NginxLiteralPrefix returns the longest literal path that every URL the
// (regex) path p matches begins with, cut back to whole segments (a cookie
// Path matches whole segments), without a trailing "/"; "/" when there is
// none. A literal path is its own prefix.
func NginxLiteralPrefix(p string) string {
	lit, rest := ngxLiteralHead(strings.TrimPrefix(p, "^"))
	if !strings.HasSuffix(lit, "/") && !ngxSegmentEnds(rest) {
		lit = lit[:strings.LastIndex(lit, "/")+1]
	}
	if len(lit) > 1 {
		lit = strings.TrimSuffix(lit, "/")
	}
	if !strings.HasPrefix(lit, "/") {
		return "/"
	}
	return lit
}

// ngxLiteralHead reads the literal start of the regex p: plain characters,
// escaped punctuation, and the content of groups without alternatives that
// are neither optional nor repeated. It returns the literal and the regex
// from where it stops.
func ngxLiteralHead(p string) (lit, rest string) {
	if ngxTopLevelAlternation(p) {
		return "", p
	}
	var b []byte
	open := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '(':
			inner := strings.TrimPrefix(p[i+1:], "?:")
			body := ngxGroupBody(p[i:])
			after := strings.TrimPrefix(p[i:], "("+body+")")
			optional := len(after) < len(p[i:]) && after != "" && strings.IndexByte("?*{", after[0]) >= 0
			if optional || strings.HasPrefix(inner, "?") || ngxTopLevelAlternation(body) {
				return string(b), p[i:]
			}
			open++
			i += len(p[i+1:]) - len(inner)
		case c == ')':
			if open == 0 {
				return string(b), p[i:]
			}
			open-- // optional and repeated groups are never entered
		case c == '\\' && i+1 < len(p) && strings.IndexByte(`./-_~:?*+()[]{}|^$\\`, p[i+1]) >= 0:
			i++
			b = append(b, p[i])
		case strings.IndexByte("?*{", c) >= 0 && len(b) > 0:
			return string(b[:len(b)-1]), p[i-1:] // the previous character is optional
		case strings.IndexByte(`.[]|$^+?*{}\\`, c) >= 0:
			return string(b), p[i:]
		default:
			b = append(b, c)
		}
	}
	return string(b), ""
}

// ngxGroupBody returns what is inside the group p opens with, or the rest
// when it is not closed.
func ngxGroupBody(p string) string {
	depth := 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return p[1:i]
			}
		}
	}
	return p[1:]
}

// ngxTopLevelAlternation reports a "|" outside any group of p.
func ngxTopLevelAlternation(p string) bool {
	depth := 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			depth--
		case '|':
			if depth <= 0 {
				return true
			}
		}
	}
	return false
}

// ngxSegmentEnds reports whether what follows a literal can only end the
// path or start a new segment: nothing, "/", "$", or a group each of whose
// alternatives does (such as "(/|$)").
func ngxSegmentEnds(rest string) bool {
	if rest == "" || rest[0] == '/' || rest[0] == '$' {
		return true
	}
	if rest[0] != '(' {
		return false
	}
	body := ngxGroupBody(rest)
	after := strings.TrimPrefix(rest, "("+body+")")
	if len(after) < len(rest) && after != "" && strings.IndexByte("?*", after[0]) >= 0 {
		if !ngxSegmentEnds(after[1:]) {
			return false
		}
	}
	for _, alt := range ngxSplitAlternatives(strings.TrimPrefix(body, "?:")) {
		if alt == "" {
			if !ngxSegmentEnds(after) {
				return false
			}
			continue
		}
		if alt[0] != '/' && alt[0] != '$' {
			return false
		}
	}
	return true
}

// ngxSplitAlternatives splits a group body at its top-level "|".
func ngxSplitAlternatives(body string) []string {
	var out []string
	depth, from := 0, 0
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			depth--
		case '|':
			if depth == 0 {
				out = append(out, body[from:i])
				from = i + 1
			}
		}
	}
	return append(out, body[from:])
}

// NginxCommonPrefix returns the longest run of whole segments the literal
// prefixes (NginxLiteralPrefix) share, "/" when none: the one cookie Path
// that covers them all.
func NginxCommonPrefix(prefixes []string) string {
	if len(prefixes) == 0 {
		return "/"
	}
	common := strings.Split(prefixes[0], "/")
	for _, p := range prefixes[1:] {
		segs := strings.Split(p, "/")
		n := 0
		for n < len(common) && n < len(segs) && common[n] == segs[n] {
			n++
		}
		common = common[:n]
	}
	if out := strings.Join(common, "/"); strings.HasPrefix(out, "/") && len(out) > 1 {
		return out
	}
	return "/"
}

// ngxEachPath calls fn for every HTTP path of the Ingress with its field path.
func ngxEachPath(ing *networkingv1.Ingress, fn func(*field.Path, networkingv1.HTTPIngressPath)) {
	for i, r := range ing.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for j, hp := range r.HTTP.Paths {
			fn(field.NewPath("spec", "rules").Index(i).Child("http", "paths").Index(j).Child("path"), hp)
		}
	}
}

// ngxForeignKey reports annotations of other dialects that users put on
// ingress-nginx Ingresses (NGX-025): the pre-0.9 / haproxy-ingress legacy
// prefix and F5 NGINX Ingress Controller keys.
func ngxForeignKey(k string) bool {
	if name, ok := strings.CutPrefix(k, "ingress.kubernetes.io/"); ok {
		return name == "affinity" || strings.HasPrefix(name, "session-cookie-")
	}
	return ngxF5Key(k)
}

// ngxF5Key reports F5 NGINX Ingress Controller keys.
func ngxF5Key(k string) bool {
	return strings.HasPrefix(k, "nginx.org/") || strings.HasPrefix(k, "nginx.com/")
}

// NginxAffinityConf is the upstream affinity config ingress-nginx derives from
// one Ingress (sessionaffinity Parse, then the fields controller.go copies
// onto the upstream), with invalid values replaced by their defaults. The
// cookie fields are set only when Type is "cookie".
type NginxAffinityConf struct {
	Type, Mode                                       string
	CanaryBehavior                                   string // sticky (default) or legacy
	Name, Expires, MaxAge, Path, Domain, SameSite    string
	Secure, ConditionalSameSiteNone, ChangeOnFailure bool
}

// NginxAffinity reads an Ingress's affinity annotations as ingress-nginx
// does (and the NGX rules read them): enums trimmed and compared
// case-sensitively, character checks after removing spaces, every line
// trimmed, invalid values dropped to their defaults.
func NginxAffinity(a map[string]string) NginxAffinityConf {
	option := func(opts ...string) func(string) bool {
		return func(v string) bool { return slices.Contains(opts, strings.TrimSpace(v)) }
	}
	c := NginxAffinityConf{
		Type:           ngxString(a, "affinity", option("cookie")),
		Mode:           ngxString(a, "affinity-mode", option("balanced", "persistent")),
		CanaryBehavior: ngxString(a, "affinity-canary-behavior", option("sticky", "legacy")),
	}
	if c.Mode == "" {
		c.Mode = "balanced" // balancer.lua: anything but "persistent"
	}
	if c.CanaryBehavior == "" {
		c.CanaryBehavior = "sticky" // controller.go: anything but "legacy"
	}
	if c.Type != "cookie" {
		return c
	}
	if c.Name = ngxString(a, "session-cookie-name", ngxChars(ngxBasicChars, true)); c.Name == "" {
		c.Name = "INGRESSCOOKIE"
	}
	if c.Expires = ngxString(a, "session-cookie-expires", ngxChars(ngxExpiresLax, true)); !ngxExpiresLax.MatchString(c.Expires) {
		c.Expires = ""
	}
	if c.MaxAge = ngxString(a, "session-cookie-max-age", ngxChars(ngxExpiresLax, false)); !ngxExpiresLax.MatchString(c.MaxAge) {
		c.MaxAge = ""
	}
	c.Path = ngxString(a, "session-cookie-path", ngxChars(ngxURLChars, true))
	c.Domain = ngxString(a, "session-cookie-domain", ngxChars(ngxBasicChars, true))
	c.SameSite = ngxString(a, "session-cookie-samesite", func(v string) bool {
		return slices.Contains([]string{"none", "lax", "strict"}, strings.ToLower(strings.TrimSpace(v)))
	})
	c.Secure = NginxBool(a, "session-cookie-secure")
	c.ConditionalSameSiteNone = NginxBool(a, "session-cookie-conditional-samesite-none")
	c.ChangeOnFailure = NginxBool(a, "session-cookie-change-on-failure")
	return c
}

// ngxString is parser.GetStringAnnotation: validate the raw value, then
// trim every line; invalid or empty values read as "".
func ngxString(a map[string]string, name string, valid func(string) bool) string {
	v, ok := NginxAnnotation(a, name)
	if !ok || !valid(v) {
		return ""
	}
	lines := strings.Split(v, "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, "\n")
}

// ngxChars is a parser validator of allowed characters, checked after
// removing spaces when strip is set.
func ngxChars(re *regexp.Regexp, strip bool) func(string) bool {
	return func(v string) bool {
		if strip {
			v = strings.ReplaceAll(v, " ", "")
		}
		return re.MatchString(v)
	}
}

// Cookie reports whether cookie affinity is on.
func (c NginxAffinityConf) Cookie() bool { return c.Type == "cookie" }

// MaxAgeSeconds is session-cookie-max-age as sticky.lua uses it
// (tonumber): ok is false when it is unset or not an integer, and the
// cookie then gets no Max-Age.
func (c NginxAffinityConf) MaxAgeSeconds() (int64, bool) { return ngxSecondsOf(c.MaxAge) }

// ExpiresSeconds is session-cookie-expires as sticky.lua uses it, like
// MaxAgeSeconds.
func (c NginxAffinityConf) ExpiresSeconds() (int64, bool) { return ngxSecondsOf(c.Expires) }

func ngxSecondsOf(v string) (int64, bool) {
	if !ngxSeconds.MatchString(v) {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// Diff names the annotations whose effective values differ (what NGX-023
// reports for Ingresses sharing an upstream).
func (c NginxAffinityConf) Diff(o NginxAffinityConf) []string {
	if c.Type != "cookie" && o.Type != "cookie" {
		return nil // neither uses affinity: nothing to disagree on
	}
	var d []string
	add := func(differs bool, name string) {
		if differs {
			d = append(d, name)
		}
	}
	add(c.Type != o.Type, "affinity")
	add(c.Mode != o.Mode, "affinity-mode")
	if c.Type != "cookie" || o.Type != "cookie" {
		return d
	}
	add(c.Name != o.Name, "session-cookie-name")
	add(c.Expires != o.Expires, "session-cookie-expires")
	add(c.MaxAge != o.MaxAge, "session-cookie-max-age")
	add(c.Path != o.Path, "session-cookie-path")
	add(c.Domain != o.Domain, "session-cookie-domain")
	add(c.SameSite != o.SameSite, "session-cookie-samesite")
	add(c.Secure != o.Secure, "session-cookie-secure")
	add(c.ConditionalSameSiteNone != o.ConditionalSameSiteNone, "session-cookie-conditional-samesite-none")
	add(c.ChangeOnFailure != o.ChangeOnFailure, "session-cookie-change-on-failure")
	return d
}

// ngxShared compares this Ingress with the other Ingresses of the same
// controller: non-canary Ingresses sharing a Service port (NGX-023), and a
// canary against the main Ingress of the same host and path (NGX-024).
func ngxShared(f *findings, ing *networkingv1.Ingress, ctx *Context) {
	if len(ctx.Related.Ingresses) == 0 {
		return
	}
	mine := NginxAffinity(ing.Annotations)
	canary := NginxBool(ing.Annotations, "canary")
	backends := ngxBackends(ing, ctx)
	routes := ngxRoutes(ing)
	for _, ri := range ctx.Related.Ingresses {
		o := ri.Ingress
		if o == nil || ri.Controller != ctx.Related.Controller || (o.Namespace == ing.Namespace && o.Name == ing.Name) {
			continue
		}
		diff := mine.Diff(NginxAffinity(o.Annotations))
		if len(diff) == 0 {
			continue
		}
		other, what := echoValue(o.Name), ngxDiffList(diff)
		oCanary := NginxBool(o.Annotations, "canary")
		switch {
		case !canary && !oCanary && o.Namespace == ing.Namespace:
			if svc := ngxFirstShared(backends, ngxBackends(o, ctx)); svc != "" {
				f.warn(ngx023, ngxPath("affinity"), nil, "Ingress "+other+" also routes to "+echoValue(svc)+" with another "+what)
			}
		case canary != oCanary:
			c, role := ing, "main"
			if oCanary {
				c, role = o, "canary"
			}
			switch cc := NginxAffinity(c.Annotations); {
			case cc.CanaryBehavior == "legacy":
				continue // the canary keeps its own affinity config
			case !cc.Cookie():
				continue // a canary without affinity of its own inherits the main's: nothing is lost
			}
			if ngxFirstShared(routes, ngxRoutes(o)) != "" {
				f.warn(ngx024, ngxPath("affinity"), nil, "the "+role+" Ingress "+other+" of this host and path has another "+what)
			}
		}
	}
}

// ngxDiffList names the first differing annotation and counts the others.
func ngxDiffList(diff []string) string {
	if len(diff) == 1 {
		return diff[0]
	}
	return diff[0] + " (+" + strconv.Itoa(len(diff)-1) + ")"
}

// ngxBackends lists the "service:port" upstreams an Ingress routes to; port
// names are resolved to numbers through the known backend Services.
func ngxBackends(ing *networkingv1.Ingress, ctx *Context) map[string]bool {
	out := map[string]bool{}
	add := func(b *networkingv1.IngressServiceBackend) {
		if b == nil {
			return
		}
		port := strconv.Itoa(int(b.Port.Number))
		if b.Port.Number == 0 {
			port = b.Port.Name
			for _, s := range ctx.Related.BackendServices {
				if s == nil || s.Name != b.Name || s.Namespace != ing.Namespace {
					continue
				}
				for _, p := range s.Spec.Ports {
					if p.Name == b.Port.Name {
						port = strconv.Itoa(int(p.Port))
					}
				}
			}
		}
		out[b.Name+":"+port] = true
	}
	if ing.Spec.DefaultBackend != nil {
		add(ing.Spec.DefaultBackend.Service)
	}
	for _, r := range ing.Spec.Rules {
		if r.HTTP != nil {
			for _, p := range r.HTTP.Paths {
				add(p.Backend.Service)
			}
		}
	}
	return out
}

// ngxRoutes lists the "host path" pairs of an Ingress's rules.
func ngxRoutes(ing *networkingv1.Ingress) map[string]bool {
	out := map[string]bool{}
	for _, r := range ing.Spec.Rules {
		if r.HTTP != nil {
			for _, p := range r.HTTP.Paths {
				out[r.Host+" "+p.Path] = true
			}
		}
	}
	return out
}

// ngxFirstShared returns the smallest key present in both sets, or "".
func ngxFirstShared(a, b map[string]bool) string {
	for _, k := range slices.Sorted(maps.Keys(a)) {
		if b[k] {
			return k
		}
	}
	return ""
}
