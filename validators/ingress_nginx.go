package validators

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ingress-nginx session-affinity rules. Values are read the way
// internal/ingress/annotations/sessionaffinity/main.go and parser/validators.go
// read them: enums trimmed and compared case-sensitively (samesite
// case-insensitively), regex validators applied after removing spaces, bools
// through strconv.ParseBool on the raw value, empty values treated as unset.

const ngxPrefix = "nginx.ingress.kubernetes.io/"

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
	Title:  `affinity is not exactly "cookie"; ingress-nginx silently disables affinity`,
	Fix:    `set nginx.ingress.kubernetes.io/affinity: "cookie" (lowercase)`,
	Source: "ingress-nginx sessionaffinity/main.go:74 ValidateOptions, main.go:267 at=\"\"; ingress-nginx#10295"}

var ngx002 = &Rule{ID: "NGX-002", Severity: Deny, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "affinity-mode is not balanced or persistent; ingress-nginx silently falls back to balanced",
	Fix:    `set nginx.ingress.kubernetes.io/affinity-mode to "balanced" or "persistent" (lowercase)`,
	Source: "ingress-nginx sessionaffinity/main.go:80; rootfs/etc/nginx/lua/balancer.lua:48-54"}

var ngx003 = &Rule{ID: "NGX-003", Severity: Deny, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "affinity-canary-behavior is not sticky or legacy",
	Fix:    `set nginx.ingress.kubernetes.io/affinity-canary-behavior to "sticky" or "legacy" (lowercase)`,
	Source: "ingress-nginx sessionaffinity/main.go:88; controller.go:1597"}

var ngx004 = &Rule{ID: "NGX-004", Severity: Warn, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "affinity-canary-behavior is only read from a canary Ingress",
	Fix:    `move affinity-canary-behavior to the Ingress that has nginx.ingress.kubernetes.io/canary: "true"`,
	Source: "ingress-nginx controller.go:1597 mergeAlternativeBackend"}

var ngx005 = &Rule{ID: "NGX-005", Severity: Deny, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "session-cookie-name has characters outside [/-._~a-zA-Z0-9:]; ingress-nginx falls back to INGRESSCOOKIE",
	Fix:    "use a cookie name made only of letters, digits and - . _ ~ : /",
	Source: "ingress-nginx sessionaffinity/main.go:96; parser/validators.go BasicCharsRegex"}

var ngx006 = &Rule{ID: "NGX-006", Severity: Warn, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "the affinity cookie has the name of a common application session cookie and overwrites it (value <key>|<backend>)",
	Fix:    "give the affinity cookie a name of its own, such as INGRESSCOOKIE or <app>-affinity",
	Source: `ingress-nginx sticky.lua (value .. "|" .. backend_key); ingress-nginx#2622, #2735`}

var ngx007 = &Rule{ID: "NGX-007", Severity: Deny, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "session-cookie-max-age/expires is not an integer number of seconds; ingress-nginx silently drops it",
	Fix:    `write the lifetime in whole seconds, such as "172800" for 48h`,
	Source: "ingress-nginx sessionaffinity/main.go:154 affinityCookieExpiresRegex; sticky.lua tonumber"}

var ngx008 = &Rule{ID: "NGX-008", Severity: Warn, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "a zero or negative max-age/expires makes the browser drop the affinity cookie at once",
	Fix:    "use a positive number of seconds, or remove the annotation to get a session cookie",
	Source: "RFC 6265 Max-Age semantics; ingress-nginx regex allows -?"}

var ngx009 = &Rule{ID: "NGX-009", Severity: Deny, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "session-cookie-samesite is not None, Lax or Strict; ingress-nginx ignores it",
	Fix:    `set nginx.ingress.kubernetes.io/session-cookie-samesite to "None", "Lax" or "Strict"`,
	Source: "ingress-nginx sessionaffinity/main.go:132 ValidateOptions(none, lax, strict)"}

