package main

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/stickyguard/stickyguard/certs"
)

const certsUsage = `usage: stickyguard certs [flags]                  make a CA and serving certificate in --out-dir
       stickyguard certs --ca-bundle [flags]      print the base64 caBundle (makes the files if missing)
       stickyguard certs --patch FILE... [-o OUT] write the caBundle into webhook configuration YAML
                 [--url https://127.0.0.1:9443]  ...and point the webhooks at a local URL instead of the Service
       stickyguard certs --renew-before 720h      renew the serving certificate when it expires within the window
       stickyguard certs check [flags]            report expiry; exit 1 when renewal is due

Files in --out-dir: tls.crt, tls.key (0600), ca.crt, ca.key (0600). Private keys are never printed.
Existing files are not replaced without --force; --force keeps a valid CA (ca.crt + ca.key) unless --new-ca.

Flags:
`

// certsOptions are the parsed flags of `stickyguard certs`.
type certsOptions struct {
	gen         certs.Options
	outDir      string
	force       bool
	newCA       bool
	caBundle    bool
	patch       []string
	output      string
	url         string
	renewBefore time.Duration
	check       bool
}

func runCerts(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	opts, err := parseCertsFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "stickyguard certs:", err)
		return 2
	}
	if err := opts.run(stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "stickyguard certs:", err)
		return 1
	}
	return 0
}

func parseCertsFlags(args []string, stderr io.Writer) (*certsOptions, error) {
	o := &certsOptions{gen: certs.DefaultOptions()}
	if len(args) > 0 && args[0] == "check" {
		o.check = true
		args = args[1:]
	}
	fs := flag.NewFlagSet("stickyguard certs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, certsUsage)
		fs.PrintDefaults()
	}
	hosts := strings.Join(o.gen.Hosts, ",")
	keyType := string(o.gen.KeyType)
	fs.StringVar(&o.outDir, "out-dir", "stickyguard-certs", "directory for tls.crt, tls.key, ca.crt and ca.key")
	fs.StringVar(&o.gen.Service, "service", o.gen.Service, "webhook Service name (DNS names <service>.<namespace>.svc[.cluster.local])")
	fs.StringVar(&o.gen.Namespace, "namespace", o.gen.Namespace, "webhook Service namespace")
	fs.StringVar(&hosts, "hosts", hosts, "extra comma-separated SANs (IP addresses or DNS names) for local use; empty for none")
	fs.StringVar(&keyType, "key-type", keyType, "private key type: ecdsa (P-256) or rsa (2048)")
	fs.DurationVar(&o.gen.CAValidity, "ca-validity", o.gen.CAValidity, "CA validity")
	fs.DurationVar(&o.gen.LeafValidity, "validity", o.gen.LeafValidity, "serving certificate validity")
	fs.BoolVar(&o.force, "force", false, "replace existing files (an existing valid CA is kept unless --new-ca)")
	fs.BoolVar(&o.newCA, "new-ca", false, "with --force: make a new CA too (the caBundle changes)")
	fs.BoolVar(&o.caBundle, "ca-bundle", false, "print the base64-encoded caBundle (ca.crt) to stdout")
	fs.Func("patch", "webhook configuration YAML `file` to patch with the caBundle (repeatable; more files may follow as arguments)", func(s string) error {
		o.patch = append(o.patch, s)
		return nil
	})
	fs.StringVar(&o.output, "o", "", "with --patch: write the patched YAML to this `file` instead of stdout")
	fs.StringVar(&o.output, "output", "", "same as -o")
	fs.StringVar(&o.url, "url", "", "with --patch: replace each clientConfig.service with url: `https://host:port` + its path (a webhook running outside the cluster)")
	fs.DurationVar(&o.renewBefore, "renew-before", 0, "renew the serving certificate (reusing the CA) when it expires within this window, e.g. 720h")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		if len(o.patch) == 0 {
			return nil, fmt.Errorf("unexpected arguments %q (see -h)", rest)
		}
		o.patch = append(o.patch, rest...)
	}
	o.gen.Hosts = splitList(hosts)
	o.gen.KeyType = certs.KeyType(strings.ToLower(keyType))
	if err := o.gen.Validate(); err != nil {
		return nil, err
	}
	switch {
	case o.outDir == "":
		return nil, errors.New("--out-dir must not be empty")
	case o.newCA && !o.force:
		return nil, errors.New("--new-ca needs --force")
	case (o.output != "" || o.url != "") && len(o.patch) == 0:
		return nil, errors.New("-o/--output and --url need --patch")
	case o.renewBefore < 0:
		return nil, errors.New("--renew-before must not be negative")
	case o.check && (o.force || o.caBundle || len(o.patch) > 0):
		return nil, errors.New("check only reports: it takes no --force, --ca-bundle or --patch")
	case o.renewBefore > 0 && o.force:
		return nil, errors.New("--renew-before and --force exclude each other")
	}
	if o.check && o.renewBefore == 0 {
		o.renewBefore = certs.DefaultRenewBefore
	}
	return o, nil
}

