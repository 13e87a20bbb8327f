package validators

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/internal/sticky"
)

// The API server cuts every admission warning to 256 characters once a
// response's warnings pass 4 KiB, and the fix is at the end of a message:
// every form a finding is shown in must fit whole.
const warningCut = 256

// renderedForms lists every form a finding is shown in:
//   - a warning as admission returns it ("<field>: <ID>: <what>; fix: <fix>");
//   - a warning that a policy turns into a denial (field.Invalid with its value);
//   - a denial as its 422 cause ("<field>: Invalid value: ...: <message>");
//   - a denial in an audit namespace ("[audit] would deny <ID>: <field>: ...").
func renderedForms(errs field.ErrorList, warns Warnings) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Field+": "+Rendered(e).ErrorBody(),
			"[audit] would deny "+e.Origin+": "+e.Field+": "+e.Detail)
	}
	for _, w := range warns {
		out = append(out, w.String())
		if w.Value != nil && w.Field != nil {
			out = append(out, field.Invalid(w.Field, w.Value, w.Message()).Error())
		}
	}
	return out
}

// assertMessagesFit checks that every rendered form of the findings fits
// the warning cut and still carries its fix.
func assertMessagesFit(t *testing.T, errs field.ErrorList, warns Warnings) {
	t.Helper()
	for _, e := range errs {
		fitted[e.Origin] = true
	}
	for _, w := range warns {
		fitted[w.Rule] = true
	}
	for _, s := range renderedForms(errs, warns) {
		assert.LessOrEqual(t, utf8.RuneCountInString(s), warningCut, "too long (%d): %s", utf8.RuneCountInString(s), s)
		assert.Contains(t, s, "; fix: ", "no fix: %s", s)
	}
}

func TestRenderedForms(t *testing.T) {
	p := annPath(ngxPrefix + "affinity")
	e := field.Invalid(p, "Cookie", "bad; fix: write cookie").WithOrigin("NGX-001")
	w := Warning{Rule: "NGX-004", Field: p, Value: "x", Detail: "w; fix: f"}
	assert.Equal(t, []string{
		`metadata.annotations[nginx.ingress.kubernetes.io/affinity]: Invalid value: "Cookie": NGX-001: bad; fix: write cookie`,
		`[audit] would deny NGX-001: metadata.annotations[nginx.ingress.kubernetes.io/affinity]: bad; fix: write cookie`,
		`metadata.annotations[nginx.ingress.kubernetes.io/affinity]: NGX-004: w; fix: f`,
		`metadata.annotations[nginx.ingress.kubernetes.io/affinity]: Invalid value: "x": NGX-004: w; fix: f`,
	}, renderedForms(field.ErrorList{e}, Warnings{w}))
}

// fitted records the rules whose findings assertMessagesFit checked.
var fitted = map[string]bool{}

// key80 pads a key prefix to 80 characters: annotation keys that rules
// match by prefix are echoed in the field path. (The longest key a rule
// names, session-cookie-conditional-samesite-none, has 68.)
func key80(prefix string) string { return prefix + strings.Repeat("x", 80-len(prefix)) }

