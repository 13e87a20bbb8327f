package validators

import (
	"regexp"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Alibaba Cloud ACK (CLB via cloud-provider-alibaba-cloud) sticky-session
// rules. Every key is read under the current and the legacy prefix (ackAnn);
// like the CCM, an empty value counts as unset and integers are parsed with
// strconv.Atoi (no trimming).

const (
	ackFamily   = "Alibaba ACK"
	ackSrcUsage = "kubernetes/cloud-provider-alibaba-cloud docs/usage.md"
	// ackMaxCookieTimeout is the largest cookie-timeout CLB accepts (seconds).
	ackMaxCookieTimeout = 86400
)

// ackCookieRe is the character set CLB accepts in a server cookie name.
var ackCookieRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

var (
	ack001 = &Rule{ID: "ACK-001", Severity: Deny, Kinds: []string{KindService}, Family: ackFamily,
		Title:  "CLB persistence-timeout is not an integer in 0-3600 seconds",
		Fix:    "use an integer 0-3600 (seconds, 0 = off)",
		Source: ackSrcUsage + "; pkg/controller/service/clbv1/listeners.go (strconv.Atoi, \"must be integer\")"}
	ack002 = &Rule{ID: "ACK-002", Severity: Deny, Kinds: []string{KindService}, Family: ackFamily,
		Title:  "CLB sticky-session is not on or off",
		Fix:    `set "on" or "off"`,
		Source: ackSrcUsage + " (\"Valid values: on or off\")"}
	ack003 = &Rule{ID: "ACK-003", Severity: Deny, Kinds: []string{KindService}, Family: ackFamily,
		Title:  "CLB sticky-session on without a sticky-session-type of insert or server",
		Fix:    `set sticky-session-type to "insert" or "server"`,
		Source: ackSrcUsage + " (\"mandatory when sticky-session is on\")"}
	ack004 = &Rule{ID: "ACK-004", Severity: Deny, Kinds: []string{KindService}, Family: ackFamily,
		Title:  "CLB insert-cookie stickiness without a cookie-timeout integer in 1-86400 seconds",
		Fix:    "set cookie-timeout to an integer 1-86400 (seconds)",
		Source: "kubernetes/cloud-provider-alibaba-cloud docs/zh/usage.md (1-86400); pkg/model/load_balancer.go CookieTimeout"}
	ack005 = &Rule{ID: "ACK-005", Severity: Deny, Kinds: []string{KindService}, Family: ackFamily,
		Title:  "CLB server-cookie stickiness without a valid cookie name (1-200 of A-Z a-z 0-9 _ -, not starting with $)",
		Fix:    "set the cookie to the app's cookie name, e.g. JSESSIONID",
		Source: ackSrcUsage + " §11 and annotation table"}
	ack006 = &Rule{ID: "ACK-006", Severity: Warn, Kinds: []string{KindService}, Family: ackFamily,
		Title:   "CLB stickiness key that does not apply to the Service's listeners (persistence-timeout is TCP-only, sticky-session HTTP/HTTPS-only)",
		Fix:     "persistence-timeout is for TCP listeners, sticky-session for HTTP(S) ones",
		Explain: "Listener protocols come from …-protocol-port (e.g. http:80,https:443), else each Service port's protocol.",
		Source:  ackSrcUsage + " (\"Only worked with TCP listeners\", \"Only HTTP & HTTPS\")"}
)

var ackRules = []*Rule{ack001, ack002, ack003, ack004, ack005, ack006}

func validateServiceACK(svc, _ *corev1.Service, _ *Context) (field.ErrorList, Warnings) {
	a := svc.Annotations
	// The CCM provisions a CLB, and reads these keys, only for type
	// LoadBalancer; elsewhere they do nothing (SVC-014 says so).
	if len(a) == 0 || svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return nil, nil
	}
	var f findings
	persistKey, persist := ackCheckPersistence(&f, a)

	stickyKey, sticky, _ := ackAnn(a, "sticky-session")
	if sticky != "" && sticky != "on" && sticky != "off" {
		f.notSupported(ack002, annPath(stickyKey), clipValue(sticky), []string{"on", "off"}, "sticky-session takes on or off (lowercase)")
	}
	on := sticky == "on"
	prefix := ackPrefix
	if strings.HasPrefix(stickyKey, ackLegacyPrefix) {
		prefix = ackLegacyPrefix
	}
	typeKey, typ, _ := ackAnn(a, "sticky-session-type")
	if on {
		switch typ {
		case "insert", "server":
		case "":
			f.required(ack003, annPath(prefix+"sticky-session-type"), "sticky-session-type is mandatory when sticky-session is on")
		default:
			f.notSupported(ack003, annPath(typeKey), clipValue(typ), []string{"insert", "server"}, "unknown sticky-session-type")
		}
	}

	if k, v, _ := ackAnn(a, "cookie-timeout"); v != "" {
		if n, err := strconv.Atoi(v); err != nil {
			f.invalid(ack004, annPath(k), clipValue(v), "cookie-timeout must be an integer number of seconds; the CCM fails to reconcile")
		} else if n < 1 || n > ackMaxCookieTimeout {
			f.invalid(ack004, annPath(k), n, "cookie-timeout must be 1-"+strconv.Itoa(ackMaxCookieTimeout)+" seconds")
		}
	} else if on && typ == "insert" {
		f.required(ack004, annPath(prefix+"cookie-timeout"), "cookie-timeout is mandatory for sticky-session-type insert")
	}

	if k, v, _ := ackAnn(a, "cookie"); v != "" {
		if why := ackCookieProblem(v); why != "" {
			f.invalid(ack005, annPath(k), clipValue(v), "invalid server cookie name: "+why)
		}
	} else if on && typ == "server" {
		f.required(ack005, annPath(prefix+"cookie"), "cookie is mandatory for sticky-session-type server")
	}

	if protos, ok := ackListenerProtocols(svc); ok {
		httpN := 0
		for _, p := range protos {
			if p == "http" || p == "https" {
				httpN++
			}
		}
		if persist && httpN == len(protos) {
			f.warn(ack006, annPath(persistKey), nil, "ignored: every listener is HTTP/HTTPS")
		}
		if on && httpN == 0 {
			f.warn(ack006, annPath(stickyKey), nil, "ignored: every listener is TCP/UDP")
		}
	}
	return f.result()
}

