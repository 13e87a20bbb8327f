package webhook

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/stickyguard/stickyguard/internal/sticky"
	"github.com/stickyguard/stickyguard/policy"
)

const (
	create = admissionv1.Create
	update = admissionv1.Update
)

func TestMutateEnforcePatches(t *testing.T) {
	sticky := service(nsEnforce, "web", stickyLB)
	antiAffinity := map[string]any{
		"podAntiAffinity": map[string]any{
			"preferredDuringSchedulingIgnoredDuringExecution": []any{map[string]any{
				"weight": float64(100),
				"podAffinityTerm": map[string]any{
					"labelSelector": map[string]any{"matchLabels": map[string]any{"app": "web"}},
					"topologyKey":   "kubernetes.io/hostname",
				},
			}},
		},
	}
	shortTimeout := policy.Default()
	shortTimeout.Service.ClientIPTimeout.Default = 3600

	tests := []struct {
		name     string
		index    []any
		policy   *policy.Policy
		obj      runtime.Object
		wantOps  []map[string]any
		wantWarn []string // prefixes
	}{{
		name: "sticky LoadBalancer gets externalTrafficPolicy Local",
		obj:  sticky,
		wantOps: []map[string]any{
			{"op": "replace", "path": "/spec/externalTrafficPolicy", "value": "Local"},
		},
		wantWarn: []string{"SVC-005 spec.externalTrafficPolicy: set spec.externalTrafficPolicy=Local: ACK CLB persistence-timeout"},
	}, {
		name: "externalTrafficPolicy missing from the request is added",
		obj: service(nsEnforce, "web", stickyLB, func(s *corev1.Service) {
			s.Spec.ExternalTrafficPolicy = ""
		}),
		wantOps: []map[string]any{
			{"op": "add", "path": "/spec/externalTrafficPolicy", "value": "Local"},
		},
		wantWarn: []string{"SVC-005 spec.externalTrafficPolicy: set"},
	}, {
		name:   "ClientIP timeout gets the policy's default",
		policy: shortTimeout,
		obj: service(nsEnforce, "web", func(s *corev1.Service) {
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr(int32(10800))}}
		}),
		wantOps: []map[string]any{
			{"op": "replace", "path": "/spec/sessionAffinityConfig/clientIP/timeoutSeconds", "value": float64(3600)},
		},
		wantWarn: []string{"SVC-008 spec.sessionAffinityConfig.clientIP.timeoutSeconds: set"},
	}, {
		name:  "Deployment behind a sticky Local Service gets hostname anti-affinity",
		index: []any{sticky},
		obj:   deployment(nsEnforce, "web"),
		wantOps: []map[string]any{
			{"op": "add", "path": "/spec/template/spec/affinity", "value": antiAffinity},
		},
		wantWarn: []string{"DEP-001 spec.template.spec.affinity.podAntiAffinity: set"},
	}, {
		name: "Deployment without a sticky Service is left alone",
		obj:  deployment(nsEnforce, "web"),
	}, {
		name: "plain ClusterIP Service is left alone",
		obj:  service(nsEnforce, "web"),
	}, {
		name: "Ingress has no defaults",
		obj:  ingress(nsEnforce, "web", "web"),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(tt.index...)
			f.policy = tt.policy
			resp := f.review(t, Mutating, create, tt.obj, nil)
			require.True(t, resp.Allowed, "%+v", resp.Result)
			assert.Equal(t, tt.wantOps, patchOps(t, resp))
			if tt.wantOps == nil {
				assert.Nil(t, resp.PatchType)
			} else {
				require.NotNil(t, resp.PatchType)
				assert.Equal(t, admissionv1.PatchTypeJSONPatch, *resp.PatchType)
			}
			require.Len(t, resp.Warnings, len(tt.wantWarn), "%q", resp.Warnings)
			for i, w := range tt.wantWarn {
				assert.True(t, strings.HasPrefix(resp.Warnings[i], w), "warning %q, want prefix %q", resp.Warnings[i], w)
			}
		})
	}
}

func TestMutateUpdateWithDefaultsHasNoPatch(t *testing.T) {
	svc := service(nsEnforce, "web", stickyLB, func(s *corev1.Service) {
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	})
	dep := deployment(nsEnforce, "web", func(d *appsv1.Deployment) {
		d.Spec.Template.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
				Weight: 100, PodAffinityTerm: corev1.PodAffinityTerm{
					LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
					TopologyKey:   "kubernetes.io/hostname",
				},
			}},
		}}
	})
	f := newFixture(svc)
	for _, obj := range []runtime.Object{svc, dep} {
		for _, half := range []Half{Mutating, Validating} {
			resp := f.review(t, half, update, obj, obj)
			assert.True(t, resp.Allowed)
			assert.Empty(t, resp.Patch, "%T %s", obj, half)
			assert.Nil(t, resp.PatchType)
		}
	}
}

