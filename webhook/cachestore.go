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
//   - Services, Ingresses, Deployments and StatefulSets: rules read them
//     from the cache only as the neighbours of an object under review, and
//     never read a neighbour's labels or status; those go. (Namespaces keep
//     their labels: the mode label is read from them.)
//   - GKE BackendConfigs: name, namespace and spec.sessionAffinity.
//   - Deployments and StatefulSets: a cached one is read only as the backend
//     of a Service under review (SVC-012, SVC-013): its name, replicas,
//     selector, pod template labels, nodeName, nodeSelector, affinity and
//     topology spread constraints stay; the annotations, containers,
//     volumes (and volume claim templates), the rest of the pod spec, the
//     strategy and the status go. With thousands of Deployments they are
//     most of serve's memory.
//
// The Gateway API and mesh custom resources are not stored through this
// transform: their informers (GatewayCache) keep the apis types, which hold
// only what the rules read (toCachedObject).
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
	case *appsv1.StatefulSet:
		o.Labels = nil
		o.Annotations = nil
		slimStatefulSet(o)
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
	d.Spec.Template.Spec = slimPodSpec(&d.Spec.Template.Spec)
	d.Spec.Template.Annotations = nil
	d.Spec.Strategy = appsv1.DeploymentStrategy{}
	d.Status = appsv1.DeploymentStatus{}
}

// slimStatefulSet keeps the parts of a StatefulSet's spec the rules read
// from the cache, like slimDeployment; the volume claim templates, the
// update strategy and the status go.
func slimStatefulSet(s *appsv1.StatefulSet) {
	s.Spec.Template.Spec = slimPodSpec(&s.Spec.Template.Spec)
	s.Spec.Template.Annotations = nil
	s.Spec.VolumeClaimTemplates = nil
	s.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{}
	s.Status = appsv1.StatefulSetStatus{}
}

// slimPodSpec is the part of a pod spec the workload rules read.
func slimPodSpec(pod *corev1.PodSpec) corev1.PodSpec {
	return corev1.PodSpec{
		NodeName:                  pod.NodeName,
		NodeSelector:              pod.NodeSelector,
		Affinity:                  pod.Affinity,
		TopologySpreadConstraints: pod.TopologySpreadConstraints,
	}
}

// pairCounts counts, per namespace and label pair, the workloads of one
// kind (Deployments, or StatefulSets) whose pod template carries the pair.
// An event handler on that kind's informer keeps it current;
// DeploymentsSelectedBy and StatefulSetsSelectedBy read it to start from the
// rarest pair of a selector (in a namespace of Helm charts every pod carries
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

// add counts the pod template labels of a Deployment or StatefulSet.
func (c *pairCounts) add(o any, delta int) {
	ns, labels := podTemplateLabels(o)
	if len(labels) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range labels {
		key := nsKey(ns, pair(k, v))
		if c.n[key] += delta; c.n[key] <= 0 {
			delete(c.n, key)
		}
	}
}

// handler keeps the counts in step with the informer's store.
func (c *pairCounts) handler() toolscache.ResourceEventHandler {
	return toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(o any) { c.add(o, 1) },
		UpdateFunc: func(oldObj, newObj any) {
			_, old := podTemplateLabels(oldObj)
			_, cur := podTemplateLabels(newObj)
			if sameLabels(old, cur) {
				return // status and replica changes: nothing to count
			}
			c.add(oldObj, -1)
			c.add(newObj, 1)
		},
		DeleteFunc: func(o any) { c.add(o, -1) },
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
