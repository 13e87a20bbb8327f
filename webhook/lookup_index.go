package webhook

import (
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/stickyguard/stickyguard/engine"
)

// Indexes on the informers' stores. Every value is "<namespace>/<key>", so a
// lookup is one hit on one bucket of one namespace, never a scan.
const (
	// A Service under its whole selector, "k1=v1,k2=v2" (sorted): the
	// Services selecting some pods are found by exact selector.
	indexServiceSelector = "stickyguard.io/service-selector"
	// A Service under the keys of its selector, "k1,k2": which selector
	// shapes exist in a namespace (usually one or two).
	indexServiceSelectorKeys = "stickyguard.io/service-selector-keys"
	// A Deployment or StatefulSet under each "key=value" label of its pod
	// template (on each kind's own informer).
	indexPodTemplateLabels = "stickyguard.io/pod-template-label-pair"
	// An Ingress under each Service name it routes to.
	indexIngressBackendSvc = "stickyguard.io/ingress-backend-service"
	// An Ingress under each host of its HTTP rules ("" for none).
	indexIngressHost = "stickyguard.io/ingress-host"
)

func nsKey(ns, key string) string { return ns + "/" + key }

func pair(k, v string) string { return k + "=" + v }

// canonicalSelector is "k1=v1,k2=v2" with the keys sorted; keys is "k1,k2".
// Label keys and values cannot contain "," or "=", so both are unambiguous.
func canonicalSelector(sel map[string]string) (full, keys string) {
	ks := make([]string, 0, len(sel))
	for k := range sel {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	var b strings.Builder
	for i, k := range ks {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(sel[k])
	}
	return b.String(), strings.Join(ks, ",")
}

// indexers are stickyguard's indexes, per cached kind.
func serviceIndexers() toolscache.Indexers {
	return toolscache.Indexers{
		indexServiceSelector: func(o any) ([]string, error) {
			s, ok := o.(*corev1.Service)
			if !ok || len(s.Spec.Selector) == 0 {
				return nil, nil // selects nothing
			}
			full, _ := canonicalSelector(s.Spec.Selector)
			return []string{nsKey(s.Namespace, full)}, nil
		},
		indexServiceSelectorKeys: func(o any) ([]string, error) {
			s, ok := o.(*corev1.Service)
			if !ok || len(s.Spec.Selector) == 0 {
				return nil, nil
			}
			_, keys := canonicalSelector(s.Spec.Selector)
			return []string{nsKey(s.Namespace, keys)}, nil
		},
	}
}

// workloadIndexers index Deployments and StatefulSets by pod template label.
func workloadIndexers() toolscache.Indexers {
	return toolscache.Indexers{indexPodTemplateLabels: func(o any) ([]string, error) {
		ns, labels := podTemplateLabels(o)
		if len(labels) == 0 {
			return nil, nil
		}
		out := make([]string, 0, len(labels))
		for k, v := range labels {
			out = append(out, nsKey(ns, pair(k, v)))
		}
		return out, nil
	}}
}

// podTemplateLabels returns the namespace and pod template labels of a
// Deployment or StatefulSet (also inside a DeletedFinalStateUnknown); nil
// labels for anything else.
func podTemplateLabels(o any) (string, map[string]string) {
	if t, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
		o = t.Obj
	}
	switch w := o.(type) {
	case *appsv1.Deployment:
		return w.Namespace, w.Spec.Template.Labels
	case *appsv1.StatefulSet:
		return w.Namespace, w.Spec.Template.Labels
	}
	return "", nil
}

func ingressIndexers() toolscache.Indexers {
	by := func(keys func(*networkingv1.Ingress) []string) toolscache.IndexFunc {
		return func(o any) ([]string, error) {
			ing, ok := o.(*networkingv1.Ingress)
			if !ok {
				return nil, nil
			}
			names := keys(ing)
			out := make([]string, len(names))
			for i, n := range names {
				out[i] = nsKey(ing.Namespace, n)
			}
			return out, nil
		}
	}
	return toolscache.Indexers{
		indexIngressBackendSvc: by(engine.BackendServiceNames),
		indexIngressHost:       by(engine.IngressHosts),
	}
}