// A field the API server knows and our Go types do not must survive the
// patch: no "remove" for it.
func TestMutateKeepsUnknownFields(t *testing.T) {
	f := newFixture()
	body := reviewJSON(t, create, service(nsEnforce, "web", stickyLB), nil)
	body = []byte(strings.Replace(string(body), `"spec":{`, `"spec":{"futureField":{"enabled":true},`, 1))
	require.Contains(t, string(body), "futureField")
	resp := f.post(t, "/mutate--v1-service", body)
	require.True(t, resp.Allowed)
	assert.Equal(t, []map[string]any{
		{"op": "replace", "path": "/spec/externalTrafficPolicy", "value": "Local"},
	}, patchOps(t, resp))
}

func TestValidateEnforceDeniesWithCauses(t *testing.T) {
	tests := []struct {
		name       string
		obj        runtime.Object
		group      string
		kind       string
		wantCauses []metav1.StatusCause // Message is a substring
	}{{
		name: "sessionAffinity under spec.selector",
		obj:  service(nsEnforce, "web", brokenSelector),
		kind: "Service",
		wantCauses: []metav1.StatusCause{{
			Type: metav1.CauseTypeFieldValueInvalid, Field: "spec.selector[sessionAffinity]", Message: "SVC-001",
		}},
	}, {
		name: "every misplaced key is its own cause",
		obj: service(nsEnforce, "web", func(s *corev1.Service) {
			s.Spec.Selector = map[string]string{"app": "web", "sessionAffinity": "ClientIP", "timeoutSeconds": "600"}
		}),
		kind: "Service",
		wantCauses: []metav1.StatusCause{
			{Type: metav1.CauseTypeFieldValueInvalid, Field: "spec.selector[sessionAffinity]", Message: "SVC-001"},
			{Type: metav1.CauseTypeFieldValueInvalid, Field: "spec.selector[timeoutSeconds]", Message: "SVC-001"},
		},
	}, {
		name:  "exemption without a reason on an Ingress",
		obj:   ingress(nsEnforce, "web", "web", func(i *networkingv1.Ingress) { setAnn(i, sticky.AnnIgnore, " ") }),
		group: "networking.k8s.io",
		kind:  "Ingress",
		wantCauses: []metav1.StatusCause{{
			Type: metav1.CauseTypeFieldValueRequired, Field: "metadata.annotations[stickyguard.io/ignore]", Message: "SG-001",
		}},
	}, {
		name:  "exemption without a reason on a Deployment",
		obj:   deployment(nsEnforce, "web", func(d *appsv1.Deployment) { setAnn(d, sticky.AnnIgnore, "") }),
		group: "apps",
		kind:  "Deployment",
		wantCauses: []metav1.StatusCause{{
			Type: metav1.CauseTypeFieldValueRequired, Field: "metadata.annotations[stickyguard.io/ignore]", Message: "SG-001",
		}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, op := range []admissionv1.Operation{create, update} {
				var old runtime.Object
				if op == update {
					old = tt.obj
				}
				resp := newFixture().review(t, Validating, op, tt.obj, old)
				require.False(t, resp.Allowed)
				require.NotNil(t, resp.Result)
				assert.EqualValues(t, http.StatusUnprocessableEntity, resp.Result.Code)
				assert.Equal(t, metav1.StatusReasonInvalid, resp.Result.Reason)
				require.NotNil(t, resp.Result.Details)
				assert.Equal(t, tt.group, resp.Result.Details.Group)
				assert.Equal(t, tt.kind, resp.Result.Details.Kind)
				assert.Equal(t, "web", resp.Result.Details.Name)
				causes := resp.Result.Details.Causes
				require.Len(t, causes, len(tt.wantCauses), "%+v", causes)
				for i, want := range tt.wantCauses {
					assert.Equal(t, want.Type, causes[i].Type)
					assert.Equal(t, want.Field, causes[i].Field)
					assert.Contains(t, causes[i].Message, want.Message)
				}
			}
		})
	}
}

