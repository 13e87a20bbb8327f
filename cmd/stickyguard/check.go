package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/engine"
	"github.com/stickyguard/stickyguard/policy"
	"github.com/stickyguard/stickyguard/validators"
)

// Exit statuses shared by check and audit.
const (
	exitOK     = 0 // every object would be admitted
	exitDenied = 1 // at least one object would be denied
	exitError  = 2 // input or environment problem
)

type checkOptions struct {
	output     string
	policyFile string
	gatewayAPI string
	paths      []string
}

func runCheck(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o checkOptions
	fs.StringVar(&o.output, "o", "text", "output format: text or json")
	fs.StringVar(&o.output, "output", "text", "output format: text or json (same as -o)")
	fs.StringVar(&o.policyFile, "policy", "", "policy file (YAML, kind Policy); built-in defaults when empty")
	fs.StringVar(&o.gatewayAPI, "gateway-api", "",
		"the Gateway API CRDs the cluster has, VERSION[/CHANNEL] (e.g. v1.6.3/experimental); wins over Gateway API CRDs in the input and the policy's cluster.gatewayAPI")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: stickyguard check [-o text|json] [--policy FILE] PATH...")
		fmt.Fprintln(stderr, "\nPATH is a file, a directory (recursive *.yaml, *.yml, *.json) or - for stdin.")
		fmt.Fprintln(stderr, "Runs what the webhook runs for an enforce namespace: defaults first, then rules.")
		fmt.Fprintln(stderr, "Objects are read as the API server reads what kubectl sends (case-sensitive fields,")
		fmt.Fprintln(stderr, "the last of duplicate keys wins); unknown fields are violations, as kubectl refuses them.")
		fmt.Fprintln(stderr, "Exit status: 0 all admitted, 1 something denied, 2 unreadable input (also a")
		fmt.Fprintln(stderr, "document that is not an object; the message names file, document and line).")
		fmt.Fprintln(stderr, "The Gateway API bundle (what a route's sessionPersistence may hold) comes from")
		fmt.Fprintln(stderr, "--gateway-api, else the Gateway API CRDs in the input, else the policy.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	o.paths = fs.Args()
	if o.output != "text" && o.output != "json" {
		fmt.Fprintf(stderr, "stickyguard check: -o must be text or json, got %q\n", o.output)
		return exitError
	}
	if len(o.paths) == 0 {
		fs.Usage()
		return exitError
	}
	pol, err := loadPolicy(o.policyFile)
	if err != nil {
		fmt.Fprintf(stderr, "stickyguard check: %v\n", err)
		return exitError
	}
	var bundle apis.GatewayBundle
	if o.gatewayAPI != "" {
		if bundle, err = engine.ParseGatewayAPI(o.gatewayAPI); err != nil {
			fmt.Fprintf(stderr, "stickyguard check: --gateway-api: %v\n", err)
			return exitError
		}
	}
	docs, err := readInputs(o.paths, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "stickyguard check: %v\n", err)
		return exitError
	}
	bundleNote(stderr, docs, bundle, pol)
	checked, skipped, err := engine.CheckDocuments(docs, engine.Options{Policy: pol, Offline: true, Bundle: bundle})
	if err != nil {
		fmt.Fprintf(stderr, "stickyguard check: %v\n", err)
		return exitError
	}
	rep := engine.NewReport(checked, skipped)
	if err := writeReport(stdout, rep, o.output); err != nil {
		fmt.Fprintf(stderr, "stickyguard check: writing output: %v\n", err)
		return exitError
	}
	if rep.Denied() > 0 {
		return exitDenied
	}
	return exitOK
}

// bundleNote tells on stderr which Gateway API bundle the route rules
// assume when the input has Gateway API routes or policies, and when the
// flag overrides CRDs in the input that say otherwise.
func bundleNote(stderr io.Writer, docs []engine.Document, flag apis.GatewayBundle, pol *policy.Policy) {
	uses := false
	for i := range docs {
		switch docs[i].Object.(type) {
		case *apis.Route, *apis.BackendPolicy:
			uses = true
		}
	}
	if !uses {
		return
	}
	input := engine.InputBundle(docs)
	switch {
	case flag.Known() && input.Known() && (flag.Version != input.Version || flag.Channel != input.Channel):
		fmt.Fprintf(stderr, "stickyguard check: note: --gateway-api %s overrides the Gateway API CRDs in the input (%s %s, %s)\n",
			bundleName(flag), input.Version, input.Channel, input.Source)
	case flag.Known() || input.Known():
	case pol.Cluster.GatewayAPI.Version != "" || pol.Cluster.GatewayAPI.Channel != "":
	default:
		fmt.Fprintln(stderr, "stickyguard check: note: the Gateway API version and channel are unknown (no --gateway-api, no Gateway API CRDs in the input, no cluster.gatewayAPI in the policy): the rules that depend on them do not run")
	}
}

func bundleName(b apis.GatewayBundle) string {
	if b.Channel == "" {
		return b.Version
	}
	return b.Version + "/" + b.Channel
}

func writeReport(w io.Writer, rep *engine.Report, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteText(w)
}

// loadPolicy reads a policy file, or returns the built-in policy.
func loadPolicy(path string) (*policy.Policy, error) {
	if path == "" {
		return policy.Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading policy: %w", err)
	}
	p, err := policy.Parse(data, validators.KnownRule)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", path, err)
	}
	return p, nil
}

// readInputs reads every PATH: files, directories (recursive *.yaml, *.yml,
// *.json, in lexical order) and - for stdin.
func readInputs(paths []string, stdin io.Reader) ([]engine.Document, error) {
	var docs []engine.Document
	for _, p := range paths {
		if p == "-" {
			d, err := engine.ReadDocuments("-", stdin)
			if err != nil {
				return nil, err
			}
			docs = append(docs, d...)
			continue
		}
		files, err := manifestFiles(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			d, err := readFile(f)
			if err != nil {
				return nil, err
			}
			docs = append(docs, d...)
		}
	}
	return docs, nil
}

func readFile(path string) ([]engine.Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return engine.ReadDocuments(path, f)
}

func manifestFiles(root string) ([]string, error) {
	info, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{root}, nil
	}
	var files []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".yaml", ".yml", ".json":
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}
