package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/stickyguard/stickyguard/internal/sticky"
)

// Harness owns everything a mode starts: the control plane, serve, the
// floor webhook and their files. Close stops them all.
type Harness struct {
	Opts    *Options
	Dir     string
	Env     *envtest.Environment
	Config  *rest.Config
	Client  kubernetes.Interface
	CertDir string
	CA      []byte
	// CRDDirs are CRD files (or folders) installed with the control plane
	// (Gateway API's when a route class runs).
	CRDDirs []string

	gateway    *rest.RESTClient // gateway.networking.k8s.io/v1, JSON
	kubeconfig string
	procs      []*Proc
	warnings   warningCounter
}

// warningCounter counts the API server's warnings instead of logging each
// (client-go's default handler writes a log line per warning, which would
// bill the load generator for every default stickyguard reports).
type warningCounter struct{ n atomic.Int64 }

func (w *warningCounter) HandleWarningHeader(code int, _ string, _ string) {
	if code == 299 {
		w.n.Add(1)
	}
}

// Proc is a child process (serve or the floor webhook).
type Proc struct {
	Name string
	Cmd  *exec.Cmd
	Addr string // host:port of the TLS listener
	Log  string
	done chan struct{}
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.Cmd.Process.Pid }

// RSS reads VmRSS and VmHWM (peak) from /proc/<pid>/status, in KiB.
func (p *Proc) RSS() (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(fields[0], 10, 64)
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	return rss, hwm, sc.Err()
}

// NewHarness makes the work folder and the serving certificate (with
// `stickyguard certs`, for 127.0.0.1) that serve and the floor share.
func NewHarness(o *Options) (*Harness, error) {
	dir := o.WorkDir
	if dir == "" {
		d, err := os.MkdirTemp("", "stickyguard-load-")
		if err != nil {
			return nil, err
		}
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	h := &Harness{Opts: o, Dir: dir, CertDir: filepath.Join(dir, "certs")}
	out, err := exec.Command(o.Stickyguard, "certs", "--out-dir", h.CertDir, "--hosts", "127.0.0.1", "--force").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("stickyguard certs: %v: %s", err, out)
	}
	if h.CA, err = os.ReadFile(filepath.Join(h.CertDir, "ca.crt")); err != nil {
		return nil, err
	}
	return h, nil
}