// ackCheckPersistence checks ACK-001 and reports the key and whether a
// positive persistence timeout is set.
func ackCheckPersistence(f *findings, a map[string]string) (string, bool) {
	k, v, _ := ackAnn(a, "persistence-timeout")
	if v == "" {
		return k, false
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		f.invalid(ack001, annPath(k), clipValue(v), "persistence-timeout must be an integer number of seconds; the CCM fails to reconcile")
	case n < 0 || n > 3600:
		f.invalid(ack001, annPath(k), n, "persistence-timeout must be 0-3600 seconds (0 = off)")
	}
	return k, err == nil && n > 0
}

func ackCookieProblem(c string) string {
	switch {
	case len(c) > 200:
		return "longer than 200 characters"
	case strings.HasPrefix(c, "$"):
		return "must not start with $"
	case strings.ContainsAny(c, ",; "):
		return "must not contain a comma, semicolon or space"
	case !ackCookieRe.MatchString(c):
		return "only ASCII letters, digits, _ and - are allowed"
	}
	return ""
}

// ackListenerProtocols mirrors the CCM's protocol(): each Service port's
// listener protocol from …-protocol-port ("https:443,http:80"), else the
// port's own protocol. ok is false when the annotation does not parse.
func ackListenerProtocols(svc *corev1.Service) ([]string, bool) {
	_, pp, _ := ackAnn(svc.Annotations, "protocol-port")
	var out []string
	for _, port := range svc.Spec.Ports {
		proto, ok := ackPortProtocol(pp, port)
		if !ok {
			return nil, false
		}
		out = append(out, proto)
	}
	return out, len(out) > 0
}

func ackPortProtocol(pp string, port corev1.ServicePort) (string, bool) {
	def := strings.ToLower(string(port.Protocol))
	if def == "" {
		def = "tcp"
	}
	if pp == "" {
		return def, true
	}
	want := strconv.Itoa(int(port.Port))
	for _, e := range strings.Split(pp, ",") {
		parts := strings.Split(e, ":")
		if len(parts) < 2 {
			return "", false
		}
		switch parts[0] {
		case "http", "https", "tcp", "udp":
		default:
			return "", false
		}
		if parts[1] == want {
			return parts[0], true
		}
	}
	return def, true
}
