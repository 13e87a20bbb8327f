package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/stickyguard/stickyguard/engine"
	"github.com/stickyguard/stickyguard/migrate"
)

// exitLost: the migration lost something (a setting or an unmatched path).
const exitLost = 1

type migrateOptions struct {
	to         string
	output     string
	report     string
	onto       string
	gatewayAPI string
	doc        bool
	paths      []string
}

func runMigrate(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o migrateOptions
	targets := make([]string, 0, len(migrate.Targets()))
	for _, t := range migrate.Targets() {
		targets = append(targets, string(t))
	}
	fs.StringVar(&o.to, "to", "", "target: "+strings.Join(targets, ", "))
	fs.StringVar(&o.output, "o", "yaml", "output format of the objects: yaml or json")
	fs.StringVar(&o.output, "output", "yaml", "same as -o")
	fs.StringVar(&o.report, "report", "text", "report format (on stderr): text or json")
	fs.StringVar(&o.onto, "onto", "", "routes another converter (ingress2gateway) wrote: add sessionPersistence to their rules")
	fs.StringVar(&o.gatewayAPI, "gateway-api", "", "Gateway API version whose sessionPersistence shape to write (v1.6.x: sessionName; v1.7: cookie); default: the Gateway API CRDs in the input, else v1.7.0 (envoy-gateway: v1.6.1)")
	fs.BoolVar(&o.doc, "doc", false, "print docs/migrate.md (the mapping table and a worked example) and exit")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: stickyguard migrate --to TARGET [-o yaml|json] [--report text|json] [--onto FILE] [--gateway-api VERSION] PATH...")
		fmt.Fprintln(stderr, "\nReads ingress-nginx Ingresses (and the Services and IngressClasses beside them) as check does, and")
		fmt.Fprintln(stderr, "writes the sticky part of the target's configuration on stdout and a report on stderr: per")
		fmt.Fprintln(stderr, "annotation exact, approximate (what changes) or lost (why, the nearest workaround). docs/migrate.md")
		fmt.Fprintln(stderr, "has the mapping table.")
		fmt.Fprintln(stderr, "Exit status: 0 nothing lost, 1 something lost (or an Ingress path --onto could not match),")
		fmt.Fprintln(stderr, "2 unreadable input or bad flags.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	o.paths = fs.Args()
	if o.doc {
		md, err := migrate.Markdown()
		if err != nil {
			fmt.Fprintf(stderr, "stickyguard migrate: %v\n", err)
			return exitError
		}
		if _, err := io.WriteString(stdout, md); err != nil {
			return exitError
		}
		return exitOK
	}
	if msg := o.validate(); msg != "" {
		fmt.Fprintf(stderr, "stickyguard migrate: %s\n", msg)
		if len(o.paths) == 0 {
			fs.Usage()
		}
		return exitError
	}
	res, err := o.run(stdin)
	if err != nil {
		fmt.Fprintf(stderr, "stickyguard migrate: %v\n", err)
		return exitError
	}
	if err := migrate.WriteObjects(stdout, res.Objects, o.output); err != nil {
		fmt.Fprintf(stderr, "stickyguard migrate: writing output: %v\n", err)
		return exitError
	}
	if err := writeMigrateReport(stderr, res.Report, o.report); err != nil {
		fmt.Fprintf(stderr, "stickyguard migrate: writing the report: %v\n", err)
		return exitError
	}
	if res.Report.Lost() {
		return exitLost
	}
	return exitOK
}

func (o *migrateOptions) validate() string {
	switch {
	case o.to == "":
		return "--to is required"
	case o.output != "yaml" && o.output != "json":
		return fmt.Sprintf("-o must be yaml or json, got %q", o.output)
	case o.report != "text" && o.report != "json":
		return fmt.Sprintf("--report must be text or json, got %q", o.report)
	case len(o.paths) == 0:
		return "no input PATH"
	}
	return ""
}

func (o *migrateOptions) run(stdin io.Reader) (*migrate.Result, error) {
	var in migrate.Input
	for _, p := range o.paths {
		docs, raw, err := readMigrateInput(p, stdin)
		if err != nil {
			return nil, err
		}
		in.Docs = append(in.Docs, docs...)
		in.Raw = append(in.Raw, raw...)
	}
	opts := migrate.Options{Target: migrate.Target(o.to), GatewayAPI: o.gatewayAPI}
	if o.onto != "" {
		_, raw, err := readMigrateInput(o.onto, stdin)
		if err != nil {
			return nil, fmt.Errorf("--onto: %w", err)
		}
		opts.Onto, opts.OntoSet = raw, true
	}
	return migrate.Run(in, opts)
}

// readMigrateInput reads a PATH as check does (files, directories, - for
// stdin), keeping the raw objects as well.
func readMigrateInput(path string, stdin io.Reader) ([]engine.Document, []migrate.RawObject, error) {
	files := []string{path}
	if path != "-" {
		var err error
		if files, err = manifestFiles(path); err != nil {
			return nil, nil, err
		}
	}
	var docs []engine.Document
	var raws []migrate.RawObject
	for _, f := range files {
		var data []byte
		var err error
		if f == "-" {
			data, err = io.ReadAll(io.LimitReader(stdin, engine.MaxInputBytes+1))
		} else {
			data, err = os.ReadFile(f)
		}
		if err != nil {
			return nil, nil, err
		}
		d, err := engine.ReadDocuments(f, bytes.NewReader(data))
		if err != nil {
			return nil, nil, err
		}
		r, err := migrate.ReadRaw(f, data)
		if err != nil {
			return nil, nil, err
		}
		docs = append(docs, d...)
		raws = append(raws, r...)
	}
	return docs, raws, nil
}

func writeMigrateReport(w io.Writer, rep *migrate.Report, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteText(w)
}