// parseInterspersed parses flags that may come after positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (o *certsOptions) run(stdout, stderr io.Writer) error {
	// Messages go to stderr whenever stdout carries data.
	info := stdout
	if o.caBundle || (len(o.patch) > 0 && o.output == "") {
		info = stderr
	}
	switch {
	case o.check:
		return o.runCheck(stdout)
	case o.renewBefore > 0:
		if err := o.runRenew(info); err != nil {
			return err
		}
	case o.force || !o.haveFiles() || (!o.caBundle && len(o.patch) == 0):
		res, err := certs.Generate(o.outDir, o.gen, certs.GenerateOptions{Force: o.force, NewCA: o.newCA})
		if err != nil {
			return err
		}
		printGenerated(info, o.outDir, res)
	}
	if o.caBundle {
		pemCA, err := certs.CABundle(o.outDir)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, base64.StdEncoding.EncodeToString(pemCA))
	}
	if len(o.patch) > 0 {
		return o.runPatch(stdout, info)
	}
	return nil
}

func (o *certsOptions) haveFiles() bool {
	_, err := certs.LoadLeaf(o.outDir)
	if err != nil {
		return false
	}
	_, err = certs.CABundle(o.outDir)
	return err == nil
}

func printGenerated(w io.Writer, dir string, res *certs.Result) {
	if res.CAReused {
		fmt.Fprintf(w, "kept the CA in %s (valid until %s)\n", dir, res.CA.Cert.NotAfter.UTC().Format(time.RFC3339))
	} else {
		fmt.Fprintf(w, "new CA %q valid until %s\n", res.CA.Cert.Subject.CommonName, res.CA.Cert.NotAfter.UTC().Format(time.RFC3339))
	}
	sans := append(append([]string{}, res.Leaf.Cert.DNSNames...), ipStrings(res.Leaf)...)
	fmt.Fprintf(w, "serving certificate valid until %s for %s\n", res.Leaf.Cert.NotAfter.UTC().Format(time.RFC3339), strings.Join(sans, ", "))
	fmt.Fprintf(w, "wrote %s\n", strings.Join(res.Files, ", "))
}

func ipStrings(kp *certs.KeyPair) []string {
	var out []string
	for _, ip := range kp.Cert.IPAddresses {
		out = append(out, ip.String())
	}
	return out
}

func printStatus(w io.Writer, dir string, st *certs.Status) {
	fmt.Fprintf(w, "%s: serving certificate valid until %s, CA valid until %s\n", dir,
		st.LeafNotAfter.UTC().Format(time.RFC3339), st.CANotAfter.UTC().Format(time.RFC3339))
	if st.NeedsRenewal {
		fmt.Fprintf(w, "renewal due: %s\n", st.Reason)
	}
	if st.CAExpiring {
		fmt.Fprintln(w, "the CA expires within the renewal window: make a new CA with --force --new-ca and update the caBundle")
	}
}

func (o *certsOptions) runCheck(w io.Writer) error {
	st, err := certs.Check(o.outDir, o.gen, o.renewBefore)
	if err != nil {
		return err
	}
	printStatus(w, o.outDir, st)
	if st.NeedsRenewal || st.CAExpiring {
		return errors.New("renewal due (run with --renew-before to renew)")
	}
	fmt.Fprintf(w, "ok: nothing expires within %s\n", o.renewBefore)
	return nil
}

func (o *certsOptions) runRenew(w io.Writer) error {
	if !o.haveFiles() {
		res, err := certs.Generate(o.outDir, o.gen, certs.GenerateOptions{})
		if err != nil {
			return err
		}
		printGenerated(w, o.outDir, res)
		return nil
	}
	st, renewed, err := certs.Renew(o.outDir, o.gen, o.renewBefore)
	if st != nil {
		printStatus(w, o.outDir, st)
	}
	if err != nil {
		return err
	}
	if !renewed {
		fmt.Fprintf(w, "nothing to do: the serving certificate is valid for more than %s\n", o.renewBefore)
		return nil
	}
	leaf, err := certs.LoadLeaf(o.outDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "renewed the serving certificate with the same CA: valid until %s\n", leaf.Cert.NotAfter.UTC().Format(time.RFC3339))
	return nil
}

func (o *certsOptions) runPatch(stdout, info io.Writer) error {
	caPEM, err := certs.CABundle(o.outDir)
	if err != nil {
		return err
	}
	var out []byte
	total := 0
	for i, path := range o.patch {
		in, err := readInput(path)
		if err != nil {
			return err
		}
		patched, n, err := certs.Patch(in, certs.PatchOptions{CABundle: caPEM, URL: o.url})
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if i > 0 {
			out = append(out, []byte("---\n")...)
		}
		out = append(out, patched...)
		total += n
	}
	if total == 0 {
		return fmt.Errorf("no webhooks found in %s", strings.Join(o.patch, ", "))
	}
	if o.output == "" {
		_, err = stdout.Write(out)
		return err
	}
	if err := os.WriteFile(o.output, out, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(info, "patched the caBundle of %d webhooks into %s\n", total, o.output)
	return nil
}

func readInput(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(path)
}
