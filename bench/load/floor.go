package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"gomodules.xyz/jsonpatch/v2"
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
	floorMutate      = "/mutate"
	floorMutatePatch = "/mutate-patch"
	floorValidate    = "/validate"
)

// probeDenyPrefix: the floor denies objects with this name prefix, so the
// end-to-end mode can tell when the API server calls it. It is one string
// comparison; everything else is allowed.
const probeDenyPrefix = "probe-deny-"

// patchLikeStickyguard is the floor's mutating path of the floor-patch
// configuration: it sets the one default stickyguard sets on the load's
// sticky Services (externalTrafficPolicy Local on a LoadBalancer or
// NodePort Service with an ACK persistence timeout),
// with a one-line warning, and nothing else. It reads only those fields.
// Measured next to the floor it is the API server's own price of any
// webhook patch (re-encode, JSON patch, decode, compare, managed fields, a
// second mutating pass), which the plain floor never pays.
func patchLikeStickyguard(_ context.Context, req crwadmission.Request) crwadmission.Response {
	if strings.HasPrefix(req.Name, probeDenyPrefix) {
		return crwadmission.Denied("floor: probe denied")
	}
	var svc struct {
		Metadata struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
		Spec struct {
			Type                  string `json:"type"`
			ExternalTrafficPolicy string `json:"externalTrafficPolicy"`
		} `json:"spec"`
	}
	if req.Kind.Kind != "Service" || json.Unmarshal(req.Object.Raw, &svc) != nil {
		return crwadmission.Allowed("")
	}
	_, ack := svc.Metadata.Annotations[annACK]
	if (svc.Spec.Type == "LoadBalancer" || svc.Spec.Type == "NodePort") && svc.Spec.ExternalTrafficPolicy != "Local" &&
		ack {
		return crwadmission.Patched("", jsonpatch.NewOperation("replace", "/spec/externalTrafficPolicy", "Local")).
			WithWarnings("floor-patch: set spec.externalTrafficPolicy=Local")
	}
	return crwadmission.Allowed("")
}

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
	srv.Register(floorMutatePatch, &crwadmission.Webhook{Handler: crwadmission.HandlerFunc(patchLikeStickyguard)})
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