var ngx010 = &Rule{ID: "NGX-010", Severity: Warn, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  `session-cookie-conditional-samesite-none only acts when samesite is exactly "None"`,
	Fix:    `write nginx.ingress.kubernetes.io/session-cookie-samesite: "None" (capital N)`,
	Source: `ingress-nginx sticky.lua:84 cookie_samesite == "None"`}

var ngx011 = &Rule{ID: "NGX-011", Severity: Warn, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "browsers reject SameSite=None cookies without Secure, and ingress-nginx adds Secure only when nginx itself sees HTTPS",
	Fix:    `set nginx.ingress.kubernetes.io/session-cookie-secure: "true"`,
	Source: "ingress-nginx sticky.lua:91; pkg/apis/ingress/types.go Secure; ingress-nginx#6812"}

var ngx012 = &Rule{ID: "NGX-012", Severity: Deny, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "boolean annotation is not accepted by strconv.ParseBool; ingress-nginx ignores it",
	Fix:    `write "true" or "false"`,
	Source: "ingress-nginx sessionaffinity/main.go parser.ValidateBool"}

var ngx013 = &Rule{ID: "NGX-013", Severity: Deny, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "cookie affinity with regex paths and no session-cookie-path: the cookie Path becomes the regex and browsers never send the cookie back",
	Fix:    `set nginx.ingress.kubernetes.io/session-cookie-path to a literal path such as the non-regex prefix of the Ingress path (not "/", which shares the cookie with every app on the host)`,
	Source: "ingress-nginx annotations.md §Use Regex; controller.go:885-886; sticky.lua cookie_path; ingress-nginx#3362, #8961"}

var ngx014 = &Rule{ID: "NGX-014", Severity: Deny, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "session-cookie-path has characters outside [-._~a-zA-Z0-9/:,?&=]; ingress-nginx ignores it",
	Fix:    `use a literal URL path such as "/shop"`,
	Source: "ingress-nginx sessionaffinity/main.go:120; parser/validators.go URLIsValidRegex; ingress-nginx#6812"}

var ngx015 = &Rule{ID: "NGX-015", Severity: Deny, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "session-cookie-domain has characters outside [/-._~a-zA-Z0-9:]; ingress-nginx ignores it",
	Fix:    `use a plain domain such as ".example.com"`,
	Source: "ingress-nginx sessionaffinity/main.go:126 BasicCharsRegex"}

var ngx016 = &Rule{ID: "NGX-016", Severity: Warn, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "session-cookie-hash was removed in ingress-nginx 0.24.0 and is ignored",
	Fix:    "remove nginx.ingress.kubernetes.io/session-cookie-hash",
	Source: "ingress-nginx PR #3743 (Changelog 0.23/0.24)"}

var ngx017 = &Rule{ID: "NGX-017", Severity: Warn, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  `cookie settings are ignored unless affinity is "cookie"`,
	Fix:    `add nginx.ingress.kubernetes.io/affinity: "cookie" or remove the cookie settings`,
	Source: "ingress-nginx sessionaffinity/main.go Parse (cookieAffinityParse runs only for cookie)"}

var ngx018 = &Rule{ID: "NGX-018", Severity: Warn, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "cookie affinity takes precedence; upstream-hash-by is ignored",
	Fix:    "remove either affinity or upstream-hash-by",
	Source: "ingress-nginx rootfs/etc/nginx/lua/balancer.lua:45-63"}

var ngx019 = &Rule{ID: "NGX-019", Severity: Deny, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "sticky sessions do not work with service-upstream: nginx sends every request to the Service ClusterIP",
	Fix:    `remove nginx.ingress.kubernetes.io/service-upstream (or set it to "false") to keep cookie affinity`,
	Source: "ingress-nginx annotations.md §Service Upstream, Known Issues"}

var ngx020 = &Rule{ID: "NGX-020", Severity: Warn, Kinds: []string{KindIngress}, Family: "ingress-nginx", Offline: true,
	Title:  "upstream-hash-by has characters outside [A-Za-z0-9-_${}]; the ingress-nginx webhook rejects the Ingress",
	Fix:    `use nginx variables and text only, such as "$binary_remote_addr" or "$cookie_session"`,
	Source: "ingress-nginx upstreamhashby/main.go:37; annotations.go:192"}