// TestWorstCaseMessagesFit feeds every rule of the ingress, HAProxy, Traefik,
// AGIC, cross-controller and stickyguard families the longest inputs their
// messages echo: long values, 80-character keys, long names and paths.
func TestWorstCaseMessagesFit(t *testing.T) {
	long := strings.Repeat("v", 300)
	shared := ctxFor(ControllerNginx)
	shared.Related.ClassShared = true
	hapShared := ctxFor(ControllerHAProxy)
	hapShared.Related.ClassShared = true
	ingCases := []struct {
		ing *networkingv1.Ingress
		ctx []*Context
	}{
		{mkIng(ngxA("affinity", long, "affinity-mode", long, "affinity-canary-behavior", long, "session-cookie-name", long+";",
			"session-cookie-max-age", long, "session-cookie-expires", "-"+strings.Repeat("9", 200), "session-cookie-samesite", long,
			"session-cookie-secure", long, "session-cookie-conditional-samesite-none", long, "session-cookie-change-on-failure", long,
			"use-regex", long, "session-cookie-path", long+";", "session-cookie-domain", long+";", "session-cookie-hash", long,
			"upstream-hash-by", long+";", "session-cookie-xx", "1"), ingAnn(key80(ngxPrefix+"session-cookie-"), "1")), nil},
		{mkIng(ngxA("affinity", "cookie", "session-cookie-name", "ASP.NET_SessionId", "session-cookie-samesite", "none",
			"session-cookie-conditional-samesite-none", "true", "session-cookie-expires", "-"+strings.Repeat("9", 200),
			"upstream-hash-by", "$x", "service-upstream", "true"), ingPath("/"+strings.Repeat("a", 80)+"/(.*)", networkingv1.PathTypePrefix)), nil},
		{mkIng(ngxA("affinity", "cookie"), ingPath("/"+strings.Repeat("a/", 30)+"(.*)", networkingv1.PathTypeExact)), nil},
		{mkIng(ngxA("affinity", "cookie"), ingPath("/(.*)", networkingv1.PathTypeImplementationSpecific)), nil},
		{mkIng(ingAnn(key80(ngxPrefix+"session-cookie-"), "1")), nil},
		{mkIng(ngxA("affinity", "cookie", "use-regex", "true"), ingPath("/"+strings.Repeat("b", 39), networkingv1.PathTypePrefix)), nil},
		{mkIng(ingAnn(key80("ingress.kubernetes.io/session-cookie-"), "1", key80("nginx.org/"), long,
			"nginx.com/sticky-cookie-services", long)), []*Context{ctxFor(ControllerNginx), shared}},
		{mkIng(ingAnn(hapPrefix+"affinity", long, hapPrefix+"session-cookie-value-strategy", long, hapPrefix+"session-cookie-strategy", long,
			hapLegacyPrefix+"session-cookie-same-site", long, key80(hapPrefix+"session-cookie-"), "1",
			key80(hapTechCookie), long)), []*Context{ctxFor(ControllerHAProxy), ctxFor(ControllerHAProxyTech), hapShared}},
		{mkIng(ingAnn(key80(trfPrefix+"service.sticky.cookie."), "1", trfPrefix+"session-cookie-name", long,
			"traefik.backend.loadbalancer.stickiness"+strings.Repeat("s", 24), long)), []*Context{ctxFor(ControllerTraefik)}},
		{mkIng(ingAnn(agicAffinity, long, agicDistinctName, long, key80(agicPrefix+"cookie-"), "1")), []*Context{ctxFor(ControllerAGIC)}},
		{mkIng(ingAnn(agicDistinctName, "true"), ingAnn(sticky.AnnIgnore, "")), []*Context{ctxFor(ControllerAGIC)}},
	}
	for _, tc := range ingCases {
		ctxs := tc.ctx
		if ctxs == nil {
			ctxs = []*Context{ctxFor(ControllerNginx), offlineCtx()}
		}
		for _, ctx := range ctxs {
			for _, fn := range []IngressRuleFunc{validateIngressMeta, validateIngressNginx, validateIngressNginxOffline,
				validateIngressTraefik, validateIngressHAProxy, validateIngressAGIC} {
				errs, warns := fn(tc.ing, nil, ctx)
				assertMessagesFit(t, errs, warns)
			}
		}
	}
	for _, ctrl := range []Controller{ControllerNginx, ControllerAWS, ControllerGCE, ControllerTraefik, ControllerAGIC,
		ControllerHAProxy, ControllerHAProxyTech, ControllerCCE} {
		for _, sh := range []bool{false, true} {
			ctx := ctxFor(ctrl)
			ctx.Related.ClassShared = sh
			ing := mkIng(ingAnn(key80(agicPrefix+"cookie-"), "1", agicAffinity, "true",
				key80(ngxPrefix+"session-cookie-"), "1", ngxPrefix+"affinity", "cookie",
				key80(trfPrefix+"service.sticky.cookie."), "1", hapPrefix+"affinity", "cookie", hapTechCookie, "x",
				annAWSALBAttrs, "stickiness.enabled=true", annCCEMode, "HTTP_COOKIE", "nginx.org/sticky-cookie-services", "x"))
			errs, warns := validateIngressForeign(ing, nil, ctx)
			assertMessagesFit(t, errs, warns)
		}
	}
	svc := mkSvc(svcAnn(key80(ngxPrefix+"session-cookie-"), "1", ngxPrefix+"affinity", "cookie",
		hapPrefix+"affinity", long, hapPrefix+"session-cookie-value-strategy", long, hapPrefix+"session-cookie-preserve", long,
		trfPrefix+"service.sticky", "yes", trfPrefix+"service.sticky.cookie.httponly", long, trfPrefix+"service.sticky.cookie.maxage", long,
		trfPrefix+"service.sticky.cookie.samesite", long, trfPrefix+"service.sticky.cookie.secure", "false",
		"traefik.backend.loadbalancer.stickiness"+strings.Repeat("s", 24), long,
		sticky.AnnIgnore, " ", sticky.AnnKeepTrafficPolicy, long))
	for _, fn := range []ServiceRuleFunc{validateServiceMeta, validateServiceNginx, validateServiceTraefik, validateServiceHAProxy} {
		errs, warns := fn(svc, nil, ctxFor(ControllerUnknown))
		assertMessagesFit(t, errs, warns)
	}
	for _, svc := range []*corev1.Service{mkSvc(trfA("service.sticky.cookie", "true", "service.sticky.cookie.samesite", "None")),
		mkSvc(trfA("service.sticky", "true"))} {
		errs, warns := validateServiceTraefik(svc, nil, ctxFor(ControllerUnknown))
		assertMessagesFit(t, errs, warns)
	}
	dep := mkDep(func(d *appsv1.Deployment) {
		d.Annotations = map[string]string{sticky.AnnAntiAffinity: long, sticky.AnnIgnore: ""}
	})
	errs, warns := validateDeploymentMeta(dep, nil, ctxFor(ControllerUnknown))
	assertMessagesFit(t, errs, warns)
	t.Run("every rule of these families was checked", func(t *testing.T) {
		for _, table := range [][]*Rule{nginxRules, haproxyRules, traefikRules, agicRules, crossRules, {sg001, sg002, sg003}} {
			for _, r := range table {
				if r != ngx023 && r != ngx024 { // TestWorstCaseSharedMessagesFit
					assert.True(t, fitted[r.ID], "%s has no worst-case input here", r.ID)
				}
			}
		}
	})
}

