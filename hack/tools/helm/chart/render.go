package chart

import (
	"fmt"
	"sort"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	release "helm.sh/helm/v4/pkg/release/v1"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// Default release name and namespace: the names manifests/ uses.
const (
	DefaultRelease   = "stickyguard"
	DefaultNamespace = "stickyguard-system"
)

// Options says how to render the chart, as `helm template` or the first
// step of `helm install` / `helm upgrade` would.
type Options struct {
	ChartDir  string
	Release   string         // default DefaultRelease
	Namespace string         // default DefaultNamespace
	Values    map[string]any // user values, merged over values.yaml
	Upgrade   bool           // .Release.IsUpgrade instead of IsInstall
	// Lookup answers the templates' lookup calls; nil finds nothing (as
	// `helm template` without a cluster).
	Lookup engine.ClientProvider
	// Cluster, when set, answers the lookups from a real API server.
	Cluster *rest.Config
}

// Hook is one hook object with the events it runs on and its weight.
type Hook struct {
	Object *unstructured.Unstructured
	Events []string
	Weight int
	// DeleteSucceeded: helm deletes it after its phase succeeded.
	DeleteSucceeded bool
}

// Result is a rendered chart.
type Result struct {
	// Objects are the release's objects (no hooks) in Helm's install order.
	Objects []*unstructured.Unstructured
	// Hooks are sorted by weight, then by Helm's install order of kinds.
	Hooks []Hook
}

// Load reads the chart directory.
func Load(dir string) (*chartv2.Chart, error) {
	return loader.Load(dir)
}

// Render loads and renders the chart: values are validated against
// values.schema.json, templates are rendered by Helm's engine (strict about
// missing values unless a Lookup is given), and the output is split into
// release objects and hooks the way helm install does.
func Render(o Options) (*Result, error) {
	ch, err := Load(o.ChartDir)
	if err != nil {
		return nil, err
	}
	return RenderChart(ch, o)
}

// RenderChart renders an already loaded chart (see Render).
func RenderChart(ch *chartv2.Chart, o Options) (*Result, error) {
	if o.Release == "" {
		o.Release = DefaultRelease
	}
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	opts := common.ReleaseOptions{Name: o.Release, Namespace: o.Namespace, Revision: 1, IsInstall: !o.Upgrade, IsUpgrade: o.Upgrade}
	vals, err := util.ToRenderValues(ch, o.Values, opts, nil)
	if err != nil {
		return nil, err
	}
	var files map[string]string
	switch {
	case o.Cluster != nil:
		files, err = engine.New(o.Cluster).Render(ch, vals)
	case o.Lookup != nil:
		files, err = engine.RenderWithClientProvider(ch, vals, o.Lookup)
	default:
		files, err = engine.Engine{Strict: true}.Render(ch, vals)
	}
	if err != nil {
		return nil, err
	}
	for name := range files {
		if strings.HasSuffix(name, "NOTES.txt") {
			delete(files, name)
		}
	}
	hooks, manifests, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
	if err != nil {
		return nil, err
	}
	return split(hooks, manifests)
}

func split(hooks []*release.Hook, manifests []releaseutil.Manifest) (*Result, error) {
	res := &Result{}
	for _, m := range manifests {
		u, err := parse(m.Name, m.Content)
		if err != nil {
			return nil, err
		}
		res.Objects = append(res.Objects, u)
	}
	sort.SliceStable(hooks, func(i, j int) bool { return hooks[i].Weight < hooks[j].Weight })
	for _, h := range hooks {
		u, err := parse(h.Path, h.Manifest)
		if err != nil {
			return nil, err
		}
		hk := Hook{Object: u, Weight: h.Weight}
		for _, e := range h.Events {
			hk.Events = append(hk.Events, e.String())
		}
		for _, p := range h.DeletePolicies {
			if p == release.HookSucceeded {
				hk.DeleteSucceeded = true
			}
		}
		res.Hooks = append(res.Hooks, hk)
	}
	return res, nil
}

func parse(source, content string) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(content), &u.Object); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if u.GetKind() == "" || u.GetAPIVersion() == "" {
		return nil, fmt.Errorf("%s: an object without apiVersion or kind:\n%s", source, content)
	}
	return u, nil
}

// HooksFor returns the hooks that run on event, in execution order.
func (r *Result) HooksFor(event string) []Hook {
	var out []Hook
	for _, h := range r.Hooks {
		for _, e := range h.Events {
			if e == event {
				out = append(out, h)
				break
			}
		}
	}
	return out
}

// Find returns the release object of kind and name, or nil.
func (r *Result) Find(kind, name string) *unstructured.Unstructured {
	for _, o := range r.Objects {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

// FindHook returns the hook object of kind and name, or nil.
func (r *Result) FindHook(kind, name string) *unstructured.Unstructured {
	for _, h := range r.Hooks {
		if h.Object.GetKind() == kind && h.Object.GetName() == name {
			return h.Object
		}
	}
	return nil
}

// Kinds lists "Kind/name" of the release objects.
func (r *Result) Kinds() []string {
	var out []string
	for _, o := range r.Objects {
		out = append(out, o.GetKind()+"/"+o.GetName())
	}
	return out
}
