package manifests

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrlwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	"sigs.k8s.io/yaml"

	"github.com/stickyguard/stickyguard/internal/sticky"
	"github.com/stickyguard/stickyguard/internal/testenv"
)

// The matchConditions of the Gateway API, Envoy Gateway, Istio and GKE
// entries, evaluated by a real kube-apiserver on objects of the real CRDs
// (hack/gateway-crds.sh) with manifests/base/webhook-configurations.yaml
// installed and a recording webhook behind every path: what carries
// something sticky reaches the validating webhook once (enforce and audit
// namespaces alike), what does not is never sent, and an entry whose CRD is
// not installed changes nothing. webhook/corpus proves the other half: no
// rule's failing example is filtered out.

// gatewayCRDs returns the CRD files of the bundles (hack/gateway-crds.sh
// fetches and verifies them).
func gatewayCRDs(t *testing.T, bundles ...string) []string {
	t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot(t), "hack", "gateway-crds.sh"), append([]string{"paths"}, bundles...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "hack/gateway-crds.sh paths %v: %s", bundles, stderr.String())
	files := strings.Fields(string(out))
	require.NotEmpty(t, files, "no CRDs in %v", bundles)
	return files
}

// gkeCRD is the stand-in GCPBackendPolicy CRD (GKE installs the real one).
func gkeCRD(t *testing.T) string {
	return filepath.Join(repoRoot(t), "webhook", "corpus", "testdata", "crds", "gcpbackendpolicies.networking.gke.io.yaml")
}

// review is one admission request the recording webhook received.
type review struct {
	path, namespace, name, apiVersion string
	op                                string
	dryRun                            bool
	persistence                       bool // the object has "sessionPersistence" somewhere
}

type reviews struct {
	mu   sync.Mutex
	list []review
}

func (r *reviews) handler(path string) admission.Handler {
	return admission.HandlerFunc(func(_ context.Context, req admission.Request) admission.Response {
		var tm metav1.TypeMeta
		_ = yaml.Unmarshal(req.Object.Raw, &tm)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.list = append(r.list, review{path: path, namespace: req.Namespace, name: req.Name, apiVersion: tm.APIVersion,
			op: string(req.Operation), dryRun: req.DryRun != nil && *req.DryRun,
			persistence: bytes.Contains(req.Object.Raw, []byte(`"sessionPersistence"`))})
		return admission.Allowed("")
	})
}

// of returns the reviews of one object.
func (r *reviews) of(ns, name string) []review {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []review
	for _, rv := range r.list {
		if rv.namespace == ns && rv.name == name {
			out = append(out, rv)
		}
	}
	return out
}

// warningLog collects the warnings the API server returns.
type warningLog struct {
	mu   sync.Mutex
	list []string
}

func (w *warningLog) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warningLog) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.list
	w.list = nil
	return out
}

// webhookServer is a real API server with the shipped webhook
// configurations (pointed at a local recording server) and some CRDs.
type webhookServer struct {
	env      *envtest.Environment
	c        client.Client
	reviews  *reviews
	warnings *warningLog
}

const (
	mcEnforce = "mc-enforce"
	mcAudit   = "mc-audit"
	mcOff     = "mc-off"
)

func startWebhookServer(t *testing.T, crds []string) *webhookServer {
	t.Helper()
	assets, err := testenv.AssetsDir()
	require.NoError(t, err)
	manifest := filepath.Join(repoRoot(t), "manifests", "base", "webhook-configurations.yaml")
	s := &webhookServer{reviews: &reviews{}, warnings: &warningLog{}}
	s.env = &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDInstallOptions:     envtest.CRDInstallOptions{Paths: crds, ErrorIfPathMissing: true},
		WebhookInstallOptions: envtest.WebhookInstallOptions{Paths: []string{manifest}, LocalServingHost: "127.0.0.1"},
	}
	cfg, err := s.env.Start()
	require.NoError(t, err, "starting envtest")
	t.Cleanup(func() { assert.NoError(t, s.env.Stop()) })

	wio := s.env.WebhookInstallOptions
	srv := ctrlwebhook.NewServer(ctrlwebhook.Options{Host: wio.LocalServingHost, Port: wio.LocalServingPort, CertDir: wio.LocalServingCertDir})
	for _, p := range manifestPaths(t, manifest) {
		srv.Register(p, &admission.Webhook{Handler: s.reviews.handler(p)})
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = srv.Start(ctx) }()
	started := srv.StartedChecker()
	deadline := time.Now().Add(20 * time.Second)
	for started(&http.Request{}) != nil {
		require.True(t, time.Now().Before(deadline), "the recording webhook server did not start")
		time.Sleep(50 * time.Millisecond)
	}

	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = s.warnings
	s.c, err = client.New(cfg, client.Options{})
	require.NoError(t, err)
	for name, mode := range map[string]string{mcEnforce: "enforce", mcAudit: "audit", mcOff: ""} {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if mode != "" {
			ns.Labels = map[string]string{sticky.LabelMode: mode}
		}
		require.NoError(t, s.c.Create(context.Background(), ns))
	}
	return s
}

