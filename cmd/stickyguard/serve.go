package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"k8s.io/apimachinery/pkg/api/resource"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client/config"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/stickyguard/stickyguard/webhook"
)

const serveUsage = `usage: stickyguard serve [flags]

Runs the admission webhook: the paths in manifests/base/webhook-configurations.yaml
over TLS, /healthz and /readyz on --health-probe-bind-address, Prometheus metrics
on --metrics-bind-address. Namespaces opt in with the label
stickyguard.io/mode=enforce|audit.

Every flag can also be set from the environment as STICKYGUARD_<FLAG>, upper case
with dashes as underscores (e.g. STICKYGUARD_FORCE_AUDIT=true,
STICKYGUARD_POLICY=/etc/stickyguard/policy.yaml). A flag on the command line
wins over the environment.

Flags:
`

// serveEnvPrefix prefixes the environment fallback of every serve flag.
const serveEnvPrefix = "STICKYGUARD_"

type serveOptions struct {
	server     webhook.ServerOptions
	kubeconfig string
	zap        zap.Options
}

func runServe(args []string, _ io.Reader, _, stderr io.Writer) int {
	o, err := parseServeFlags(args, stderr, os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "stickyguard serve: %v\n", err)
		return 2
	}
	log := zap.New(zap.UseFlagOptions(&o.zap), zap.WriteTo(stderr))
	logf.SetLogger(log)
	klog.SetLogger(log.WithName("klog"))
	setupLog := log.WithName("serve")

	cfg, err := serveRESTConfig(o.kubeconfig)
	if err != nil {
		setupLog.Error(err, "loading the Kubernetes client configuration")
		return 1
	}
	o.server.RESTConfig = cfg
	o.server.Log = log.WithName("stickyguard")
	srv, err := webhook.NewServer(o.server)
	if err != nil {
		setupLog.Error(err, "setting up the server")
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	setupLog.Info("starting", "version", version, "port", o.server.Port, "bindAddress", o.server.Host,
		"certDir", o.server.CertDir, "policy", o.server.PolicyFile, "forceAudit", o.server.ForceAudit)
	if err := srv.Start(ctx); err != nil {
		setupLog.Error(err, "server stopped")
		return 1
	}
	setupLog.Info("stopped")
	return 0
}

// parseServeFlags parses the flags, then fills every flag not given on the
// command line from STICKYGUARD_<FLAG> when that is set.
func parseServeFlags(args []string, stderr io.Writer, getenv func(string) string) (*serveOptions, error) {
	o := &serveOptions{}
	s := &o.server
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&s.Port, "port", webhook.DefaultPort, "TLS port of the webhook server")
	fs.StringVar(&s.Host, "bind-address", "0.0.0.0", "address the webhook server listens on")
	fs.StringVar(&s.CertDir, "cert-dir", "/tmp/k8s-webhook-server/serving-certs",
		"directory with tls.crt and tls.key; both are reloaded when they change, without a restart")
	fs.StringVar(&s.MetricsBindAddress, "metrics-bind-address", ":8080", `address of the Prometheus metrics endpoint ("0" disables it)`)
	fs.StringVar(&s.HealthProbeBindAddress, "health-probe-bind-address", ":8081", `address of /healthz and /readyz ("0" disables them)`)
	fs.StringVar(&s.PprofBindAddress, "pprof-bind-address", "0",
		`address of the Go profiler (net/http/pprof) for diagnosing CPU and memory; keep it on localhost ("0" disables it)`)
	fs.StringVar(&s.PolicyFile, "policy", "",
		"policy file (YAML, kind Policy), reloaded when it changes; an invalid new version is logged and the old one kept (default: the built-in policy)")
	fs.DurationVar(&s.AuditInterval, "audit-interval", 0,
		"audit the opted-in namespaces every interval on the elected replica: PolicyReports and stickyguard_audit_findings (0: off; needs manifests/policyreport; at least 1m)")
	fs.StringVar(&s.LeaderElectionNamespace, "leader-election-namespace", "",
		"namespace of the audit lease (default: the pod's namespace; required outside a cluster with --audit-interval)")
	fs.BoolVar(&s.ForceAudit, "force-audit", false, "treat every enforce namespace as audit: allow everything, patch nothing, report what would happen (for first rollouts)")
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig for running outside a cluster (default: $KUBECONFIG, in-cluster config, then ~/.kube/config)")
	fs.BoolVar(&s.EnableHTTP2, "enable-http2", false, "serve HTTP/2 as well as HTTP/1.1 (off: HTTP/2 rapid-reset attacks)")
	fs.Int64Var(&s.MaxRequestBytes, "max-request-bytes", webhook.DefaultMaxRequestBytes, "largest AdmissionReview body accepted; larger ones get a 413 error")
	fs.DurationVar(&s.ShutdownDelay, "shutdown-delay", webhook.DefaultShutdownDelay,
		"on SIGTERM, how long readiness is false while reviews are still served, before the server stops accepting connections")
	fs.DurationVar(&s.GracefulShutdownTimeout, "graceful-shutdown-timeout", webhook.DefaultGracefulShutdownTimeout,
		"how long in-flight reviews may take to finish on shutdown")
	s.GCHeadroom = defaultGCHeadroom
	fs.Var((*bytesFlag)(&s.GCHeadroom), "gc-headroom",
		"least the Go heap may grow between garbage collections (raises GOGC while the live heap is small; 0 keeps GOGC as set)")
	o.zap.BindFlags(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, serveUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		env := serveEnvName(f.Name)
		if v := getenv(env); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", env, v, err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if s.Port < 1 || s.Port > 65535 {
		return nil, fmt.Errorf("--port must be between 1 and 65535, got %d", s.Port)
	}
	if s.MaxRequestBytes < 1024 {
		return nil, fmt.Errorf("--max-request-bytes must be at least 1024, got %d", s.MaxRequestBytes)
	}
	if s.AuditInterval != 0 && s.AuditInterval < time.Minute {
		return nil, fmt.Errorf("--audit-interval must be 0 (off) or at least 1m, got %s", s.AuditInterval)
	}
	if s.ShutdownDelay < 0 || s.GracefulShutdownTimeout < 0 {
		return nil, errors.New("--shutdown-delay and --graceful-shutdown-timeout must not be negative")
	}
	return o, nil
}

// defaultGCHeadroom: 32 MiB between collections costs at most 32 MiB of
// memory over GOGC=100 and cut serve's CPU per review by a tenth to a fifth at
// load (bench/RESULTS.md); the Deployment's memory limit is 256 MiB.
const defaultGCHeadroom = 32 << 20

// bytesFlag is a byte count written as a Kubernetes quantity (64Mi, 0).
type bytesFlag uint64

func (b *bytesFlag) String() string {
	return resource.NewQuantity(int64(*b), resource.BinarySI).String()
}

func (b *bytesFlag) Set(v string) error {
	q, err := resource.ParseQuantity(v)
	if err != nil {
		return fmt.Errorf("not a quantity of bytes (e.g. 64Mi): %w", err)
	}
	n, ok := q.AsInt64()
	if !ok || n < 0 || n > 1<<40 {
		return fmt.Errorf("must be between 0 and 1Ti bytes, got %s", v)
	}
	*b = bytesFlag(n)
	return nil
}

// serveEnvName is the environment variable of a flag: STICKYGUARD_FORCE_AUDIT.
func serveEnvName(flagName string) string {
	return serveEnvPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func serveRESTConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		return clientcmd.BuildConfigFromFlags("", kubeconfig)
	}
	return config.GetConfig()
}