var ngx022 = &Rule{ID: "NGX-022", Severity: Warn, Kinds: []string{KindIngress}, Family: "ingress-nginx", Offline: true,
	Title:  "regex path with pathType Exact or Prefix; ingress-nginx (strict-validate-path-type) rejects the Ingress",
	Fix:    "use pathType: ImplementationSpecific for regex paths",
	Source: "ingress-nginx internal/ingress/inspector ValidatePathType; configmap.md §strict-validate-path-type"}

var ngx023 = &Rule{ID: "NGX-023", Severity: Warn, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "Ingresses sharing a Service port disagree on affinity; ingress-nginx keeps one affinity config per upstream (type and mode from the first Ingress, cookie fields from the last)",
	Fix:    "keep the affinity annotations identical on every Ingress that routes to the same Service port",
	Source: "ingress-nginx controller.go:875-897; docs/examples/affinity/cookie/README.md §Caveats; ingress-nginx#3168"}

var ngx024 = &Rule{ID: "NGX-024", Severity: Warn, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "canary affinity differs from the main Ingress; with affinity-canary-behavior sticky the main Ingress's affinity is copied to the canary backend",
	Fix:    "make the canary's affinity annotations match the main Ingress, or set affinity-canary-behavior: legacy on the canary",
	Source: "ingress-nginx annotations.md §Canary; controller.go:1597-1598"}

var ngx025 = &Rule{ID: "NGX-025", Severity: Warn, Kinds: []string{KindIngress}, Family: "ingress-nginx",
	Title:  "annotation of another controller dialect on an ingress-nginx Ingress; ingress-nginx does not read it",
	Fix:    `use the nginx.ingress.kubernetes.io/ prefix, such as nginx.ingress.kubernetes.io/affinity: "cookie"`,
	Source: "ingress-nginx#2622, #2735, #771; nginx/kubernetes-ingress#500"}

var nginxRules = []*Rule{
	ngx001, ngx002, ngx003, ngx004, ngx005, ngx006, ngx007, ngx008, ngx009, ngx010, ngx011, ngx012,
	ngx013, ngx014, ngx015, ngx016, ngx017, ngx018, ngx019, ngx020, ngx022, ngx023, ngx024, ngx025,
}

// ngxAnn reads nginx.ingress.kubernetes.io/<name>; ok is false when the
// annotation is missing or empty (ingress-nginx skips empty values).
func ngxAnn(a map[string]string, name string) (string, bool) {
	v, ok := a[ngxPrefix+name]
	return v, ok && v != ""
}

func ngxPath(name string) *field.Path { return annPath(ngxPrefix + name) }

// IsNginxCanary reports whether an Ingress is an ingress-nginx canary
// (nginx.ingress.kubernetes.io/canary true, as ingress-nginx parses it).
func IsNginxCanary(ing *networkingv1.Ingress) bool { return ngxBool(ing.Annotations, "canary") }

// ngxBool is parser.GetBoolAnnotation: strconv.ParseBool on the raw value.
func ngxBool(a map[string]string, name string) bool {
	v, _ := ngxAnn(a, name)
	b, ok := parseBool(v)
	return ok && b
}

// ngxCookie reports whether affinity is "cookie" as ingress-nginx parses it.
func ngxCookie(a map[string]string) bool {
	v, _ := ngxAnn(a, "affinity")
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
		for _, k := range slices.Sorted(maps.Keys(a)) {
			if ngxForeignKey(k) {
				f.warn(ngx025, annPath(k), clipValue(a[k]), k+" is not read by ingress-nginx")
			}
		}
	}
	ngxShared(&f, ing, ctx)
	return f.result()
}