// manifestPaths lists every path of the shipped webhook configurations.
func manifestPaths(t *testing.T, manifest string) []string {
	t.Helper()
	data, err := os.ReadFile(manifest)
	require.NoError(t, err)
	seen := map[string]bool{}
	var out []string
	for _, o := range parse(t, data) {
		var hooks []admissionregistrationv1.ValidatingWebhook // the client config is the same in both kinds
		list, _, _ := unstructured.NestedSlice(o.u.Object, "webhooks")
		raw, err := yaml.Marshal(list)
		require.NoError(t, err)
		require.NoError(t, yaml.Unmarshal(raw, &hooks))
		for _, h := range hooks {
			require.NotNil(t, h.ClientConfig.Service, h.Name)
			p := *h.ClientConfig.Service.Path
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// object decodes one YAML document and places it in ns.
func object(t *testing.T, doc, ns string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	require.NoError(t, yaml.Unmarshal([]byte(doc), &u.Object), doc)
	u.SetNamespace(ns)
	return u
}

// Paths of the kinds, as in the shipped configuration.
const (
	pathHTTPRoute   = "/validate-gateway-networking-k8s-io-v1-httproute"
	pathGRPCRoute   = "/validate-gateway-networking-k8s-io-v1-grpcroute"
	pathXBTP        = "/validate-gateway-networking-x-k8s-io-v1alpha1-xbackendtrafficpolicy"
	pathEnvoyBTP    = "/validate-gateway-envoyproxy-io-v1alpha1-backendtrafficpolicy"
	pathDestRule    = "/validate-networking-istio-io-v1-destinationrule"
	pathGCPBackend  = "/validate-networking-gke-io-v1-gcpbackendpolicy"
	pathService     = "/validate--v1-service"
	persistenceMark = "PERSISTENCE"
)

// mcCase is one object (and, for an UPDATE, the stored object it replaces).
type mcCase struct {
	name string
	old  string // created for real first; "" for a CREATE
	doc  string // PERSISTENCE is replaced by the bundle's sessionPersistence
	path string // where it is reviewed when sent
	sent bool
	// docNS sets the targetRef's namespace to the object's own.
	docNS bool
	// apiVersion the webhook receives (matchPolicy Equivalent converts);
	// "" means the document's own.
	receivedAs string
}

const (
	routeParent = "parentRefs: [{name: gw}]\n"
	httpRoute   = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: http-%s}\nspec:\n  " + routeParent + "  rules:\n%s"
	grpcRoute   = "apiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: {name: grpc-%s}\nspec:\n  " + routeParent + "  rules:\n%s"
	ruleA       = "  - backendRefs: [{name: a, port: 80}]\n"
	ruleB       = "  - matches: [{path: {type: PathPrefix, value: /b}}]\n    backendRefs: [{name: b, port: 80}]\n"
	grpcRule    = "  - backendRefs: [{name: a, port: 50051}]\n"
	ruleSticky  = "  - backendRefs: [{name: s, port: 80}]\n    sessionPersistence: PERSISTENCE\n"
	grpcSticky  = "  - backendRefs: [{name: s, port: 50051}]\n    sessionPersistence: PERSISTENCE\n"
	xbtp        = "apiVersion: gateway.networking.x-k8s.io/v1alpha1\nkind: XBackendTrafficPolicy\nmetadata: {name: xbtp-%s}\nspec:\n  targetRefs: [{group: \"\", kind: Service, name: s}]\n%s"
	envoyBTP    = "apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: BackendTrafficPolicy\nmetadata: {name: btp-%s}\nspec:\n  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: r}]\n%s"
	destRule    = "apiVersion: networking.istio.io/%s\nkind: DestinationRule\nmetadata: {name: dr-%s}\nspec:\n  host: s.default.svc.cluster.local\n%s"
	gcpPolicy   = "apiVersion: networking.gke.io/v1\nkind: GCPBackendPolicy\nmetadata: {name: gcp-%s}\nspec:\n  targetRef: {group: \"\", kind: Service, name: s}\n%s"
	cookieHash  = "consistentHash: {httpCookie: {name: sg, ttl: 0s}}"
)

func gatewayCases() []mcCase {
	return []mcCase{
		{name: "HTTPRoute without sessionPersistence (routes are all sent)", doc: fmt.Sprintf(httpRoute, "plain", ruleA+ruleB), path: pathHTTPRoute, sent: true},
		{name: "HTTPRoute without rules (the API server defaults one)", doc: "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: http-no-rules}\nspec: {" + strings.TrimSpace(routeParent) + "}\n", path: pathHTTPRoute, sent: true},
		{name: "HTTPRoute with persistence on its second rule", doc: fmt.Sprintf(httpRoute, "sticky", ruleA+ruleSticky), path: pathHTTPRoute, sent: true},
		{name: "HTTPRoute v1beta1 with persistence", doc: strings.Replace(fmt.Sprintf(httpRoute, "sticky-beta", ruleSticky), "/v1\n", "/v1beta1\n", 1), path: pathHTTPRoute, sent: true,
			receivedAs: "gateway.networking.k8s.io/v1"},
		{name: "HTTPRoute update that removes persistence", old: fmt.Sprintf(httpRoute, "was-sticky", ruleA+ruleSticky), doc: fmt.Sprintf(httpRoute, "was-sticky", ruleA+ruleB), path: pathHTTPRoute, sent: true},
		{name: "HTTPRoute update of a plain route", old: fmt.Sprintf(httpRoute, "stays-plain", ruleA), doc: fmt.Sprintf(httpRoute, "stays-plain", ruleA+ruleB), path: pathHTTPRoute, sent: true},
		{name: "GRPCRoute without sessionPersistence", doc: fmt.Sprintf(grpcRoute, "plain", grpcRule), path: pathGRPCRoute, sent: true},
		{name: "GRPCRoute without rules", doc: "apiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: {name: grpc-no-rules}\nspec: {" + strings.TrimSpace(routeParent) + "}\n", path: pathGRPCRoute, sent: true},
		{name: "GRPCRoute with persistence", doc: fmt.Sprintf(grpcRoute, "sticky", grpcRule+grpcSticky), path: pathGRPCRoute, sent: true},
		{name: "XBackendTrafficPolicy with sessionPersistence", doc: fmt.Sprintf(xbtp, "sticky", "  sessionPersistence: PERSISTENCE\n"), path: pathXBTP, sent: true},
		{name: "XBackendTrafficPolicy with retryConstraint only", doc: fmt.Sprintf(xbtp, "retries", "  retryConstraint: {budget: {percent: 20}}\n"), path: pathXBTP},
	}
}

func meshCases() []mcCase {
	return []mcCase{
		{name: "Envoy BTP with consistentHash", doc: fmt.Sprintf(envoyBTP, "hash", "  loadBalancer: {type: ConsistentHash, consistentHash: {type: Cookie, cookie: {name: sg, ttl: 1h}}}\n"), path: pathEnvoyBTP, sent: true},
		{name: "Envoy BTP with round robin", doc: fmt.Sprintf(envoyBTP, "rr", "  loadBalancer: {type: RoundRobin}\n"), path: pathEnvoyBTP},
		{name: "Envoy BTP without loadBalancer", doc: fmt.Sprintf(envoyBTP, "timeouts", "  timeout: {http: {requestTimeout: 10s}}\n"), path: pathEnvoyBTP},
		{name: "Envoy BTP update from consistentHash to round robin", old: fmt.Sprintf(envoyBTP, "was-hash", "  loadBalancer: {type: ConsistentHash, consistentHash: {type: SourceIP}}\n"),
			doc: fmt.Sprintf(envoyBTP, "was-hash", "  loadBalancer: {type: RoundRobin}\n"), path: pathEnvoyBTP, sent: true},
		{name: "DestinationRule with trafficPolicy consistentHash", doc: fmt.Sprintf(destRule, "v1", "top", "  trafficPolicy: {loadBalancer: {"+cookieHash+"}}\n"), path: pathDestRule, sent: true},
		{name: "DestinationRule with port-level consistentHash", doc: fmt.Sprintf(destRule, "v1", "port", "  trafficPolicy:\n    portLevelSettings: [{port: {number: 81}, loadBalancer: {simple: RANDOM}}, {port: {number: 80}, loadBalancer: {"+cookieHash+"}}]\n"), path: pathDestRule, sent: true},
		{name: "DestinationRule with a subset's consistentHash", doc: fmt.Sprintf(destRule, "v1", "subset", "  subsets:\n  - {name: v1, labels: {v: \"1\"}}\n  - {name: v2, labels: {v: \"2\"}, trafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true}}}}\n"), path: pathDestRule, sent: true},
		{name: "DestinationRule with a subset's port-level consistentHash", doc: fmt.Sprintf(destRule, "v1", "subset-port", "  subsets:\n  - name: v1\n    labels: {v: \"1\"}\n    trafficPolicy: {portLevelSettings: [{port: {number: 80}, loadBalancer: {consistentHash: {httpHeaderName: x-user}}}]}\n"), path: pathDestRule, sent: true},
		{name: "DestinationRule v1beta1 with consistentHash", doc: fmt.Sprintf(destRule, "v1beta1", "beta", "  trafficPolicy: {loadBalancer: {"+cookieHash+"}}\n"), path: pathDestRule, sent: true, receivedAs: "networking.istio.io/v1"},
		{name: "DestinationRule v1alpha3 with consistentHash", doc: fmt.Sprintf(destRule, "v1alpha3", "alpha", "  trafficPolicy: {loadBalancer: {"+cookieHash+"}}\n"), path: pathDestRule, sent: true, receivedAs: "networking.istio.io/v1"},
		{name: "DestinationRule with simple load balancing everywhere", doc: fmt.Sprintf(destRule, "v1", "simple", "  trafficPolicy:\n    loadBalancer: {simple: LEAST_REQUEST}\n    portLevelSettings: [{port: {number: 80}, loadBalancer: {simple: RANDOM}}]\n  subsets: [{name: v1, labels: {v: \"1\"}, trafficPolicy: {connectionPool: {tcp: {maxConnections: 10}}}}]\n"), path: pathDestRule},
		{name: "DestinationRule with TLS only", doc: fmt.Sprintf(destRule, "v1", "tls", "  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}\n"), path: pathDestRule},
		{name: "DestinationRule without spec (no CEL error, which would fail closed)", doc: "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: dr-no-spec}\n", path: pathDestRule},
		{name: "DestinationRule update that removes a subset's consistentHash", old: fmt.Sprintf(destRule, "v1", "was-hash", "  subsets: [{name: v1, labels: {v: \"1\"}, trafficPolicy: {loadBalancer: {"+cookieHash+"}}}]\n"),
			doc: fmt.Sprintf(destRule, "v1", "was-hash", "  subsets: [{name: v1, labels: {v: \"1\"}}]\n"), path: pathDestRule, sent: true},
		{name: "GCPBackendPolicy with sessionAffinity", doc: fmt.Sprintf(gcpPolicy, "affinity", "  default: {sessionAffinity: {type: GENERATED_COOKIE, cookieTtlSec: 600}}\n"), path: pathGCPBackend, sent: true},
		{name: "GCPBackendPolicy with timeouts only", doc: fmt.Sprintf(gcpPolicy, "timeouts", "  default: {timeoutSec: 40, logging: {enabled: true}}\n"), path: pathGCPBackend},
		{name: "GCPBackendPolicy without default", doc: fmt.Sprintf(gcpPolicy, "bare", ""), path: pathGCPBackend},
		{name: "GCPBackendPolicy on a ServiceImport without sessionAffinity", doc: strings.Replace(fmt.Sprintf(gcpPolicy, "import", "  default: {timeoutSec: 40}\n"), `{group: "", kind: Service, name: s}`, "{group: net.gke.io, kind: ServiceImport, name: s}", 1), path: pathGCPBackend},
		{name: "GCPBackendPolicy targeting its own namespace by name", docNS: true, doc: fmt.Sprintf(gcpPolicy, "own-ns", "  default: {timeoutSec: 40}\n"), path: pathGCPBackend},
		{name: "GCPBackendPolicy targeting another namespace (GGW-003)", doc: strings.Replace(fmt.Sprintf(gcpPolicy, "other-ns", "  default: {timeoutSec: 40}\n"), "name: s}", "name: s, namespace: elsewhere}", 1), path: pathGCPBackend, sent: true},
		{name: "GCPBackendPolicy targeting a Deployment (GGW-006)", doc: strings.Replace(fmt.Sprintf(gcpPolicy, "deployment", ""), `{group: "", kind: Service, name: s}`, "{group: apps, kind: Deployment, name: s}", 1), path: pathGCPBackend, sent: true},
		{name: "GCPBackendPolicy update that removes sessionAffinity", old: fmt.Sprintf(gcpPolicy, "was-affinity", "  default: {sessionAffinity: {type: CLIENT_IP}}\n"), doc: fmt.Sprintf(gcpPolicy, "was-affinity", "  default: {timeoutSec: 40}\n"), path: pathGCPBackend, sent: true},
		{name: "Service with the Istio persistent-session label", doc: "apiVersion: v1\nkind: Service\nmetadata: {name: svc-istio, labels: {istio.io/persistent-session: sg}}\nspec: {selector: {app: a}, ports: [{port: 80}]}\n", path: pathService, sent: true},
		{name: "Service with the Istio persistent-session-header label", doc: "apiVersion: v1\nkind: Service\nmetadata: {name: svc-istio-header, labels: {istio.io/persistent-session-header: x-session}}\nspec: {selector: {app: a}, ports: [{port: 80}]}\n", path: pathService, sent: true},
		{name: "Service with other Istio labels", doc: "apiVersion: v1\nkind: Service\nmetadata: {name: svc-istio-plain, labels: {istio.io/rev: stable, app: a}}\nspec: {selector: {app: a}, ports: [{port: 80}]}\n", path: pathService},
	}
}

// run creates each case's object with server-side dry-run (an UPDATE
// writes it over its stored old object) in an enforce, an audit and an
// unlabelled namespace, and checks where it was sent.
func (s *webhookServer) run(t *testing.T, cases []mcCase, persistence string) {
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.ReplaceAll(tc.doc, persistenceMark, persistence)
			for _, ns := range []string{mcEnforce, mcAudit, mcOff} {
				subject := object(t, doc, ns)
				if tc.docNS {
					require.NoError(t, unstructured.SetNestedField(subject.Object, ns, "spec", "targetRef", "namespace"))
				}
				op := "CREATE"
				if tc.old != "" {
					op = "UPDATE"
					old := object(t, strings.ReplaceAll(tc.old, persistenceMark, persistence), ns)
					require.NoError(t, s.c.Create(ctx, old), "storing the old object")
					subject.SetResourceVersion(old.GetResourceVersion())
					require.NoError(t, s.c.Update(ctx, subject, client.DryRunAll, client.FieldValidation(metav1.FieldValidationStrict)))
				} else {
					require.NoError(t, s.c.Create(ctx, subject, client.DryRunAll, client.FieldValidation(metav1.FieldValidationStrict)))
				}
				var got []review
				for _, rv := range s.reviews.of(ns, subject.GetName()) {
					if rv.op == op && rv.dryRun {
						got = append(got, rv)
					}
				}
				if !tc.sent || ns == mcOff {
					assert.Empty(t, got, "%s in %s must not reach the webhook", op, ns)
					continue
				}
				require.Len(t, got, 1, "%s in %s reaches the validating webhook once", op, ns)
				assert.Equal(t, tc.path, got[0].path)
				want := tc.receivedAs
				if want == "" {
					want = subject.GetAPIVersion()
				}
				assert.Equal(t, want, got[0].apiVersion, "the webhook receives the version of its path")
			}
		})
	}
}

