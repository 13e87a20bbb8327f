package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// Options are the tool's flags.
type Options struct {
	Modes             []string
	Stickyguard       string
	Assets            string
	WorkDir           string
	Keep              bool
	Timeout           time.Duration
	Duration          time.Duration // per configuration and concurrency, split over the rounds
	Rounds            int
	MaxRequests       int // per load loop
	DirectConcurrency []int
	E2EConcurrency    []int
	E2EClasses        []string
	E2EConfigs        []string
	// GatewayCRDs is the folder of the Gateway API experimental CRDs the
	// route classes need (default: located in the Go module cache).
	GatewayCRDs      string
	ScaleServices    int
	ScaleDeployments int
	ScaleIngresses   int
	ScaleConcurrency []int
	CreateWorkers    int
	JSONOut          string
	MarkdownOut      string
}

// Report is everything a run measured.
type Report struct {
	Started time.Time     `json:"started"`
	Options *Options      `json:"options"`
	Direct  *DirectReport `json:"direct,omitempty"`
	E2E     *E2EReport    `json:"e2e,omitempty"`
	Scale   *ScaleReport  `json:"scale,omitempty"`
}

const usage = `usage: load [flags]

Measures stickyguard's admission cost on this machine (everything on 127.0.0.1):
  direct  AdmissionReview POSTs to stickyguard serve vs an allow-all floor webhook
  e2e     dryRun=All creates through kube-apiserver: none, stickyguard, VAP, floor (+ floor-patch, floor-filtered),
          with each run's admission cost from the API server's own metrics
  scale   serve RSS and Deployment review latency with 10k/5k/2k objects cached
Needs kube-apiserver and etcd (-assets, default $KUBEBUILDER_ASSETS or bin/k8s)
and bin/stickyguard (-stickyguard).

Flags:
`

func main() {
	if isFloor() {
		os.Exit(runFloor())
	}
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}

// Main parses flags, runs the modes and prints the report; it returns the
// exit code (1 when a run failed; targets missed are reported, not fatal).
func Main(args []string, stdout, stderr io.Writer) int {
	ctrllog.SetLogger(logr.Discard())
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "load:", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := Run(ctx, o)
	if rep != nil {
		printText(stdout, rep)
		if o.JSONOut != "" {
			if b, jerr := json.MarshalIndent(rep, "", "  "); jerr == nil {
				_ = os.WriteFile(o.JSONOut, b, 0o644)
			}
		}
		if o.MarkdownOut != "" {
			f, ferr := os.Create(o.MarkdownOut)
			if ferr == nil {
				printMarkdown(f, rep)
				f.Close()
			}
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "load:", err)
		return 1
	}
	return 0
}

// Run runs the selected modes, each with its own control plane.
func Run(ctx context.Context, o *Options) (*Report, error) {
	rep := &Report{Started: time.Now().UTC(), Options: o}
	for _, mode := range o.Modes {
		h, err := NewHarness(o)
		if err != nil {
			return rep, err
		}
		if mode == "e2e" && needsGateway(o.E2EClasses) {
			if o.GatewayCRDs == "" {
				if o.GatewayCRDs, err = locateGatewayCRDs(); err != nil {
					h.Close()
					return rep, err
				}
			}
			h.CRDDirs = gatewayCRDFiles(o.GatewayCRDs)
		}
		err = func() error {
			defer h.Close()
			if err := h.StartControlPlane(); err != nil {
				return err
			}
			logf("%s: control plane up (work dir %s)", mode, h.Dir)
			switch mode {
			case "direct":
				r, err := runDirect(ctx, h)
				rep.Direct = r
				return err
			case "e2e":
				r, err := runE2E(ctx, h)
				rep.E2E = r
				return err
			case "scale":
				r, err := runScale(ctx, h)
				rep.Scale = r
				return err
			}
			return fmt.Errorf("unknown mode %q", mode)
		}()
		if err != nil {
			return rep, fmt.Errorf("%s: %w", mode, err)
		}
	}
	return rep, nil
}