// validateIngressNginxOffline holds the rules ingress-nginx's own admission
// webhook already enforces (NGX-020, NGX-022); `check` runs them.
func validateIngressNginxOffline(ing, old *networkingv1.Ingress, ctx *Context) (field.ErrorList, Warnings) {
	if !appliesTo(ctx.Related.Controller, ControllerNginx) {
		return nil, nil
	}
	var f findings
	if v, ok := ngxAnn(ing.Annotations, "upstream-hash-by"); ok && !ngxHashBy.MatchString(strings.ReplaceAll(v, " ", "")) {
		f.warn(ngx020, ngxPath("upstream-hash-by"), clipValue(v), "")
	}
	ngxEachPath(ing, func(p *field.Path, hp networkingv1.HTTPIngressPath) {
		if hp.PathType != nil && *hp.PathType != networkingv1.PathTypeImplementationSpecific && ngxRegexPath(hp.Path) {
			f.warn(ngx022, p, clipValue(hp.Path), "path "+quoteClip(hp.Path)+" uses regex characters with pathType "+string(*hp.PathType))
		}
	})
	return f.result()
}

func ngxEnums(f *findings, a map[string]string) {
	enum := func(r *Rule, name string, valid []string, fold bool) {
		v, ok := ngxAnn(a, name)
		if !ok {
			return
		}
		s := strings.TrimSpace(v)
		if fold {
			s = strings.ToLower(s)
		}
		if !slices.Contains(valid, s) {
			f.notSupported(r, ngxPath(name), clipValue(v), valid, "")
		}
	}
	enum(ngx001, "affinity", []string{"cookie"}, false)
	enum(ngx002, "affinity-mode", []string{"balanced", "persistent"}, false)
	enum(ngx003, "affinity-canary-behavior", []string{"sticky", "legacy"}, false)
	enum(ngx009, "session-cookie-samesite", []string{"none", "lax", "strict"}, true)
	for _, name := range []string{
		"session-cookie-secure", "session-cookie-conditional-samesite-none",
		"session-cookie-change-on-failure", "session-cookie-partitioned", "use-regex",
	} {
		if v, ok := ngxAnn(a, name); ok {
			if _, valid := parseBool(v); !valid {
				f.invalid(ngx012, ngxPath(name), clipValue(v), "")
			}
		}
	}
	if _, ok := ngxAnn(a, "affinity-canary-behavior"); ok && !ngxBool(a, "canary") {
		f.warn(ngx004, ngxPath("affinity-canary-behavior"), nil, "")
	}
}

func ngxCookieValues(f *findings, a map[string]string) {
	chars := func(r *Rule, name string, re *regexp.Regexp) {
		if v, ok := ngxAnn(a, name); ok && !re.MatchString(strings.ReplaceAll(v, " ", "")) {
			f.invalid(r, ngxPath(name), clipValue(v), "")
		}
	}
	chars(ngx005, "session-cookie-name", ngxBasicChars)
	chars(ngx014, "session-cookie-path", ngxURLChars)
	chars(ngx015, "session-cookie-domain", ngxBasicChars)
	cookie := ngxCookie(a)
	for _, name := range []string{"session-cookie-max-age", "session-cookie-expires"} {
		v, ok := ngxAnn(a, name)
		if !ok {
			continue
		}
		s := strings.TrimSpace(v)
		switch {
		case !ngxSeconds.MatchString(s):
			f.invalid(ngx007, ngxPath(name), clipValue(v), "")
		case cookie && (s[0] == '-' || strings.Trim(s, "0") == ""):
			f.warn(ngx008, ngxPath(name), s, "")
		}
	}
	if _, ok := a[ngxPrefix+"session-cookie-hash"]; ok {
		f.warn(ngx016, ngxPath("session-cookie-hash"), nil, "")
	}
	if !cookie {
		if _, set := ngxAnn(a, "affinity"); !set { // an invalid affinity is NGX-001's
			for _, k := range slices.Sorted(maps.Keys(a)) {
				name, ok := strings.CutPrefix(k, ngxPrefix)
				if ok && a[k] != "" && name != "session-cookie-hash" && (name == "affinity-mode" || strings.HasPrefix(name, "session-cookie-")) {
					f.warn(ngx017, annPath(k), nil, "")
				}
			}
		}
		return
	}
	if v, ok := ngxAnn(a, "session-cookie-name"); ok {
		name := strings.TrimSpace(v)
		for _, app := range []string{"JSESSIONID", "PHPSESSID", "ASP.NET_SessionId", "connect.sid", "SESSION", "laravel_session"} {
			if strings.EqualFold(name, app) {
				f.warn(ngx006, ngxPath("session-cookie-name"), name, "affinity cookie "+name+" has the name of a common application session cookie; ingress-nginx overwrites it with <key>|<backend>")
			}
		}
	}
	samesite, _ := ngxAnn(a, "session-cookie-samesite")
	samesite = strings.TrimSpace(samesite)
	if ngxBool(a, "session-cookie-conditional-samesite-none") && samesite != "None" {
		f.warn(ngx010, ngxPath("session-cookie-samesite"), clipValue(samesite), "")
	}
	if strings.EqualFold(samesite, "none") && !ngxBool(a, "session-cookie-secure") {
		f.warn(ngx011, ngxPath("session-cookie-secure"), nil, "")
	}
}