// persistence per Gateway API shape.
const (
	persistenceV16 = "{sessionName: sg-session, type: Cookie}"
	persistenceV17 = "{type: Cookie, cookie: {name: sg-session}}"
)

func TestMatchConditionsGatewayExperimentalV16(t *testing.T) {
	crds := append(gatewayCRDs(t, "gateway-api-v1.6.3-experimental", "envoy-gateway-v1.9.1", "istio-v1.32.0"), gkeCRD(t))
	s := startWebhookServer(t, crds)
	s.run(t, gatewayCases(), persistenceV16)
	s.run(t, meshCases(), "")
	t.Run("a v1.7 shape on v1.6 CRDs keeps sessionPersistence", func(t *testing.T) {
		// Pruning drops cookie but keeps sessionPersistence itself (type
		// defaults to Cookie), so the webhook still sees persistence.
		s.warnings.take()
		r := object(t, strings.ReplaceAll(fmt.Sprintf(httpRoute, "v17-on-v16", ruleSticky), persistenceMark, persistenceV17), mcEnforce)
		require.NoError(t, s.c.Create(context.Background(), r, client.DryRunAll, client.FieldValidation(metav1.FieldValidationWarn)))
		assert.Contains(t, strings.Join(s.warnings.take(), "\n"), `unknown field "spec.rules[0].sessionPersistence.cookie"`)
		got := s.reviews.of(mcEnforce, "http-v17-on-v16")
		require.Len(t, got, 1)
		assert.True(t, got[0].persistence)
	})
}

