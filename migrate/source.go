package migrate

import (
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/stickyguard/stickyguard/validators"
)

// The ingress-nginx annotation prefix.
const ngx = validators.NginxPrefix

// nginxConf is what ingress-nginx does with one Ingress's sticky
// annotations: the affinity config as the NGX rules read it (invalid values
// replaced by ingress-nginx's defaults), the lifetimes sticky.lua uses, and
// the upstream-hash-by, canary and backend-protocol settings; the
// annotations as written are kept for the report.
type nginxConf struct {
	validators.NginxAffinityConf
	ann map[string]string

	maxAge  *int64 // effective Max-Age seconds, nil when unset or invalid
	expires *int64

	hashBy string
	subset bool

	canary         bool
	canaryWeight   *int64
	canaryTotal    int64
	canaryByHeader bool // canary-by-header or canary-by-cookie
	grpc           bool
}

// raw returns the annotation as written and whether it is set (non-empty,
// as ingress-nginx skips empty values).
func (c *nginxConf) raw(name string) (string, bool) { return validators.NginxAnnotation(c.ann, name) }

// readNginx reads an Ingress's sticky annotations the way ingress-nginx
// v1.15 does (sessionaffinity, upstreamhashby, canary and backend-protocol
// parsers; balancer.lua for the mode).
func readNginx(ing *networkingv1.Ingress) *nginxConf {
	c := &nginxConf{NginxAffinityConf: validators.NginxAffinity(ing.Annotations), ann: ing.Annotations, canaryTotal: 100}
	if n, ok := c.MaxAgeSeconds(); ok {
		c.maxAge = &n
	}
	if n, ok := c.ExpiresSeconds(); ok {
		c.expires = &n
	}
	if v, ok := c.raw("upstream-hash-by"); ok {
		c.hashBy = strings.TrimSpace(v)
	}
	c.subset = validators.NginxBool(c.ann, "upstream-hash-by-subset")
	c.canary = validators.IsNginxCanary(ing)
	if v, ok := c.raw("canary-weight"); ok {
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			c.canaryWeight = &n
		}
	}
	if v, ok := c.raw("canary-weight-total"); ok {
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n > 0 {
			c.canaryTotal = n
		}
	}
	_, byHeader := c.raw("canary-by-header")
	_, byCookie := c.raw("canary-by-cookie")
	c.canaryByHeader = byHeader || byCookie
	if v, ok := c.raw("backend-protocol"); ok {
		p := strings.ToUpper(strings.TrimSpace(v))
		c.grpc = p == "GRPC" || p == "GRPCS"
	}
	return c
}

// lifetime is the cookie lifetime the target gets, in seconds: Max-Age
// wins over Expires in browsers; a Max-Age of 0 or less expired the
// cookie at once (no valid duration: the target gets a session cookie).
func (c *nginxConf) lifetime() (int64, bool) {
	switch {
	case c.maxAge != nil:
		return *c.maxAge, *c.maxAge > 0
	case c.expires != nil:
		return *c.expires, *c.expires > 0
	}
	return 0, false
}

// cookiePath is the cookie Path ingress-nginx meant for a location: the
// session-cookie-path, else the path as written, or for a regex the
// literal prefix NGX-013 suggests (the regex itself never matched).
func (c *nginxConf) cookiePath(p string) string {
	switch {
	case c.Path != "":
		return c.Path
	case validators.NginxRegexPath(p):
		return validators.NginxLiteralPrefix(p)
	}
	return p
}

// differs reports whether two Ingresses configure stickiness differently:
// the affinity settings NGX-023 compares for Ingresses sharing an
// upstream, and the hash key.
func (c *nginxConf) differs(o *nginxConf) bool {
	return len(c.Diff(o.NginxAffinityConf)) > 0 || c.hashBy != o.hashBy
}