// ngxInteractions covers cookie affinity combined with other annotations.
func ngxInteractions(f *findings, ing *networkingv1.Ingress) {
	a := ing.Annotations
	if !ngxCookie(a) {
		return
	}
	if _, ok := ngxAnn(a, "upstream-hash-by"); ok {
		f.warn(ngx018, ngxPath("upstream-hash-by"), nil, "")
	}
	if ngxBool(a, "service-upstream") {
		f.forbidden(ngx019, ngxPath("service-upstream"), "")
	}
	if p, ok := ngxAnn(a, "session-cookie-path"); ok && strings.TrimSpace(p) != "" {
		return
	}
	why, first := "", ""
	ngxEachPath(ing, func(_ *field.Path, hp networkingv1.HTTPIngressPath) {
		if first == "" {
			first = hp.Path
		}
		if why == "" && ngxRegexPath(hp.Path) {
			why, first = "path "+quoteClip(hp.Path)+" is a regex", hp.Path
		}
	})
	if why == "" && ngxBool(a, "use-regex") {
		why = "use-regex is true"
	}
	if _, ok := ngxAnn(a, "rewrite-target"); why == "" && ok {
		why = "rewrite-target makes every path a regex"
	}
	if why != "" {
		f.required(ngx013, ngxPath("session-cookie-path"), why+"; cookie affinity needs a literal session-cookie-path, e.g. "+quoteClip(ngxLiteralPrefix(first)))
	}
}

// ngxRegexPath reports regex metacharacters in an Ingress path.
func ngxRegexPath(p string) bool { return strings.ContainsAny(p, `^$()[]{}*+?|`) }