// StartControlPlane starts etcd and kube-apiserver (envtest, binaries from
// the assets folder) on 127.0.0.1, with a service IP range big enough for
// the scale mode, installs the CRDs of CRDDirs (and waits until they are
// served), and writes a kubeconfig for serve.
func (h *Harness) StartControlPlane() error {
	h.Env = &envtest.Environment{BinaryAssetsDirectory: h.Opts.Assets}
	if len(h.CRDDirs) > 0 {
		h.Env.CRDInstallOptions = envtest.CRDInstallOptions{Paths: h.CRDDirs, ErrorIfPathMissing: true}
	}
	api := h.Env.ControlPlane.GetAPIServer()
	args := api.Configure()
	args.Set("service-cluster-ip-range", "10.96.0.0/12")
	args.Set("bind-address", "127.0.0.1")
	cfg, err := h.Env.Start()
	if err != nil {
		h.Env = nil
		return fmt.Errorf("starting kube-apiserver and etcd from %s: %w", h.Opts.Assets, err)
	}
	cfg.QPS, cfg.Burst = -1, 0 // no client-side rate limit: the load loops bound themselves
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.UserAgent = "stickyguard-load"
	cfg.WarningHandler = &h.warnings
	h.Config = cfg
	if h.Client, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	user, err := h.Env.ControlPlane.AddUser(envtest.User{Name: "stickyguard", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return err
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return err
	}
	h.kubeconfig = filepath.Join(h.Dir, "kubeconfig")
	return os.WriteFile(h.kubeconfig, kc, 0o600)
}

// Namespace creates a namespace with the stickyguard.io/mode label.
func (h *Harness) Namespace(ctx context.Context, name, mode string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if mode != "" {
		ns.Labels = map[string]string{sticky.LabelMode: mode}
	}
	_, err := h.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// freePort asks the kernel for a free port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StartServe runs `stickyguard serve` against the control plane with the
// shared certificate, and waits for /readyz (the cache has synced).
func (h *Harness) StartServe(ctx context.Context) (*Proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	health, err := freePort()
	if err != nil {
		return nil, err
	}
	metrics, err := freePort()
	if err != nil {
		return nil, err
	}
	p := &Proc{Name: "serve", Addr: fmt.Sprintf("127.0.0.1:%d", port), Log: filepath.Join(h.Dir, fmt.Sprintf("serve-%d.log", port))}
	p.Cmd = exec.Command(h.Opts.Stickyguard, "serve",
		"--bind-address", "127.0.0.1", "--port", strconv.Itoa(port), "--cert-dir", h.CertDir,
		"--kubeconfig", h.kubeconfig,
		"--metrics-bind-address", fmt.Sprintf("127.0.0.1:%d", metrics),
		"--health-probe-bind-address", fmt.Sprintf("127.0.0.1:%d", health),
		"--shutdown-delay", "0s")
	if err := h.start(p); err != nil {
		return nil, err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/readyz", health)
	if err := waitFor(ctx, 60*time.Second, p, func() error {
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz %d", resp.StatusCode)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("serve not ready (log %s): %w", p.Log, err)
	}
	return p, nil
}

// StartFloor runs this program again as the allow-all floor webhook.
func (h *Harness) StartFloor(ctx context.Context) (*Proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	self, err := floorExecutable()
	if err != nil {
		return nil, err
	}
	p := &Proc{Name: "floor", Addr: fmt.Sprintf("127.0.0.1:%d", port), Log: filepath.Join(h.Dir, fmt.Sprintf("floor-%d.log", port))}
	p.Cmd = exec.Command(self)
	p.Cmd.Env = append(os.Environ(), envRole+"=floor", envFloorAddr+"="+p.Addr, envFloorCertDir+"="+h.CertDir)
	if err := h.start(p); err != nil {
		return nil, err
	}
	client := h.HTTPClient(1)
	if err := waitFor(ctx, 30*time.Second, p, func() error {
		resp, err := client.Get("https://" + p.Addr + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}); err != nil {
		return nil, fmt.Errorf("floor webhook not serving (log %s): %w", p.Log, err)
	}
	return p, nil
}

func (h *Harness) start(p *Proc) error {
	logf, err := os.Create(p.Log)
	if err != nil {
		return err
	}
	p.Cmd.Stdout, p.Cmd.Stderr = logf, logf
	p.Cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.Cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting %s: %w", p.Name, err)
	}
	p.done = make(chan struct{})
	go func() {
		_ = p.Cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	h.procs = append(h.procs, p)
	return nil
}

// Stop ends a child: SIGTERM, then SIGKILL after 10 s.
func (p *Proc) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.Cmd.Process.Kill()
		<-p.done
	}
}

// waitFor retries check every 100 ms until it succeeds, the process exits,
// ctx ends or the timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, p *Proc, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited: %s", p.Name, tail(p.Log))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s: %w", timeout, err)
		}
	}
}

func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// HTTPClient is a TLS client trusting the shared CA, with a keep-alive
// connection per worker (as the API server keeps them to a webhook).
func (h *Harness) HTTPClient(conns int) *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(h.CA)
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12},
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
			ForceAttemptHTTP2:   false,
		},
	}
}

// Close stops the children and the control plane, and removes the work
// folder unless -keep.
func (h *Harness) Close() {
	for i := len(h.procs) - 1; i >= 0; i-- {
		h.procs[i].Stop()
	}
	if h.Env != nil {
		if err := h.Env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the control plane:", err)
		}
	}
	if !h.Opts.Keep && h.Opts.WorkDir == "" {
		_ = os.RemoveAll(h.Dir)
	}
}

// cpuTime is the user+system CPU time a process has used so far
// (/proc/<pid>/stat, clock ticks of 10 ms).
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may contain spaces; fields start after ") ".
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+2:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
