package webhook

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	ctrlwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/stickyguard/stickyguard/audit"
	"github.com/stickyguard/stickyguard/engine"
	"github.com/stickyguard/stickyguard/policy"
)

// Defaults of the serve options.
const (
	DefaultPort                    = 9443
	DefaultMaxRequestBytes         = 7 << 20 // like controller-runtime: two 3 MiB objects and the review around them
	DefaultShutdownDelay           = 5 * time.Second
	DefaultGracefulShutdownTimeout = 15 * time.Second // reviews time out after 5 s (timeoutSeconds), so this is ample
)

// ServerOptions configure the admission server (`stickyguard serve`).
type ServerOptions struct {
	RESTConfig *rest.Config

	Host    string // bind address of the webhook server; "" means all interfaces
	Port    int    // 0 means DefaultPort
	CertDir string // holds tls.crt and tls.key, reloaded when they change

	MetricsBindAddress     string // "0" disables
	HealthProbeBindAddress string // "0" or "" disables
	PprofBindAddress       string // net/http/pprof; "0" or "" disables (the default)

	PolicyFile         string        // "" means the built-in default policy
	PolicyPollInterval time.Duration // 0 means DefaultPolicyPollInterval

	ForceAudit      bool
	EnableHTTP2     bool
	MaxRequestBytes int64 // 0 means DefaultMaxRequestBytes

	// ShutdownDelay is how long readiness is false before the server stops
	// accepting reviews, so endpoints drop the pod first.
	ShutdownDelay time.Duration
	// GracefulShutdownTimeout bounds the wait for in-flight reviews.
	GracefulShutdownTimeout time.Duration

	// AuditInterval runs the live audit (PolicyReports and the
	// stickyguard_audit_findings gauges) every interval on the replica that
	// holds the "stickyguard-audit" lease; 0 turns it off.
	AuditInterval time.Duration
	// LeaderElectionNamespace holds the audit lease; "" means the pod's
	// namespace (required when running outside a cluster with an interval).
	LeaderElectionNamespace string

	// GCHeadroom is the least the heap may grow between garbage
	// collections (GCTuner); 0 leaves GOGC alone.
	GCHeadroom uint64

	// Registry receives stickyguard's metrics; nil means controller-runtime's
	// metrics.Registry, which the metrics endpoint serves.
	Registry prometheus.Registerer

	Log logr.Logger
}

// Server is the admission server: a controller-runtime manager with the
// webhook server, the informer cache, health probes and metrics. It runs no
// controllers; leader election guards only the optional periodic audit.
type Server struct {
	opts     ServerOptions
	mgr      manager.Manager
	lookup   *CacheLookup
	policy   PolicySource
	checks   map[string]healthz.Checker
	draining atomic.Bool
}

// NewServer wires the server; nothing runs until Start.
func NewServer(opts ServerOptions) (*Server, error) {
	if opts.RESTConfig == nil {
		return nil, errors.New("no Kubernetes client configuration")
	}
	opts.setDefaults()
	s := &Server{opts: opts, checks: map[string]healthz.Checker{}}
	scheme := NewScheme()
	mgr, err := newManager(opts, scheme)
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}
	s.mgr = mgr
	watchBC, why := WatchBackendConfigs(context.Background(), mgr.GetRESTMapper(), mgr.GetClient())
	opts.Log.Info(why)
	gateway, err := NewGatewayCache(GatewayCacheOptions{Config: opts.RESTConfig, Registry: opts.Registry,
		Log: opts.Log.WithName("custom-resources")})
	if err != nil {
		return nil, fmt.Errorf("setting up the custom resource cache: %w", err)
	}
	if err := mgr.Add(gateway); err != nil {
		return nil, err
	}
	if s.lookup, err = NewCacheLookup(context.Background(), mgr.GetCache(), watchBC, gateway); err != nil {
		return nil, err
	}
	metrics, err := NewMetrics(opts.Registry)
	if err != nil {
		return nil, fmt.Errorf("registering metrics: %w", err)
	}
	policyReady, err := s.addRunnables()
	if err != nil {
		return nil, err
	}
	// The manager runs the webhook server once it has been asked for it.
	whServer := mgr.GetWebhookServer()
	hooks := HTTPHandlers(Deps{
		Scheme:     scheme,
		Lookup:     s.lookup,
		Modes:      &CacheModes{Cache: mgr.GetCache(), API: mgr.GetAPIReader(), Synced: s.lookup.Synced},
		Policy:     s.policy,
		ForceAudit: opts.ForceAudit,
		Metrics:    metrics,
		Log:        opts.Log.WithName("admission"),
	}, opts.MaxRequestBytes)
	for _, r := range Routes() {
		whServer.Register(r.Path, hooks[r.Path])
	}
	if err := s.addChecks(whServer, policyReady); err != nil {
		return nil, err
	}
	return s, nil
}