// ngxLiteralPrefix suggests a cookie path: the path up to its first regex
// character, cut back to a segment boundary.
func ngxLiteralPrefix(p string) string {
	p = strings.TrimPrefix(p, "^")
	i := strings.IndexAny(p, `^$()[]{}*+?|.\`)
	if i < 0 {
		i = len(p)
	}
	lit := p[:i]
	if i < len(p) && p[i] != '(' && !strings.HasSuffix(lit, "/") {
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
	return strings.HasPrefix(k, "nginx.org/") || strings.HasPrefix(k, "nginx.com/")
}

func quoteClip(v string) string { return `"` + clipValue(v) + `"` }

// ngxAffinityConf is the upstream affinity config ingress-nginx derives from
// one Ingress (sessionaffinity Parse, then the fields controller.go copies
// onto the upstream), with invalid values replaced by their defaults.
type ngxAffinityConf struct {
	Type, Mode                                       string
	Name, Expires, MaxAge, Path, Domain, SameSite    string
	Secure, ConditionalSameSiteNone, ChangeOnFailure bool
}

func ngxParseAffinity(a map[string]string) ngxAffinityConf {
	// str is parser.GetStringAnnotation: validate the raw value, then trim
	// every line; invalid or empty values read as "".
	str := func(name string, valid func(string) bool) string {
		v, ok := ngxAnn(a, name)
		if !ok || !valid(v) {
			return ""
		}
		lines := strings.Split(v, "\n")
		for i := range lines {
			lines[i] = strings.TrimSpace(lines[i])
		}
		return strings.Join(lines, "\n")
	}
	option := func(opts ...string) func(string) bool {
		return func(v string) bool { return slices.Contains(opts, strings.TrimSpace(v)) }
	}
	chars := func(re *regexp.Regexp, strip bool) func(string) bool {
		return func(v string) bool {
			if strip {
				v = strings.ReplaceAll(v, " ", "")
			}
			return re.MatchString(v)
		}
	}
	c := ngxAffinityConf{
		Type: str("affinity", option("cookie")),
		Mode: str("affinity-mode", option("balanced", "persistent")),
	}
	if c.Mode == "" {
		c.Mode = "balanced" // balancer.lua: anything but "persistent"
	}
	if c.Type != "cookie" {
		return c
	}
	if c.Name = str("session-cookie-name", chars(ngxBasicChars, true)); c.Name == "" {
		c.Name = "INGRESSCOOKIE"
	}
	if c.Expires = str("session-cookie-expires", chars(ngxExpiresLax, true)); !ngxExpiresLax.MatchString(c.Expires) {
		c.Expires = ""
	}
	if c.MaxAge = str("session-cookie-max-age", chars(ngxExpiresLax, false)); !ngxExpiresLax.MatchString(c.MaxAge) {
		c.MaxAge = ""
	}
	c.Path = str("session-cookie-path", chars(ngxURLChars, true))
	c.Domain = str("session-cookie-domain", chars(ngxBasicChars, true))
	c.SameSite = str("session-cookie-samesite", func(v string) bool {
		return slices.Contains([]string{"none", "lax", "strict"}, strings.ToLower(strings.TrimSpace(v)))
	})
	c.Secure = ngxBool(a, "session-cookie-secure")
	c.ConditionalSameSiteNone = ngxBool(a, "session-cookie-conditional-samesite-none")
	c.ChangeOnFailure = ngxBool(a, "session-cookie-change-on-failure")
	return c
}

// diff names the annotations whose effective values differ.
func (c ngxAffinityConf) diff(o ngxAffinityConf) []string {
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
	mine := ngxParseAffinity(ing.Annotations)
	canary := ngxBool(ing.Annotations, "canary")
	backends := ngxBackends(ing, ctx)
	routes := ngxRoutes(ing)
	for _, ri := range ctx.Related.Ingresses {
		o := ri.Ingress
		if o == nil || ri.Controller != ctx.Related.Controller || (o.Namespace == ing.Namespace && o.Name == ing.Name) {
			continue
		}
		diff := mine.diff(ngxParseAffinity(o.Annotations))
		if len(diff) == 0 {
			continue
		}
		other := clipValue(o.Namespace + "/" + o.Name)
		oCanary := ngxBool(o.Annotations, "canary")
		switch {
		case !canary && !oCanary && o.Namespace == ing.Namespace:
			if svc := ngxFirstShared(backends, ngxBackends(o, ctx)); svc != "" {
				f.warn(ngx023, ngxPath("affinity"), nil, "Ingress "+other+" also routes to Service port "+
					clipValue(svc)+" with different "+strings.Join(diff, ", "))
			}
		case canary != oCanary:
			c, role := ing, "main"
			if oCanary {
				c, role = o, "canary"
			}
			if b, _ := ngxAnn(c.Annotations, "affinity-canary-behavior"); strings.TrimSpace(b) == "legacy" {
				continue // the canary keeps its own affinity config
			}
			if ngxFirstShared(routes, ngxRoutes(o)) != "" {
				f.warn(ngx024, ngxPath("affinity"), nil, "the "+role+" Ingress "+other+
					" for the same host and path has different "+strings.Join(diff, ", "))
			}
		}
	}
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
