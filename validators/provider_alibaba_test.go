package validators

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
)

func alibabaServiceCases() []svcCase {
	cur := func(s string) string { return ackPrefix + s }
	leg := func(s string) string { return ackLegacyPrefix + s }
	p := func(k string) string { return annPath(k).String() }
	lb := svcType(corev1.ServiceTypeLoadBalancer)
	http := svcAnn(cur("protocol-port"), "http:80")
	return []svcCase{
		{name: "no annotations", svc: mkSvc(lb)},
		{name: "NodePort: no CLB reads the keys, SVC-014 warns instead",
			svc: mkSvc(svcType(corev1.ServiceTypeNodePort), svcAnn(cur("persistence-timeout"), "30m", cur("sticky-session"), "true"))},
		{name: "TCP persistence ok", svc: mkSvc(lb, svcAnn(cur("persistence-timeout"), "1800"))},
		{name: "empty value is unset", svc: mkSvc(lb, svcAnn(cur("persistence-timeout"), ""))},
		{name: "ACK-001 not an integer", svc: mkSvc(lb, svcAnn(cur("persistence-timeout"), "30m")),
			wantDeny: []finding{deny("ACK-001", p(cur("persistence-timeout")))}},
		{name: "ACK-001 above 3600", svc: mkSvc(lb, svcAnn(cur("persistence-timeout"), "3601")),
			wantDeny: []finding{deny("ACK-001", p(cur("persistence-timeout")))}},
		{name: "ACK-001 legacy prefix negative", svc: mkSvc(lb, svcAnn(leg("persistence-timeout"), "-1")),
			wantDeny: []finding{deny("ACK-001", p(leg("persistence-timeout")))}},
		{name: "ACK-002 true instead of on", svc: mkSvc(lb, http, svcAnn(cur("sticky-session"), "true")),
			wantDeny: []finding{deny("ACK-002", p(cur("sticky-session")))}},
		{name: "ACK-002 off ok", svc: mkSvc(lb, svcAnn(cur("sticky-session"), "off"))},
		{name: "insert cookie stickiness ok", svc: mkSvc(lb, http, svcAnn(cur("sticky-session"), "on",
			cur("sticky-session-type"), "insert", cur("cookie-timeout"), "1800"))},
		{name: "ACK-003 type missing", svc: mkSvc(lb, http, svcAnn(cur("sticky-session"), "on")),
			wantDeny: []finding{deny("ACK-003", p(cur("sticky-session-type")))}},
		{name: "ACK-003 type missing, legacy prefix path", svc: mkSvc(lb, http, svcAnn(leg("sticky-session"), "on")),
			wantDeny: []finding{deny("ACK-003", p(leg("sticky-session-type")))}},
		{name: "ACK-003 capitalised type", svc: mkSvc(lb, http, svcAnn(cur("sticky-session"), "on", cur("sticky-session-type"), "Insert")),
			wantDeny: []finding{deny("ACK-003", p(cur("sticky-session-type")))}},
		{name: "ACK-004 insert without cookie-timeout", svc: mkSvc(lb, http, svcAnn(cur("sticky-session"), "on", cur("sticky-session-type"), "insert")),
			wantDeny: []finding{deny("ACK-004", p(cur("cookie-timeout")))}},
		{name: "ACK-004 cookie-timeout 0", svc: mkSvc(lb, http, svcAnn(cur("sticky-session"), "on", cur("sticky-session-type"), "insert",
			cur("cookie-timeout"), "0")),
			wantDeny: []finding{deny("ACK-004", p(cur("cookie-timeout")))}},
		{name: "ACK-004 cookie-timeout not integer", svc: mkSvc(lb, http, svcAnn(cur("cookie-timeout"), "1d")),
			wantDeny: []finding{deny("ACK-004", p(cur("cookie-timeout")))}},
		{name: "ACK-005 server without cookie", svc: mkSvc(lb, http, svcAnn(cur("sticky-session"), "on", cur("sticky-session-type"), "server")),
			wantDeny: []finding{deny("ACK-005", p(cur("cookie")))}},
		{name: "ACK-005 cookie starting with $", svc: mkSvc(lb, http, svcAnn(cur("sticky-session"), "on", cur("sticky-session-type"), "server",
			cur("cookie"), "$sid")),
			wantDeny: []finding{deny("ACK-005", p(cur("cookie")))}},
		{name: "ACK-005 cookie with space", svc: mkSvc(lb, svcAnn(cur("cookie"), "my sid")),
			wantDeny: []finding{deny("ACK-005", p(cur("cookie")))}},
		{name: "ACK-005 cookie too long", svc: mkSvc(lb, svcAnn(cur("cookie"), strings.Repeat("a", 201))),
			wantDeny: []finding{deny("ACK-005", p(cur("cookie")))}},
		{name: "ACK-005 cookie with dot", svc: mkSvc(lb, svcAnn(cur("cookie"), "my.sid")),
			wantDeny: []finding{deny("ACK-005", p(cur("cookie")))}},
		{name: "ACK-005 valid server cookie", svc: mkSvc(lb, http, svcAnn(cur("sticky-session"), "on", cur("sticky-session-type"), "server",
			cur("cookie"), "JSESSIONID"))},
		{name: "ACK-006 persistence on HTTP listeners", svc: mkSvc(lb, http, svcAnn(cur("persistence-timeout"), "600")),
			wantWarn: []finding{warn("ACK-006", p(cur("persistence-timeout")))}},
		{name: "ACK-006 persistence 0 on HTTP listeners ok", svc: mkSvc(lb, http, svcAnn(cur("persistence-timeout"), "0"))},
		{name: "ACK-006 sticky-session on TCP listeners", svc: mkSvc(lb, svcAnn(cur("sticky-session"), "on",
			cur("sticky-session-type"), "insert", cur("cookie-timeout"), "60")),
			wantWarn: []finding{warn("ACK-006", p(cur("sticky-session")))}},
		{name: "ACK-006 skipped when protocol-port does not parse", svc: mkSvc(lb, svcAnn(cur("protocol-port"), "HTTP:80",
			cur("persistence-timeout"), "600"))},
	}
}