func TestValidateWarnings(t *testing.T) {
	f := newFixture()
	obj := service(nsEnforce, "web", func(s *corev1.Service) { setAnn(s, "sessionAffinity", "ClientIP") })
	resp := f.review(t, Validating, create, obj, nil)
	require.True(t, resp.Allowed)
	require.Len(t, resp.Warnings, 1)
	assert.True(t, strings.HasPrefix(resp.Warnings[0], "SVC-002 metadata.annotations[sessionAffinity]: "), resp.Warnings[0])
	assert.NotContains(t, resp.Warnings[0], "SVC-002: ", "the rule ID is not repeated")
	assert.Empty(t, resp.AuditAnnotations)
}

func TestAuditMode(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ns    string
		force bool
	}{{"audit namespace", nsAudit, false}, {"--force-audit on an enforce namespace", nsEnforce, true}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture()
			f.force = tc.force

			broken := service(tc.ns, "web", brokenSelector)
			resp := f.review(t, Validating, create, broken, nil)
			require.True(t, resp.Allowed, "audit never denies")
			require.Len(t, resp.Warnings, 1)
			assert.True(t, strings.HasPrefix(resp.Warnings[0],
				"[audit] would deny SVC-001: spec.selector[sessionAffinity]: a pod label, not the Service field spec.sessionAffinity"), resp.Warnings[0])
			assert.Equal(t, map[string]string{"would-deny-1": resp.Warnings[0]}, resp.AuditAnnotations)

			resp = f.review(t, Mutating, create, service(tc.ns, "web", stickyLB), nil)
			require.True(t, resp.Allowed)
			assert.Empty(t, resp.Patch, "audit never patches")
			assert.Nil(t, resp.PatchType)
			assert.Equal(t, []string{"[audit] would set spec.externalTrafficPolicy=Local (SVC-005)"}, resp.Warnings)
			assert.Equal(t, map[string]string{"would-set-1": "[audit] would set spec.externalTrafficPolicy=Local (SVC-005)"}, resp.AuditAnnotations)

			dep := deployment(tc.ns, "web")
			f2 := newFixture(service(tc.ns, "web", stickyLB))
			f2.force = tc.force
			resp = f2.review(t, Mutating, create, dep, nil)
			require.True(t, resp.Allowed)
			assert.Empty(t, resp.Patch)
			require.Len(t, resp.Warnings, 1)
			assert.True(t, strings.HasPrefix(resp.Warnings[0], "[audit] would set spec.template.spec.affinity.podAntiAffinity=preferred on kubernetes.io/hostname (DEP-001)"), resp.Warnings[0])
		})
	}
}

func TestExemptObjects(t *testing.T) {
	reason := "legacy app\x1b[31m, ticket\nOPS-123\x00"
	obj := service(nsEnforce, "web", brokenSelector, stickyLB, func(s *corev1.Service) { setAnn(s, sticky.AnnIgnore, reason) })
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	require.NoError(t, err)
	f := newFixture()
	f.metrics = m

	resp := f.review(t, Mutating, create, obj, nil)
	assert.True(t, resp.Allowed)
	assert.Empty(t, resp.Patch, "exempt objects are not mutated")
	assert.Empty(t, resp.Warnings, "the validating half reports the exemption")

	resp = f.review(t, Validating, create, obj, nil)
	require.True(t, resp.Allowed, "exempt objects are not denied")
	require.Len(t, resp.Warnings, 1)
	assert.Equal(t, `stickyguard: this Service is exempt from stickyguard's rules by stickyguard.io/ignore; reason: "legacy app [31m, ticket OPS-123 "`, resp.Warnings[0])
	assert.Equal(t, "legacy app [31m, ticket OPS-123 ", resp.AuditAnnotations["exempt"])
	assert.Equal(t, 1.0, testutil.ToFloat64(m.exemptions.WithLabelValues("Service")))

	long := strings.Repeat("é", 500)
	resp = f.review(t, Validating, create, service(nsEnforce, "web", func(s *corev1.Service) { setAnn(s, sticky.AnnIgnore, long) }), nil)
	require.True(t, resp.Allowed)
	assert.LessOrEqual(t, len([]rune(resp.Warnings[0])), maxWarningRunes)
	assert.Contains(t, resp.Warnings[0], "...")
}