// setDefaults fills the options left zero.
func (opts *ServerOptions) setDefaults() {
	if opts.Port == 0 {
		opts.Port = DefaultPort
	}
	if opts.MaxRequestBytes <= 0 {
		opts.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if opts.GracefulShutdownTimeout <= 0 {
		opts.GracefulShutdownTimeout = DefaultGracefulShutdownTimeout
	}
	if opts.Registry == nil {
		opts.Registry = ctrlmetrics.Registry
	}
	if opts.Log.GetSink() == nil {
		opts.Log = logr.Discard()
	}
}

// newManager builds the controller-runtime manager: the TLS webhook server,
// the informer cache, metrics and probes, and leader election for the
// periodic audit only.
func newManager(opts ServerOptions, scheme *runtime.Scheme) (manager.Manager, error) {
	http2 := opts.EnableHTTP2
	whServer := ctrlwebhook.NewServer(ctrlwebhook.Options{
		Host:    opts.Host,
		Port:    opts.Port,
		CertDir: opts.CertDir,
		TLSOpts: []func(*tls.Config){func(c *tls.Config) {
			c.MinVersion = tls.VersionTLS12
			if !http2 {
				// HTTP/2 stream multiplexing has had denial-of-service bugs
				// (CVE-2023-44487, CVE-2023-39325); off unless asked for.
				c.NextProtos = []string{"http/1.1"}
			}
		}},
	})
	gst := opts.GracefulShutdownTimeout
	return manager.New(opts.RESTConfig, manager.Options{
		Scheme: scheme,
		Logger: opts.Log,
		Cache: cache.Options{
			DefaultTransform: StripForCache,
			// Reading a kind without an informer must fail, not start an
			// informer and block a review until it syncs.
			ReaderFailOnMissingInformer: true,
		},
		Metrics:                 metricsserver.Options{BindAddress: opts.MetricsBindAddress},
		HealthProbeBindAddress:  opts.HealthProbeBindAddress,
		PprofBindAddress:        opts.PprofBindAddress,
		WebhookServer:           whServer,
		GracefulShutdownTimeout: &gst,
		// Leader election only guards the periodic audit; serving reviews
		// never needs it. All replicas serve.
		LeaderElection:                opts.AuditInterval > 0,
		LeaderElectionID:              "stickyguard-audit",
		LeaderElectionNamespace:       opts.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
	})
}

// addRunnables adds the policy file watcher (or sets the built-in policy),
// the GC tuner and the periodic audit to the manager. It returns the
// policy's readiness check.
func (s *Server) addRunnables() (healthz.Checker, error) {
	opts, mgr := s.opts, s.mgr
	policyReady := healthz.Checker(healthz.Ping)
	if opts.PolicyFile != "" {
		pf := NewPolicyFile(opts.PolicyFile, opts.PolicyPollInterval, opts.Log)
		if err := mgr.Add(pf); err != nil {
			return nil, err
		}
		s.policy, policyReady = pf, pf.ReadyCheck
	} else {
		s.policy = StaticPolicy{policy.Default()}
	}
	if err := mgr.Add(&GCTuner{Headroom: opts.GCHeadroom, Log: opts.Log.WithName("gc")}); err != nil {
		return nil, err
	}
	if opts.AuditInterval > 0 {
		p, err := audit.NewPeriodic(mgr.GetClient(), mgr.GetAPIReader(), opts.AuditInterval,
			s.policy.Current, opts.Registry, opts.Log.WithName("audit"))
		if err != nil {
			return nil, fmt.Errorf("setting up the periodic audit: %w", err)
		}
		if err := mgr.Add(p); err != nil {
			return nil, err
		}
	}
	return policyReady, nil
}

// addChecks registers the readiness checks (shutdown, webhook TLS, cache,
// policy) and the liveness ping.
func (s *Server) addChecks(whServer ctrlwebhook.Server, policyReady healthz.Checker) error {
	s.checks["shutdown"] = func(*http.Request) error {
		if s.draining.Load() {
			return errors.New("shutting down")
		}
		return nil
	}
	// StartedChecker completes a TLS handshake, so it also proves the
	// certificate was loaded.
	s.checks["webhook"] = whServer.StartedChecker()
	s.checks["cache"] = s.lookup.ReadyCheck
	s.checks["policy"] = policyReady
	for name, c := range s.checks {
		if err := s.mgr.AddReadyzCheck(name, c); err != nil {
			return err
		}
	}
	return s.mgr.AddHealthzCheck("ping", healthz.Ping)
}

// Lookup is the cache-backed Lookup the reviews use, for diagnostics and
// tests (engine.RelatedOf shows what the rules are given).
func (s *Server) Lookup() engine.Lookup { return s.lookup }

// Ready runs the readiness checks (what /readyz answers).
func (s *Server) Ready() error {
	names := make([]string, 0, len(s.checks))
	for n := range s.checks {
		names = append(names, n)
	}
	sort.Strings(names)
	var errs []string
	for _, n := range names {
		if err := s.checks[n](nil); err != nil {
			errs = append(errs, n+": "+err.Error())
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// Start runs the server until ctx ends, then shuts down gracefully:
// readiness turns false at once, reviews are still served for
// ShutdownDelay (while endpoints drop the pod), then the server stops
// accepting connections and in-flight reviews finish (bounded by
// GracefulShutdownTimeout).
func (s *Server) Start(ctx context.Context) error {
	mctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	go func() {
		select {
		case <-ctx.Done():
		case <-mctx.Done():
			return
		}
		s.draining.Store(true)
		s.opts.Log.Info("shutting down: readiness is false; draining", "delay", s.opts.ShutdownDelay)
		t := time.NewTimer(s.opts.ShutdownDelay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-mctx.Done():
		}
		stop()
	}()
	return s.mgr.Start(mctx)
}

// HTTPHandlers returns the HTTP handler of every route, keyed by path: the
// admission webhook, read and answered by reviewServer, behind the
// request-body bound. The server registers them on controller-runtime's
// webhook server (which adds its metrics).
func HTTPHandlers(d Deps, maxRequestBytes int64) map[string]http.Handler {
	if maxRequestBytes <= 0 {
		maxRequestBytes = DefaultMaxRequestBytes
	}
	out := map[string]http.Handler{}
	for path, wh := range NewWebhooks(d) {
		out[path] = limitBody(maxRequestBytes, newReviewServer(wh))
	}
	return out
}

// limitBody bounds the request body and detaches in-flight reviews from the
// server's shutdown: controller-runtime cancels the request context as soon
// as shutdown begins, but a review that has started should finish.
func limitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			writeReviewError(w, http.StatusRequestEntityTooLarge,
				fmt.Sprintf("stickyguard: request body is %d bytes; the limit is %d (--max-request-bytes)", r.ContentLength, max))
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			// Bodies without a length are cut at the limit; the
			// webhook then answers 400 "request body too large".
			r.Body = http.MaxBytesReader(w, r.Body, max)
		}
		next.ServeHTTP(w, r.WithContext(context.WithoutCancel(r.Context())))
	})
}

// writeReviewError answers with an AdmissionReview carrying an error
// status, the way controller-runtime answers requests it cannot read.
func writeReviewError(w http.ResponseWriter, code int32, msg string) {
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: admissionv1.SchemeGroupVersion.String(), Kind: "AdmissionReview"},
		Response: &admissionv1.AdmissionResponse{
			Allowed: false,
			Result:  &metav1.Status{Code: code, Message: msg},
		},
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(review)
}
