package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/stickyguard/stickyguard/hack/tools/helm/chart"
	authv1 "k8s.io/api/authentication/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"
)

// hookRunner runs one hook event's objects the way Helm and the kubelet
// would, except that a Job's containers run here as processes: every
// non-Job object is applied, then each Job's init containers and containers
// run in order, with their env, their command and args ($(VAR) expanded),
// each volume mount mapped to a local directory, and kubectl authenticated
// as the Job's ServiceAccount (a TokenRequest), so the hook RBAC is what is
// tested. Hook objects with hook-succeeded are deleted after the event.
// The webhook image's /stickyguard is the local binary; the hook image's
// /bin/bash is the local bash with kubectl from -kubectl-dir on PATH.
type hookRunner struct {
	kubeconfig  string
	kubectl     string
	stickyguard string
	work        string
	client      kubernetes.Interface
}

func runHooks(args []string) error {
	fs := flag.NewFlagSet("run-hooks", flag.ContinueOnError)
	file := fs.String("file", "", "the event's hooks, as written by render (e.g. DIR/pre-install.yaml)")
	r := &hookRunner{}
	fs.StringVar(&r.kubeconfig, "kubeconfig", os.Getenv("KUBECONFIG"), "admin kubeconfig of the cluster")
	kubectlDir := fs.String("kubectl-dir", "", "directory with the kubectl binary")
	fs.StringVar(&r.stickyguard, "stickyguard", "", "the stickyguard binary (the webhook image's /stickyguard)")
	fs.StringVar(&r.work, "work", "", "scratch directory for the Jobs' volumes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" || *kubectlDir == "" || r.stickyguard == "" || r.work == "" || r.kubeconfig == "" {
		return errors.New("-file, -kubeconfig, -kubectl-dir, -stickyguard and -work are required")
	}
	r.kubectl = filepath.Join(*kubectlDir, "kubectl")
	cfg, err := clientcmd.BuildConfigFromFlags("", r.kubeconfig)
	if err != nil {
		return err
	}
	if r.client, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	raw, err := os.ReadFile(*file)
	if err != nil {
		return err
	}
	objs, err := chart.ParseYAML(raw)
	if err != nil {
		return err
	}
	return r.run(objs)
}

func (r *hookRunner) run(objs []*unstructured.Unstructured) error {
	for _, o := range objs {
		if o.GetKind() != "Job" {
			if err := r.kubectlRun(o, "apply", "--server-side", "-f", "-"); err != nil {
				return err
			}
			continue
		}
		if err := r.runJob(o); err != nil {
			return fmt.Errorf("hook Job %s: %w", o.GetName(), err)
		}
	}
	for _, o := range objs {
		if o.GetKind() != "Job" && strings.Contains(o.GetAnnotations()["helm.sh/hook-delete-policy"], "hook-succeeded") {
			if err := r.kubectlRun(o, "delete", "--ignore-not-found", "-f", "-"); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *hookRunner) kubectlRun(o *unstructured.Unstructured, args ...string) error {
	doc, err := yaml.Marshal(o.Object)
	if err != nil {
		return err
	}
	cmd := exec.Command(r.kubectl, append([]string{"--kubeconfig", r.kubeconfig}, args...)...)
	cmd.Stdin = bytes.NewReader(doc)
	out, err := cmd.CombinedOutput()
	fmt.Printf("hook %s %s/%s: %s", args[0], o.GetKind(), o.GetName(), out)
	return err
}

func (r *hookRunner) runJob(o *unstructured.Unstructured) error {
	var job batchv1.Job
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &job); err != nil {
		return err
	}
	dir := filepath.Join(r.work, job.Name)
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	kubeconfig, err := r.serviceAccountKubeconfig(job.Namespace, job.Spec.Template.Spec.ServiceAccountName, dir)
	if err != nil {
		return err
	}
	pod := job.Spec.Template.Spec
	for _, c := range append(append([]corev1.Container{}, pod.InitContainers...), pod.Containers...) {
		if err := r.runContainer(c, dir, kubeconfig); err != nil {
			return fmt.Errorf("container %s: %w", c.Name, err)
		}
	}
	return nil
}

// serviceAccountKubeconfig writes a kubeconfig for the admin's cluster that
// authenticates with a short-lived token of the ServiceAccount.
func (r *hookRunner) serviceAccountKubeconfig(ns, sa, dir string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	exp := int64(600)
	tr, err := r.client.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa,
		&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("token for ServiceAccount %s/%s: %w", ns, sa, err)
	}
	admin, err := clientcmd.LoadFromFile(r.kubeconfig)
	if err != nil {
		return "", err
	}
	cluster := admin.Clusters[admin.Contexts[admin.CurrentContext].Cluster]
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["cluster"] = cluster
	cfg.AuthInfos["hook"] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	cfg.Contexts["hook"] = &clientcmdapi.Context{Cluster: "cluster", AuthInfo: "hook", Namespace: ns}
	cfg.CurrentContext = "hook"
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "kubeconfig")
	return path, clientcmd.WriteToFile(*cfg, path)
}

var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

func (r *hookRunner) runContainer(c corev1.Container, dir, kubeconfig string) error {
	local := func(s string) string { // a path inside a volume mount -> its local directory
		for _, m := range c.VolumeMounts {
			if s == m.MountPath || strings.HasPrefix(s, m.MountPath+"/") {
				return filepath.Join(dir, "volumes", m.Name) + strings.TrimPrefix(s, m.MountPath)
			}
		}
		return s
	}
	for _, m := range c.VolumeMounts {
		if err := os.MkdirAll(filepath.Join(dir, "volumes", m.Name), 0o700); err != nil {
			return err
		}
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = local(e.Value)
	}
	var argv []string
	for _, a := range append(append([]string{}, c.Command...), c.Args...) {
		// Map literal paths first, then expand $(VAR) with the mapped env.
		if i := strings.Index(a, "="); i > 0 && strings.HasPrefix(a, "--") {
			a = a[:i+1] + local(a[i+1:])
		}
		a = varRef.ReplaceAllStringFunc(a, func(ref string) string { return env[varRef.FindStringSubmatch(ref)[1]] })
		argv = append(argv, a)
	}
	switch argv[0] {
	case "/stickyguard":
		argv[0] = r.stickyguard
	case "/bin/bash":
		argv[0] = "bash"
	default:
		return fmt.Errorf("no local stand-in for %q", argv[0])
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "PATH="+filepath.Dir(r.kubectl)+":"+os.Getenv("PATH"))
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		fmt.Printf("  [%s] %s\n", c.Name, line)
	}
	return err
}