func TestProviderAlibabaService(t *testing.T) {
	runSvcCases(t, validateServiceACK, alibabaServiceCases())
}

func TestProviderAlibabaListenerProtocols(t *testing.T) {
	svc := mkSvc(svcAnn(ackPrefix+"protocol-port", "https:443,http:80"), func(s *corev1.Service) {
		s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "tls", Port: 443, Protocol: corev1.ProtocolTCP},
			corev1.ServicePort{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP})
	})
	protos, ok := ackListenerProtocols(svc)
	assert.True(t, ok)
	assert.Equal(t, []string{"http", "https", "udp"}, protos)
}

func FuzzProviderAlibaba(f *testing.F) {
	f.Add("600", "on", "insert", "1800", "JSESSIONID", "http:80", false)
	f.Add("x", "true", "server", "-1", "$a;b", "https:443,tcp", true)
	f.Fuzz(func(t *testing.T, persist, sticky, typ, timeout, cookie, pp string, legacy bool) {
		prefix := ackPrefix
		if legacy {
			prefix = ackLegacyPrefix
		}
		svc := mkSvc(svcType(corev1.ServiceTypeLoadBalancer), svcAnn(prefix+"persistence-timeout", persist, prefix+"sticky-session", sticky,
			prefix+"sticky-session-type", typ, prefix+"cookie-timeout", timeout, prefix+"cookie", cookie, prefix+"protocol-port", pp))
		for _, ctx := range []*Context{ctxFor(ControllerUnknown), offlineCtx()} {
			validateServiceACK(svc, nil, ctx)
		}
	})
}