func TestMatchConditionsGatewayExperimentalV17(t *testing.T) {
	s := startWebhookServer(t, gatewayCRDs(t, "gateway-api-v1.7.0-experimental"))
	s.run(t, gatewayCases(), persistenceV17)
}

// TestMatchConditionsGatewayStandard: with the standard channel the field
// does not exist. Strict field validation rejects it before any webhook;
// Warn prunes it, so the webhook receives the route without it. The other
// entries' CRDs are not installed: the configuration is accepted and
// harmless, and an entry starts to apply once its CRD is installed.
func TestMatchConditionsGatewayStandard(t *testing.T) {
	s := startWebhookServer(t, gatewayCRDs(t, "gateway-api-v1.6.3-standard"))
	ctx := context.Background()
	sticky := fmt.Sprintf(httpRoute, "sticky", ruleA+strings.ReplaceAll(ruleSticky, persistenceMark, persistenceV16))

	t.Run("Strict: rejected by the API server, no webhook call", func(t *testing.T) {
		err := s.c.Create(ctx, object(t, sticky, mcEnforce), client.DryRunAll, client.FieldValidation(metav1.FieldValidationStrict))
		require.Error(t, err)
		assert.True(t, apierrors.IsBadRequest(err), "strict decoding is a 400: %v", err)
		assert.Contains(t, unknownFields(err), "spec.rules[1].sessionPersistence")
		assert.Empty(t, s.reviews.of(mcEnforce, "http-sticky"))
	})
	t.Run("Warn: pruned, then reviewed without it", func(t *testing.T) {
		s.warnings.take()
		r := object(t, sticky, mcAudit)
		require.NoError(t, s.c.Create(ctx, r, client.DryRunAll, client.FieldValidation(metav1.FieldValidationWarn)))
		assert.Contains(t, strings.Join(s.warnings.take(), "\n"), `unknown field "spec.rules[1].sessionPersistence"`)
		assert.NotContains(t, fmt.Sprint(r.Object["spec"]), "sessionPersistence", "the stored object has no persistence")
		got := s.reviews.of(mcAudit, "http-sticky")
		require.Len(t, got, 1, "routes are all sent")
		assert.False(t, got[0].persistence, "the webhook never sees the pruned field")
	})
	t.Run("entries of kinds not installed change nothing", func(t *testing.T) {
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "plain", Namespace: mcEnforce},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80}}}}
		require.NoError(t, s.c.Create(ctx, svc))
		assert.Empty(t, s.reviews.of(mcEnforce, "plain"))
	})
	t.Run("an entry applies once its CRD is installed", func(t *testing.T) {
		btp := object(t, fmt.Sprintf(envoyBTP, "hash", "  loadBalancer: {type: ConsistentHash, consistentHash: {type: SourceIP}}\n"), mcEnforce)
		err := s.c.Create(ctx, btp.DeepCopy(), client.DryRunAll)
		require.Error(t, err, "no BackendTrafficPolicy kind yet")
		_, err = envtest.InstallCRDs(s.env.Config, envtest.CRDInstallOptions{Paths: gatewayCRDs(t, "envoy-gateway-v1.9.1"), ErrorIfPathMissing: true})
		require.NoError(t, err)
		require.NoError(t, createWhenServed(ctx, s.c, btp))
		got := s.reviews.of(mcEnforce, "btp-hash")
		require.Len(t, got, 1)
		assert.Equal(t, pathEnvoyBTP, got[0].path)
	})
}

// createWhenServed dry-run creates u, retrying while the API server does
// not serve its kind yet (a CRD installed a moment ago).
func createWhenServed(ctx context.Context, c client.Client, u *unstructured.Unstructured) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := c.Create(ctx, u.DeepCopy(), client.DryRunAll)
		if err == nil || time.Now().After(deadline) || !(apierrors.IsNotFound(err) || meta.IsNoMatchError(err)) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