// TestWorstCaseSharedMessagesFit covers NGX-023 and NGX-024, which name
// the other Ingress, the Service port and the differing annotations.
func TestWorstCaseSharedMessagesFit(t *testing.T) {
	name := strings.Repeat("n", 253)
	long := func(i *networkingv1.Ingress) {
		i.Name = name
		i.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name = name
		i.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port = networkingv1.ServiceBackendPort{Name: strings.Repeat("p", 15)}
	}
	mine := mkIng(ngxA("affinity", "cookie", "session-cookie-conditional-samesite-none", "true"), long)
	mine.Name = "mine"
	all := ngxA("affinity", "cookie", "affinity-mode", "persistent", "session-cookie-name", "b", "session-cookie-expires", "1",
		"session-cookie-max-age", "1", "session-cookie-path", "/b", "session-cookie-domain", "b", "session-cookie-samesite", "Lax",
		"session-cookie-secure", "true", "session-cookie-change-on-failure", "true")
	for _, canary := range []string{"false", "true"} {
		ctx := ctxFor(ControllerNginx)
		ctx.Related.Ingresses = []RelatedIngress{{Ingress: mkIng(all, long, ngxA("canary", canary)), Controller: ControllerNginx}}
		errs, warns := validateIngressNginx(mine, nil, ctx)
		assertMessagesFit(t, errs, warns)
		assert.NotEmpty(t, warns, "canary %s", canary)
	}
}