func parseFlags(args []string, stderr io.Writer) (*Options, error) {
	o := &Options{}
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modes := fs.String("mode", "direct,e2e,scale", "comma-separated modes: direct, e2e, scale")
	root := repoRoot()
	fs.StringVar(&o.Stickyguard, "stickyguard", filepath.Join(root, "bin", "stickyguard"), "the stickyguard binary (make build)")
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join(root, "bin", "k8s")
	}
	fs.StringVar(&o.Assets, "assets", assets, "folder with kube-apiserver and etcd (make tools)")
	fs.StringVar(&o.WorkDir, "work-dir", "", "folder for certificates, kubeconfig and logs (default: a temporary folder, removed at the end)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the temporary work folder (logs)")
	fs.DurationVar(&o.Timeout, "timeout", 20*time.Minute, "bound on the whole run")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "load per configuration and concurrency (split over the rounds)")
	fs.IntVar(&o.Rounds, "rounds", 2, "rounds that alternate the configurations (cancels drift)")
	fs.IntVar(&o.MaxRequests, "max-requests", 1_000_000, "bound on the requests of one load loop")
	direct := fs.String("concurrency", "1,32", "direct: concurrent connections (comma-separated)")
	e2e := fs.String("e2e-concurrency", "1,8,32", "e2e: concurrent clients (comma-separated)")
	classes := fs.String("e2e-classes", "sticky,plain", "e2e: object classes ("+strings.Join(e2eClassNames(), ", ")+")")
	configs := fs.String("e2e-configs", strings.Join(e2eConfigs, ","), "e2e: configurations (none, stickyguard and floor are needed for the ratios)")
	fs.StringVar(&o.GatewayCRDs, "gateway-crds", "", "e2e: folder of the Gateway API experimental CRDs for the route classes (default: "+
		gatewayAPIModule+" as hack/tools/gatewaycrds pins it, from the Go module cache)")
	fs.IntVar(&o.ScaleServices, "scale-services", 10000, "scale: Services in the namespace")
	fs.IntVar(&o.ScaleDeployments, "scale-deployments", 5000, "scale: Deployments in the namespace")
	fs.IntVar(&o.ScaleIngresses, "scale-ingresses", 2000, "scale: Ingresses in the namespace")
	scaleConc := fs.String("scale-concurrency", "1,8", "scale: concurrent connections for the review latency")
	fs.IntVar(&o.CreateWorkers, "create-workers", 16, "scale: concurrent creates while loading the namespace")
	fs.StringVar(&o.JSONOut, "json", "", "also write the report as JSON to this file")
	fs.StringVar(&o.MarkdownOut, "markdown", "", "also write the report as markdown tables to this file")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	var err error
	o.Modes = splitList(*modes)
	for _, m := range o.Modes {
		if m != "direct" && m != "e2e" && m != "scale" {
			return nil, fmt.Errorf("unknown mode %q", m)
		}
	}
	if o.DirectConcurrency, err = intList(*direct); err != nil {
		return nil, fmt.Errorf("-concurrency: %w", err)
	}
	if o.E2EConcurrency, err = intList(*e2e); err != nil {
		return nil, fmt.Errorf("-e2e-concurrency: %w", err)
	}
	if o.ScaleConcurrency, err = intList(*scaleConc); err != nil {
		return nil, fmt.Errorf("-scale-concurrency: %w", err)
	}
	o.E2EClasses = splitList(*classes)
	for _, c := range o.E2EClasses {
		if _, ok := e2eClasses[c]; !ok {
			return nil, fmt.Errorf("unknown e2e class %q", c)
		}
	}
	o.E2EConfigs = splitList(*configs)
	for _, c := range o.E2EConfigs {
		if !slices.Contains(e2eConfigs, c) {
			return nil, fmt.Errorf("unknown e2e configuration %q (known: %s)", c, strings.Join(e2eConfigs, ", "))
		}
	}
	for _, c := range []string{cfgNone, cfgStickyguard, cfgFloor} {
		if !slices.Contains(o.E2EConfigs, c) {
			return nil, fmt.Errorf("-e2e-configs must include %s (the ratios and targets are computed against it)", c)
		}
	}
	switch {
	case o.Rounds < 1 || o.Rounds > 20:
		return nil, errors.New("-rounds must be 1-20")
	case o.Duration < 100*time.Millisecond || o.Duration > 10*time.Minute:
		return nil, errors.New("-duration must be between 100ms and 10m")
	case o.Timeout <= 0 || o.Timeout > 2*time.Hour:
		return nil, errors.New("-timeout must be positive and at most 2h")
	case o.MaxRequests < 1:
		return nil, errors.New("-max-requests must be positive")
	case o.CreateWorkers < 1 || o.CreateWorkers > 64:
		return nil, errors.New("-create-workers must be 1-64")
	case o.ScaleServices < 0 || o.ScaleDeployments < 0 || o.ScaleIngresses < 0 ||
		o.ScaleServices > 50000 || o.ScaleDeployments > 50000 || o.ScaleIngresses > 50000:
		return nil, errors.New("-scale-* must be 0-50000")
	}
	for _, p := range []string{o.Stickyguard, filepath.Join(o.Assets, "kube-apiserver"), filepath.Join(o.Assets, "etcd")} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("%s is missing (make build tools)", p)
		}
	}
	return o, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 256 {
			return nil, fmt.Errorf("%q is not a concurrency between 1 and 256", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("empty list")
	}
	return out, nil
}

// repoRoot finds the repository from the working directory (go.mod of
// the stickyguard module), so the defaults work from anywhere inside it.
func repoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/stickyguard/stickyguard\n") {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

var logStart = time.Now()

// logf prints progress to stderr.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%6.1fs] %s\n", time.Since(logStart).Seconds(), fmt.Sprintf(format, args...))
}
