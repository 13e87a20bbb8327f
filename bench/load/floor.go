package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	ctrlwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	crwadmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// The floor webhook runs as this program with these variables set.
const (
	envRole         = "SGLOAD_ROLE"
	envFloorAddr    = "SGLOAD_FLOOR_ADDR"
	envFloorCertDir = "SGLOAD_FLOOR_CERT_DIR"
)

// Floor paths, one per half like stickyguard's.
const (
	floorMutate   = "/mutate"
	floorValidate = "/validate"
)

// probeDenyPrefix: the floor denies objects with this name prefix, so the
// end-to-end mode can tell when the API server calls it. It is one string
// comparison; everything else is allowed.
const probeDenyPrefix = "probe-deny-"

// floorExecutable is the program to run as the floor: this binary (the
// load tool, or the test binary, whose TestMain dispatches the same way).
func floorExecutable() (string, error) { return os.Executable() }

// isFloor reports whether this process was started as the floor webhook.
func isFloor() bool { return os.Getenv(envRole) == "floor" }

// runFloor serves the minimal allow-all webhook: controller-runtime's
// webhook server and admission.Webhook, the same TLS settings as serve
// (TLS 1.2+, HTTP/1.1 only), a mutating and a validating path that allow
// everything without a patch. It is the floor of any webhook: TLS hop, JSON
// decode and encode of the review, nothing else.
func runFloor() int {
	ctrllog.SetLogger(logr.Discard())
	host, portStr, err := net.SplitHostPort(os.Getenv(envFloorAddr))
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		return 2
	}
	port, _ := strconv.Atoi(portStr)
	srv := ctrlwebhook.NewServer(ctrlwebhook.Options{
		Host: host, Port: port, CertDir: os.Getenv(envFloorCertDir),
		TLSOpts: []func(*tls.Config){func(c *tls.Config) {
			c.MinVersion = tls.VersionTLS12
			c.NextProtos = []string{"http/1.1"}
		}},
	})
	allow := crwadmission.HandlerFunc(func(_ context.Context, req crwadmission.Request) crwadmission.Response {
		if strings.HasPrefix(req.Name, probeDenyPrefix) {
			return crwadmission.Denied("floor: probe denied")
		}
		return crwadmission.Allowed("")
	})
	srv.Register(floorMutate, &crwadmission.Webhook{Handler: allow})
	srv.Register(floorValidate, &crwadmission.Webhook{Handler: allow})
	srv.Register("/healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		return 1
	}
	return 0
}