func TestNamespacesNotOptedIn(t *testing.T) {
	f := newFixture()
	for _, tc := range []struct{ ns, warn string }{
		{nsOff, `stickyguard: namespace "plain" has no stickyguard.io/mode label`},
		{nsOdd, `stickyguard: namespace "strange" has stickyguard.io/mode="strict", which is neither enforce nor audit`},
	} {
		obj := service(tc.ns, "web", brokenSelector, stickyLB)
		resp := f.review(t, Mutating, create, obj, nil)
		assert.True(t, resp.Allowed)
		assert.Empty(t, resp.Patch)
		assert.Empty(t, resp.Warnings)

		resp = f.review(t, Validating, create, obj, nil)
		assert.True(t, resp.Allowed)
		require.Len(t, resp.Warnings, 1)
		assert.True(t, strings.HasPrefix(resp.Warnings[0], tc.warn), resp.Warnings[0])
	}
}

func TestDeleteAndConnectAreAllowed(t *testing.T) {
	f := newFixture()
	for _, op := range []admissionv1.Operation{admissionv1.Delete, admissionv1.Connect} {
		for _, half := range []Half{Mutating, Validating} {
			resp := f.review(t, half, op, service(nsEnforce, "web", brokenSelector), nil)
			assert.True(t, resp.Allowed)
			assert.Empty(t, resp.Patch)
		}
	}
}

// dryRun requests get exactly the same answer (sideEffects: None).
func TestDryRunGetsTheSameAnswer(t *testing.T) {
	f := newFixture()
	for _, half := range []Half{Mutating, Validating} {
		for _, obj := range []runtime.Object{service(nsEnforce, "web", stickyLB), service(nsEnforce, "web", brokenSelector)} {
			body := reviewJSON(t, create, obj, nil)
			dry := []byte(strings.Replace(string(body), `"operation":"CREATE"`, `"operation":"CREATE","dryRun":true`, 1))
			require.NotEqual(t, body, dry)
			assert.Equal(t, f.post(t, pathFor(t, half, obj), body), f.post(t, pathFor(t, half, obj), dry))
		}
	}
}

func TestUnreadableRequestsAre400(t *testing.T) {
	svcJSON := string(mustJSON(t, withTypeMeta(service(nsEnforce, "web"))))
	review := func(req string) []byte {
		return []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":` + req + `}`)
	}
	tests := []struct {
		name string
		path string
		body []byte
	}{
		{"empty body", "/validate--v1-service", nil},
		{"not JSON", "/validate--v1-service", []byte("{{{{")},
		{"not a review", "/mutate--v1-service", []byte(`[1,2,3]`)},
		{"empty review", "/mutate--v1-service", []byte(`{}`)},
		{"no object", "/validate--v1-service", review(`{"uid":"1","operation":"CREATE","namespace":"shop"}`)},
		{"object of the wrong JSON type", "/validate--v1-service", review(`{"uid":"1","operation":"CREATE","namespace":"shop","object":{"apiVersion":"v1","kind":"Service","spec":"nope"}}`)},
		{"a Pod on the Service path", "/mutate--v1-service", review(`{"uid":"1","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","namespace":"shop","object":{"apiVersion":"v1","kind":"Pod"}}`)},
		{"a Pod object in a Service review", "/validate--v1-service", review(`{"uid":"1","operation":"CREATE","namespace":"shop","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"}}}`)},
		{"update without oldObject", "/validate--v1-service", review(`{"uid":"1","operation":"UPDATE","namespace":"shop","object":` + svcJSON + `}`)},
		{"unknown operation", "/validate-apps-v1-deployment", review(`{"uid":"1","operation":"PATCH","namespace":"shop","object":{}}`)},
	}
	f := newFixture()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := f.post(t, tt.path, tt.body)
			assert.False(t, resp.Allowed)
			require.NotNil(t, resp.Result)
			assert.EqualValues(t, http.StatusBadRequest, resp.Result.Code, resp.Result.Message)
		})
	}
}

func TestOversizedBodies(t *testing.T) {
	f := newFixture()
	f.maxBytes = 4096
	f.build()
	big := reviewJSON(t, create, service(nsEnforce, "web", func(s *corev1.Service) {
		setAnn(s, "example.com/blob", strings.Repeat("x", 8192))
	}), nil)

	resp := f.post(t, "/validate--v1-service", big)
	assert.False(t, resp.Allowed)
	assert.EqualValues(t, http.StatusRequestEntityTooLarge, resp.Result.Code)
	assert.Contains(t, resp.Result.Message, "limit is 4096")

	// Without a Content-Length the body is cut at the limit.
	h := f.handlers["/validate--v1-service"]
	rec := newRecorder()
	req := newChunkedRequest("/validate--v1-service", big)
	h.ServeHTTP(rec, req)
	out := decodeReview(t, rec.Body.Bytes())
	assert.False(t, out.Allowed)
	assert.EqualValues(t, http.StatusBadRequest, out.Result.Code)
	assert.Contains(t, out.Result.Message, "too large")

	// A normal review still passes.
	resp = f.post(t, "/validate--v1-service", reviewJSON(t, create, service(nsEnforce, "web"), nil))
	assert.True(t, resp.Allowed)
}

