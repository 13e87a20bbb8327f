// Command chart renders charts/stickyguard with Helm's library and runs its
// hooks outside a cluster's nodes, for the chart e2e and by hand:
//
//	chart docs [-chart DIR]                         print the chart README (make chart-docs)
//	chart render -out-dir DIR [flags]               write DIR/manifests.yaml and DIR/<hook event>.yaml
//	chart run-hooks -file DIR/pre-install.yaml ...  run one event's hooks (see hooks.go)
//
// Run it from hack/tools/helm (go run ./cmd/chart) or build it once.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/stickyguard/stickyguard/hack/tools/helm/chart"
	"helm.sh/helm/v4/pkg/strvals"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: chart docs|render|run-hooks [flags] (-h for each)")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "docs":
		err = runDocs(os.Args[2:])
	case "render":
		err = runRender(os.Args[2:])
	case "run-hooks":
		err = runHooks(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
}

// defaultChartDir finds charts/stickyguard above the working directory.
func defaultChartDir() string {
	root, err := chart.RepoRoot(".")
	if err != nil {
		return "charts/stickyguard"
	}
	return filepath.Join(root, "charts", "stickyguard")
}

func runDocs(args []string) error {
	fs := flag.NewFlagSet("docs", flag.ContinueOnError)
	dir := fs.String("chart", defaultChartDir(), "chart directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	out, err := chart.GenerateREADME(*dir)
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(out)
	return err
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func runRender(args []string) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	o := chart.Options{}
	var sets, files listFlag
	fs.StringVar(&o.ChartDir, "chart", defaultChartDir(), "chart directory")
	fs.StringVar(&o.Release, "release", chart.DefaultRelease, "release name")
	fs.StringVar(&o.Namespace, "namespace", chart.DefaultNamespace, "release namespace")
	fs.BoolVar(&o.Upgrade, "upgrade", false, "render as helm upgrade does (.Release.IsUpgrade)")
	fs.Var(&sets, "set", "a value, key=value as helm --set (repeatable)")
	fs.Var(&files, "f", "a values file (repeatable)")
	kubeconfig := fs.String("kubeconfig", "", "answer the templates' lookups from this cluster (default: find nothing, as helm template)")
	outDir := fs.String("out-dir", "", "directory for manifests.yaml and one <event>.yaml per hook event")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *outDir == "" {
		return errors.New("-out-dir is required")
	}
	vals, err := userValues(files, sets)
	if err != nil {
		return err
	}
	o.Values = vals
	if *kubeconfig != "" {
		if o.Cluster, err = clientcmd.BuildConfigFromFlags("", *kubeconfig); err != nil {
			return err
		}
	}
	res, err := chart.Render(o)
	if err != nil {
		return err
	}
	return writeRendered(res, *outDir)
}

// userValues merges values files, then --set values, as helm does.
func userValues(files, sets []string) (map[string]any, error) {
	vals := map[string]any{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := yaml.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		vals = merge(vals, m)
	}
	for _, s := range sets {
		if err := strvals.ParseInto(s, vals); err != nil {
			return nil, fmt.Errorf("--set %s: %w", s, err)
		}
	}
	return vals, nil
}

func merge(dst, src map[string]any) map[string]any {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				dst[k] = merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}

func writeRendered(res *chart.Result, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeObjects(filepath.Join(dir, "manifests.yaml"), res.Objects); err != nil {
		return err
	}
	byEvent := map[string][]*unstructured.Unstructured{}
	for _, h := range res.Hooks {
		for _, e := range h.Events {
			byEvent[e] = append(byEvent[e], h.Object)
		}
	}
	for e, objs := range byEvent {
		if err := writeObjects(filepath.Join(dir, e+".yaml"), objs); err != nil {
			return err
		}
	}
	return nil
}

func writeObjects(path string, objs []*unstructured.Unstructured) error {
	var b strings.Builder
	for _, o := range objs {
		out, err := yaml.Marshal(o.Object)
		if err != nil {
			return err
		}
		b.WriteString("---\n")
		b.Write(out)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
