//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Env is how the suite reaches the cluster and the webhook. It is read from
// the environment the harness sets:
//
//	E2E_KUBECONFIG (or KUBECONFIG)  the cluster
//	E2E_KUBECTL                     kubectl (default bin/k8s/kubectl)
//	E2E_WEBHOOK_CTL                 script: stop | start | certs-rotate | policy FILE
//	E2E_WEBHOOK_ADDR, E2E_CERT_DIR  optional: where the webhook serves and its
//	                                tls.crt, to see the served certificate change
//	E2E_METRICS_URL                 optional: the webhook's /metrics
//	E2E_POLICY                      the policy the webhook starts with
//	                                (default manifests/base/policy.yaml)
//	E2E_GOLDEN                      optional: check output to compare with
//	                                (default testdata/golden/check-examples.json)
//	E2E_KEEP=1                      keep the test namespaces
type Env struct {
	Root        string
	Kubeconfig  string
	Kubectl     string
	WebhookCtl  string
	WebhookAddr string
	CertDir     string
	Policy      string
	Keep        bool
	Prefix      string // namespace prefix, unique per run
	Client      kubernetes.Interface
}

var env *Env

func TestMain(m *testing.M) {
	var err error
	env, err = loadEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func loadEnv() (*Env, error) {
	root, err := filepath.Abs("..")
	if err != nil {
		return nil, err
	}
	e := &Env{
		Root:        root,
		Kubeconfig:  firstNonEmpty(os.Getenv("E2E_KUBECONFIG"), os.Getenv("KUBECONFIG")),
		Kubectl:     firstNonEmpty(os.Getenv("E2E_KUBECTL"), filepath.Join(root, "bin", "k8s", "kubectl")),
		WebhookCtl:  os.Getenv("E2E_WEBHOOK_CTL"),
		WebhookAddr: os.Getenv("E2E_WEBHOOK_ADDR"),
		CertDir:     os.Getenv("E2E_CERT_DIR"),
		Policy:      firstNonEmpty(os.Getenv("E2E_POLICY"), filepath.Join(root, "manifests", "base", "policy.yaml")),
		Keep:        os.Getenv("E2E_KEEP") == "1",
	}
	if e.Kubeconfig == "" {
		return nil, fmt.Errorf("set E2E_KUBECONFIG (or KUBECONFIG) to the cluster to test; hack/e2e-local.sh and hack/e2e-kind.sh do")
	}
	if _, err := os.Stat(e.Kubectl); err != nil {
		return nil, fmt.Errorf("kubectl not found at %s (make tools-e2e, or set E2E_KUBECTL)", e.Kubectl)
	}
	if e.WebhookCtl == "" {
		return nil, fmt.Errorf("set E2E_WEBHOOK_CTL to the script that stops, starts, re-certifies and re-configures the webhook (hack/webhook-ctl.sh locally)")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", e.Kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 200, 400
	// Admission warnings are read from kubectl's output; the client used
	// for load loops stays quiet.
	cfg.WarningHandler = rest.NoWarnings{}
	if e.Client, err = kubernetes.NewForConfig(cfg); err != nil {
		return nil, err
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	e.Prefix = "e2e-" + hex.EncodeToString(b)
	return e, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// result is one kubectl run.
type result struct {
	Stdout, Stderr string
	Err            error
}

// Warnings returns the "Warning: ..." lines kubectl printed, without the prefix.
func (r result) Warnings() []string {
	var out []string
	for _, line := range strings.Split(r.Stderr, "\n") {
		if w, ok := strings.CutPrefix(line, "Warning: "); ok {
			out = append(out, w)
		}
	}
	return out
}

func (r result) String() string {
	return fmt.Sprintf("err=%v\nstdout:\n%s\nstderr:\n%s", r.Err, r.Stdout, r.Stderr)
}

// kubectl runs bin/k8s/kubectl against the cluster with stdin.
func kubectl(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, env.Kubectl, append([]string{"--kubeconfig", env.Kubeconfig}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return result{Stdout: stdout.String(), Stderr: stderr.String(), Err: err}
}

// mustKubectl fails the test when kubectl fails.
func mustKubectl(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	r := kubectl(t, stdin, args...)
	require.NoError(t, r.Err, "kubectl %s\n%s", strings.Join(args, " "), r)
	return r
}

// getJSON reads one object as generic JSON.
func getJSON(t *testing.T, ns, kind, name string) map[string]any {
	t.Helper()
	r := mustKubectl(t, nil, "-n", ns, "get", kind, name, "-o", "json")
	var obj map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &obj))
	return obj
}

// ctl runs the webhook control script.
func ctl(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, env.WebhookCtl, args...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", env.WebhookCtl, strings.Join(args, " "), out)
	t.Logf("%s %s: ok", filepath.Base(env.WebhookCtl), strings.Join(args, " "))
}

// Namespace modes.
const (
	enforce = "enforce"
	audit   = "audit"
	off     = "" // not labelled
)

// namespace creates <prefix>-<suffix> with the mode label (none for off)
// and deletes it when the test ends, unless E2E_KEEP=1.
func namespace(t *testing.T, suffix, mode string) string {
	t.Helper()
	name := env.Prefix + "-" + suffix
	doc := fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n  labels:\n    e2e.stickyguard.io/run: %s\n", name, env.Prefix)
	if mode != off {
		doc += fmt.Sprintf("    stickyguard.io/mode: %s\n", mode)
	}
	mustKubectl(t, []byte(doc), "apply", "-f", "-")
	if !env.Keep {
		t.Cleanup(func() { kubectl(t, nil, "delete", "namespace", name, "--wait=false") })
	}
	// Pods need the namespace's default ServiceAccount.
	eventually(t, 60*time.Second, "default ServiceAccount in "+name, func() error {
		return kubectl(t, nil, "-n", name, "get", "serviceaccount", "default").Err
	})
	return name
}

// eventually retries f every 250 ms until it returns nil or the timeout
// passes, then fails with f's last error.
func eventually(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for {
		if err = f(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s: %v", timeout, what, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
