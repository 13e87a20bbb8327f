package webhook

import (
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	toolscache "k8s.io/client-go/tools/cache"
)

// lastApplied is kubectl's copy of the whole object; no rule reads it.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// StripForCache is the cache's transform: it keeps in memory only what the
// rules read from cached objects, changing only the freshly decoded object
// the informer is about to store.
//
//   - Every kind: managedFields and kubectl's last-applied-configuration
//     annotation go (most of an object's bytes; no rule reads them).
//   - Services, Ingresses and Deployments: rules read them from the cache
//     only as the neighbours of an object under review, and never read a
//     neighbour's labels or status; those go. (Namespaces keep their
//     labels: the mode label is read from them.)
//   - GKE BackendConfigs: name, namespace and spec.sessionAffinity.
//   - Deployments: a cached Deployment is read only as the backend of a
//     Service under review (SVC-012, SVC-013): its name, replicas, selector,
//     pod template labels, nodeName, nodeSelector, affinity and topology
//     spread constraints stay; the annotations, containers, volumes, the
//     rest of the pod spec, the strategy and the status go. With thousands
//     of Deployments they are most of serve's memory.
//
// The object under review comes from the request, whole; the periodic audit
// reads the API server, not this cache. webhook/corpus checks that every
// rule's failing example gives the same findings with stripped context
// objects.
func StripForCache(in any) (any, error) {
	obj, err := meta.Accessor(in)
	if err != nil {
		return in, nil
	}
	if obj.GetManagedFields() != nil {
		obj.SetManagedFields(nil)
	}
	if a := obj.GetAnnotations(); a != nil {
		if _, ok := a[lastApplied]; ok {
			delete(a, lastApplied)
		}
	}
	switch o := in.(type) {
	case *corev1.Service:
		o.Labels = nil
		o.Status = corev1.ServiceStatus{}
	case *networkingv1.Ingress:
		o.Labels = nil
		o.Status = networkingv1.IngressStatus{}
	case *appsv1.Deployment:
		o.Labels = nil
		o.Annotations = nil
		slimDeployment(o)
	case *unstructured.Unstructured:
		if isBackendConfig(o) {
			slimBackendConfig(o)
		}
	}
	return in, nil
}

// slimDeployment keeps the parts of a Deployment's spec the rules read from
// the cache (see StripForCache).
func slimDeployment(d *appsv1.Deployment) {
	pod := &d.Spec.Template.Spec
	d.Spec.Template.Spec = corev1.PodSpec{
		NodeName:                  pod.NodeName,
		NodeSelector:              pod.NodeSelector,
		Affinity:                  pod.Affinity,
		TopologySpreadConstraints: pod.TopologySpreadConstraints,
	}
	d.Spec.Template.Annotations = nil
	d.Spec.Strategy = appsv1.DeploymentStrategy{}
	d.Status = appsv1.DeploymentStatus{}
}

// pairCounts counts, per namespace and label pair, the Deployments whose
// pod template carries the pair. A Deployment informer event handler keeps
// it current; DeploymentsSelectedBy reads it to start from the rarest pair
// of a selector (in a namespace of Helm charts every pod carries
// app.kubernetes.io/instance=<release>: starting there reads them all).
type pairCounts struct {
	mu sync.RWMutex
	n  map[string]int
}

func newPairCounts() *pairCounts { return &pairCounts{n: map[string]int{}} }

func (c *pairCounts) get(ns, pair string) int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.n[nsKey(ns, pair)]
}

func (c *pairCounts) add(d *appsv1.Deployment, delta int) {
	if d == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range d.Spec.Template.Labels {
		key := nsKey(d.Namespace, pair(k, v))
		if c.n[key] += delta; c.n[key] <= 0 {
			delete(c.n, key)
		}
	}
}

func asDeployment(o any) *appsv1.Deployment {
	if t, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
		o = t.Obj
	}
	d, _ := o.(*appsv1.Deployment)
	return d
}

// handler keeps the counts in step with the informer's store.
func (c *pairCounts) handler() toolscache.ResourceEventHandler {
	return toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(o any) { c.add(asDeployment(o), 1) },
		UpdateFunc: func(oldObj, newObj any) {
			old, cur := asDeployment(oldObj), asDeployment(newObj)
			if old != nil && cur != nil && sameLabels(old.Spec.Template.Labels, cur.Spec.Template.Labels) {
				return // status and replica changes: nothing to count
			}
			c.add(old, -1)
			c.add(cur, 1)
		},
		DeleteFunc: func(o any) { c.add(asDeployment(o), -1) },
	}
}

func sameLabels(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}
