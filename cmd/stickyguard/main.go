// Command stickyguard is the sticky-session admission webhook and its tools.
//
//	stickyguard serve   run the admission webhook
//	stickyguard check   check manifests offline (CI)
//	stickyguard audit   check what is running in a cluster
//	stickyguard certs   make certificates for installs without cert-manager
//	stickyguard migrate carry ingress-nginx sticky sessions to another target
//
// main only parses the subcommand; each subcommand parses its flags into
// options and calls into the packages that do the work. No rules live here.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
)

// command is one subcommand: it gets its arguments and the process's
// standard streams, and returns the exit status.
type command struct {
	summary string
	run     func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

func commands() map[string]command {
	return map[string]command{
		"serve":   {"run the admission webhook server", runServe},
		"check":   {"check manifests offline: what enforce mode would deny, warn and set", runCheck},
		"audit":   {"check the objects already in a cluster, optionally writing PolicyReports", runAudit},
		"certs":   {"generate a CA and serving certificate for the webhook", runCerts},
		"rules":   {"print the rule catalog (markdown)", runRules},
		"migrate": {"carry ingress-nginx sticky sessions to Gateway API, Envoy Gateway, Istio, GKE or Traefik", runMigrate},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(stdout, "stickyguard", version)
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "stickyguard: unknown command %q\n\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	return c.run(args[1:], stdin, stdout, stderr)
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: stickyguard <command> [flags]")
	fmt.Fprintln(w)
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-7s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'stickyguard <command> -h' for the flags of a command.")
}