func TestInfrastructureFailuresAre500NotDenials(t *testing.T) {
	t.Run("namespace mode unknown", func(t *testing.T) {
		f := newFixture()
		f.modes = fakeModes{err: errors.New("apiserver unreachable")}
		resp := f.review(t, Validating, create, service(nsEnforce, "web"), nil)
		assert.False(t, resp.Allowed)
		assert.EqualValues(t, http.StatusInternalServerError, resp.Result.Code)
		assert.Contains(t, resp.Result.Message, "apiserver unreachable")
		assert.Empty(t, resp.Result.Reason, "not a denial")
	})
	t.Run("lookup fails", func(t *testing.T) {
		f := newFixture()
		f.handlers = HTTPHandlers(Deps{Lookup: failingLookup{}, Modes: defaultModes()}, 0)
		for _, half := range []Half{Mutating, Validating} {
			resp := f.review(t, half, create, deployment(nsEnforce, "web"), nil)
			assert.False(t, resp.Allowed)
			assert.EqualValues(t, http.StatusInternalServerError, resp.Result.Code)
			assert.Contains(t, resp.Result.Message, ErrCacheNotSynced.Error())
		}
	})
	t.Run("no valid policy", func(t *testing.T) {
		f := newFixture()
		f.handlers = HTTPHandlers(Deps{Lookup: f.idx, Modes: defaultModes(), Policy: StaticPolicy{}}, 0)
		resp := f.review(t, Validating, create, service(nsEnforce, "web"), nil)
		assert.EqualValues(t, http.StatusInternalServerError, resp.Result.Code)
	})
	t.Run("panics are recovered", func(t *testing.T) {
		f := newFixture()
		f.handlers = HTTPHandlers(Deps{Lookup: panickingLookup{}, Modes: defaultModes()}, 0)
		resp := f.review(t, Validating, create, deployment(nsEnforce, "web"), nil)
		assert.False(t, resp.Allowed)
		assert.EqualValues(t, http.StatusInternalServerError, resp.Result.Code)
		assert.Contains(t, resp.Result.Message, "panic")
	})
}

func TestMetricsCount(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	require.NoError(t, err)
	again, err := NewMetrics(reg)
	require.NoError(t, err, "registering twice reuses the collectors")
	require.Same(t, m.reviews, again.reviews)

	f := newFixture(service(nsAudit, "web", stickyLB))
	f.metrics = m
	f.review(t, Validating, create, service(nsEnforce, "web", brokenSelector), nil)
	f.review(t, Validating, create, service(nsAudit, "web", brokenSelector), nil)
	f.review(t, Mutating, create, service(nsEnforce, "web", stickyLB), nil)
	f.review(t, Mutating, create, deployment(nsAudit, "web"), nil)
	f.review(t, Validating, create, service(nsOff, "web"), nil)

	assert.Equal(t, 1.0, testutil.ToFloat64(m.reviews.WithLabelValues("Service", "CREATE", "enforce", "denied")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.reviews.WithLabelValues("Service", "CREATE", "audit", "would_deny")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.reviews.WithLabelValues("Service", "CREATE", "enforce", "patched")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.reviews.WithLabelValues("Deployment", "CREATE", "audit", "would_patch")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.reviews.WithLabelValues("Service", "CREATE", "off", "skipped")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.findings.WithLabelValues("SVC-001", "deny", "enforce")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.findings.WithLabelValues("SVC-001", "deny", "audit")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.mutations.WithLabelValues("SVC-005", "enforce")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.mutations.WithLabelValues("DEP-001", "audit")))
	assert.Equal(t, 3, testutil.CollectAndCount(m.duration), "one series per kind and webhook seen")

	names := map[string]bool{}
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, n := range []string{"stickyguard_admission_reviews_total", "stickyguard_rule_findings_total",
		"stickyguard_mutations_total", "stickyguard_review_duration_seconds"} {
		assert.True(t, names[n], n)
	}
}
