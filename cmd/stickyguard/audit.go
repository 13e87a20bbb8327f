package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stickyguard/stickyguard/audit"
	"github.com/stickyguard/stickyguard/engine"
	"github.com/stickyguard/stickyguard/internal/sticky"
	"github.com/stickyguard/stickyguard/policy"
)

type auditOptions struct {
	kubeconfig  string
	kubecontext string
	namespace   string
	all         bool
	optedIn     bool
	output      string
	policyFile  string
	apply       bool
	pageSize    int64
	timeout     time.Duration
	args        []string // positional arguments (none are accepted)
}

func runAudit(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseAuditFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitError
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "stickyguard audit: "+format+"\n", a...)
		return exitError
	}
	if err := o.check(); err != nil {
		return fail("%v", err)
	}
	pol, err := loadPolicy(o.policyFile)
	if err != nil {
		return fail("%v", err)
	}
	cfg, contextNS, err := auditRESTConfig(o)
	if err != nil {
		return fail("%v", err)
	}
	if o.namespace == "" && !o.all && !o.optedIn {
		o.namespace = contextNS
	}
	c, err := client.New(cfg, client.Options{Scheme: clientgoscheme.Scheme})
	if err != nil {
		return fail("%v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, reports, err := auditCluster(ctx, c, o, pol, stderr)
	if err != nil {
		return fail("%v", err)
	}
	if o.output == "policyreport" {
		err = audit.WritePolicyReports(stdout, reports)
	} else {
		err = writeReport(stdout, rep, o.output)
	}
	if err != nil {
		return fail("writing output: %v", err)
	}
	if rep.Denied() > 0 {
		return exitDenied
	}
	return exitOK
}

// parseAuditFlags parses the audit command line; flag.ErrHelp for -h.
func parseAuditFlags(args []string, stderr io.Writer) (auditOptions, error) {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o auditOptions
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)")
	fs.StringVar(&o.kubecontext, "context", "", "kubeconfig context (default: the current context)")
	fs.StringVar(&o.namespace, "n", "", "audit this namespace (default: the context's namespace)")
	fs.StringVar(&o.namespace, "namespace", "", "same as -n")
	fs.BoolVar(&o.all, "all-namespaces", false, "audit every namespace")
	fs.BoolVar(&o.all, "A", false, "same as --all-namespaces")
	fs.BoolVar(&o.optedIn, "opted-in", false, "audit the namespaces labelled "+sticky.LabelMode+"=enforce or audit")
	fs.StringVar(&o.output, "o", "text", "output format: text, json or policyreport")
	fs.StringVar(&o.output, "output", "text", "same as -o")
	fs.StringVar(&o.policyFile, "policy", "", "policy file (YAML, kind Policy); built-in defaults when empty")
	fs.BoolVar(&o.apply, "apply", false, "also create or update one PolicyReport per namespace in the cluster (server-side apply)")
	fs.Int64Var(&o.pageSize, "page-size", audit.DefaultPageSize, "objects per List call")
	fs.DurationVar(&o.timeout, "request-timeout", 30*time.Second, "timeout of one API request")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: stickyguard audit [--kubeconfig FILE] [-n NS | -A | --opted-in] [-o text|json|policyreport] [--policy FILE] [--apply]")
		fmt.Fprintln(stderr, "\nChecks the Services, Ingresses, Deployments and StatefulSets stored in a cluster with every rule, each")
		fmt.Fprintln(stderr, "namespace as a whole: what enforce mode would deny, warn about and set on the next write.")
		fmt.Fprintln(stderr, "-o policyreport prints wgpolicyk8s.io/v1alpha2 PolicyReports; --apply writes them.")
		fmt.Fprintln(stderr, "Exit status: 0 nothing would be denied, 1 something would be denied, 2 error.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.args = fs.Args()
	return o, nil
}

// check rejects option combinations that make no sense.
func (o *auditOptions) check() error {
	if len(o.args) > 0 {
		return fmt.Errorf("unexpected arguments %q (audit reads the cluster; use check for files)", o.args)
	}
	switch o.output {
	case "text", "json", "policyreport":
	default:
		return fmt.Errorf("-o must be text, json or policyreport, got %q", o.output)
	}
	if o.pageSize <= 0 {
		return fmt.Errorf("--page-size must be positive, got %d", o.pageSize)
	}
	scopes := 0
	for _, set := range []bool{o.namespace != "", o.all, o.optedIn} {
		if set {
			scopes++
		}
	}
	if scopes > 1 {
		return errors.New("-n, --all-namespaces and --opted-in are mutually exclusive")
	}
	return nil
}

// auditCluster runs the audit, namespace by namespace: the report for
// text and JSON, the PolicyReports for -o policyreport, applied with --apply.
// Run's warnings go to stderr.
func auditCluster(ctx context.Context, c client.Client, o auditOptions, pol *policy.Policy, stderr io.Writer) (*engine.Report, []*unstructured.Unstructured, error) {
	rep := &engine.Report{Results: []engine.ReportResult{}, Skipped: []engine.ReportSkipped{}}
	var reports []*unstructured.Unstructured
	now := time.Now()
	opts := audit.Options{
		Scope:    audit.Scope{Namespace: o.namespace, AllNamespaces: o.all, OptedIn: o.optedIn},
		Policy:   pol,
		PageSize: o.pageSize,
	}
	st, err := audit.Run(ctx, c, opts, func(nr *audit.NamespaceResult) error {
		rep.Results = append(rep.Results, engine.NewReport(nr.Checked, nil).Results...)
		if o.output != "policyreport" && !o.apply {
			return nil
		}
		pr := audit.PolicyReport(nr.Namespace, nr.Checked, now)
		if o.output == "policyreport" {
			reports = append(reports, pr)
		}
		if o.apply {
			return applyReport(ctx, c, pr, stderr)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for _, w := range st.Warnings {
		fmt.Fprintf(stderr, "stickyguard audit: warning: %s\n", w)
	}
	for _, n := range st.Notes {
		fmt.Fprintf(stderr, "stickyguard audit: note: %s\n", n)
	}
	if st.Namespaces == 0 {
		fmt.Fprintln(stderr, "stickyguard audit: no namespace matched")
	}
	return rep, reports, nil
}

// applyReport writes one report and says so on stderr (stdout carries the
// -o output).
func applyReport(ctx context.Context, c client.Client, pr *unstructured.Unstructured, stderr io.Writer) error {
	err := audit.ApplyPolicyReport(ctx, c, pr)
	if errors.Is(err, audit.ErrNamespaceGone) {
		fmt.Fprintf(stderr, "stickyguard audit: skipped %v\n", err)
		return nil
	}
	if err != nil {
		return err
	}
	fail, _, _ := unstructured.NestedInt64(pr.Object, "summary", "fail")
	warn, _, _ := unstructured.NestedInt64(pr.Object, "summary", "warn")
	fmt.Fprintf(stderr, "policyreport.wgpolicyk8s.io/%s applied in namespace %s (%d fail, %d warn)\n", pr.GetName(), pr.GetNamespace(), fail, warn)
	return nil
}

// auditRESTConfig loads the kubeconfig the way kubectl does and returns the
// client configuration and the context's namespace.
func auditRESTConfig(o auditOptions) (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: o.kubecontext})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("loading the kubeconfig: %w", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, "", fmt.Errorf("loading the kubeconfig: %w", err)
	}
	// kubectl's client-side rate limits: an audit of many namespaces sends
	// three paged Lists per namespace.
	cfg.QPS, cfg.Burst = 50, 300
	cfg.Timeout = o.timeout
	cfg.UserAgent = "stickyguard-audit/" + version
	cfg.WarningHandler = rest.NoWarnings{}
	return cfg, ns, nil
}
