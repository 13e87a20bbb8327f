package validators

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

func rawSvc(t testing.TB, y string) map[string]any {
	t.Helper()
	js, err := yaml.YAMLToJSON([]byte(y))
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(js, &m))
	return m
}

func TestServiceRaw(t *testing.T) {
	tests := []struct {
		name     string
		yaml     string
		wantDeny []finding
		wantWarn []finding
		drops    int
	}{
		{name: "well-formed", yaml: "spec:\n  sessionAffinity: ClientIP\n  sessionAffinityConfig:\n    clientIP:\n      timeoutSeconds: 600\n"},
		{name: "no spec", yaml: "metadata:\n  name: x\n"},
		{name: "SVC-D01 string timeout",
			yaml:     "spec:\n  sessionAffinity: ClientIP\n  sessionAffinityConfig:\n    clientIP:\n      timeoutSeconds: \"600\"\n",
			wantDeny: []finding{deny("SVC-D01", "spec.sessionAffinityConfig.clientIP.timeoutSeconds")}, drops: 1},
		{name: "SVC-D01 fractional timeout and non-string affinity",
			yaml:     "spec:\n  sessionAffinity: true\n  sessionAffinityConfig:\n    clientIP:\n      timeoutSeconds: 1.5\n",
			wantDeny: []finding{deny("SVC-D01", "spec.sessionAffinity"), deny("SVC-D01", "spec.sessionAffinityConfig.clientIP.timeoutSeconds")},
			wantWarn: []finding{warn("SVC-D03", "spec.sessionAffinityConfig")}, drops: 2},
		{name: "SVC-D01 config not an object",
			yaml:     "spec:\n  sessionAffinity: ClientIP\n  sessionAffinityConfig: 600\n",
			wantDeny: []finding{deny("SVC-D01", "spec.sessionAffinityConfig")}, drops: 1},
		{name: "SVC-D03 config next to None",
			yaml:     "spec:\n  sessionAffinity: None\n  sessionAffinityConfig:\n    clientIP:\n      timeoutSeconds: 600\n",
			wantWarn: []finding{warn("SVC-D03", "spec.sessionAffinityConfig")}},
		{name: "SVC-D03 config without affinity",
			yaml:     "spec:\n  sessionAffinityConfig:\n    clientIP:\n      timeoutSeconds: 600\n",
			wantWarn: []finding{warn("SVC-D03", "spec.sessionAffinityConfig")}},
		{name: "empty config with None, as charts render it", yaml: "spec:\n  sessionAffinity: None\n  sessionAffinityConfig: {}\n"},
		{name: "empty clientIP with None", yaml: "spec:\n  sessionAffinity: None\n  sessionAffinityConfig:\n    clientIP: {}\n"},
		{name: "null timeout without affinity", yaml: "spec:\n  sessionAffinityConfig:\n    clientIP:\n      timeoutSeconds: null\n"},
		{name: "unknown keys are left to the typed decode", yaml: "spec:\n  sessionAffinity: ClientIP\n  sessionAffinityConfig:\n    clientIp:\n      timeoutSeconds: 600\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := rawSvc(t, tc.yaml)
			before, _ := json.Marshal(m)
			errs, warns, drops := ValidateServiceRaw(m)
			assertFindings(t, errs, warns, tc.wantDeny, tc.wantWarn)
			assert.Len(t, drops, tc.drops)
			after, _ := json.Marshal(m)
			assert.JSONEq(t, string(before), string(after), "input must not be modified")
		})
	}
}

func TestServiceAPIChecks(t *testing.T) {
	lb := svcType(corev1.ServiceTypeLoadBalancer)
	tests := []struct {
		name     string
		svc      *corev1.Service
		wantDeny []finding
	}{
		{name: "valid", svc: mkSvc(clientIP(600), lb, svcETP("Local"))},
		{name: "SVC-D04 lower-case clientip", svc: mkSvc(func(s *corev1.Service) { s.Spec.SessionAffinity = "clientip" }),
			wantDeny: []finding{deny("SVC-D04", "spec.sessionAffinity")}},
		{name: "SVC-D05 timeout 0", svc: mkSvc(clientIP(0)), wantDeny: []finding{deny("SVC-D05", "spec.sessionAffinityConfig.clientIP.timeoutSeconds")}},
		{name: "SVC-D05 timeout above a day", svc: mkSvc(clientIP(86401)), wantDeny: []finding{deny("SVC-D05", "spec.sessionAffinityConfig.clientIP.timeoutSeconds")}},
		{name: "86400 is accepted", svc: mkSvc(clientIP(86400))},
		{name: "SVC-D06 ETP on ClusterIP", svc: mkSvc(svcETP("Local")), wantDeny: []finding{deny("SVC-D06", "spec.externalTrafficPolicy")}},
		{name: "SVC-D06 lower-case local", svc: mkSvc(lb, svcETP("local")), wantDeny: []finding{deny("SVC-D06", "spec.externalTrafficPolicy")}},
		{name: "SVC-D07 healthCheckNodePort with Cluster", svc: mkSvc(lb, svcETP("Cluster"), func(s *corev1.Service) { s.Spec.HealthCheckNodePort = 30000 }),
			wantDeny: []finding{deny("SVC-D07", "spec.healthCheckNodePort")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs, warns := validateServiceAPIChecks(tc.svc, nil, offlineCtx())
			assertFindings(t, errs, warns, tc.wantDeny, nil)
		})
	}
}

func FuzzServiceRaw(f *testing.F) {
	f.Add(`{"spec":{"sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":"600"}}}}`)
	f.Add(`{"spec":{"sessionAffinityConfig":[1,2],"sessionaffinity":{}}}`)
	f.Add(`{"spec":null}`)
	f.Fuzz(func(t *testing.T, s string) {
		var m map[string]any
		if json.Unmarshal([]byte(s), &m) != nil {
			return
		}
		ValidateServiceRaw(m)
	})
}
