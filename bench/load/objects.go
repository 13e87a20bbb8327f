package main

import (
	"bytes"
	"encoding/json"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// Objects the loads send. "Sticky" objects have something stickyguard
// judges or fills; "plain" ones have nothing sticky-related (most of a
// namespace). All of them are admitted in enforce mode, except the broken
// Ingress of the direct mix.

const (
	annNginx = "nginx.ingress.kubernetes.io/"
	annACK   = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-persistence-timeout"
)

func meta(name string, labels, ann map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Labels: labels, Annotations: ann}
}

func helmLabels(app string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":       app,
		"app.kubernetes.io/instance":   "shop",
		"app.kubernetes.io/managed-by": "Helm",
		"helm.sh/chart":                "shop-1.4.2",
	}
}

func helmAnnotations() map[string]string {
	return map[string]string{"meta.helm.sh/release-name": "shop", "meta.helm.sh/release-namespace": "shop"}
}

func selector(app string) map[string]string {
	return map[string]string{"app.kubernetes.io/name": app, "app.kubernetes.io/instance": "shop"}
}

func httpPorts() []corev1.ServicePort {
	return []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}}
}

// plainService is a ClusterIP Service as Helm charts write them.
func plainService(name, app string) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta(name, helmLabels(app), helmAnnotations()),
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Selector: selector(app), Ports: httpPorts()},
	}
}

// stickyServices are valid sticky Services: ClientIP LoadBalancer (warned
// by SVC-004, nothing filled: plain ClientIP does not need Local), ClientIP
// ClusterIP with a timeout, and an ACK source-IP persistence LoadBalancer
// (gets externalTrafficPolicy Local).
func stickyServices(name, app string) []*corev1.Service {
	clientIPLB := plainService(name, app)
	clientIPLB.Spec.Type = corev1.ServiceTypeLoadBalancer
	clientIPLB.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
	clientIPLB.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To[int32](3600)}}

	clientIP := plainService(name, app)
	clientIP.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
	clientIP.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To[int32](1800)}}

	ack := plainService(name, app)
	ack.Spec.Type = corev1.ServiceTypeLoadBalancer
	ack.Annotations = map[string]string{annACK: "1800", "meta.helm.sh/release-name": "shop"}
	return []*corev1.Service{clientIPLB, clientIP, ack}
}

// ingress is an ingress-nginx Ingress; cookie adds cookie affinity.
func ingress(name, backend string, cookie bool) *networkingv1.Ingress {
	pt := networkingv1.PathTypePrefix
	ann := map[string]string{"cert-manager.io/cluster-issuer": "letsencrypt"}
	if cookie {
		ann[annNginx+"affinity"] = "cookie"
		ann[annNginx+"affinity-mode"] = "persistent"
		ann[annNginx+"session-cookie-name"] = "route"
		ann[annNginx+"session-cookie-max-age"] = "172800"
	}
	return &networkingv1.Ingress{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: meta(name, helmLabels(backend), ann),
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr.To("nginx"),
			TLS:              []networkingv1.IngressTLS{{Hosts: []string{name + ".shop.example.com"}, SecretName: name + "-tls"}},
			Rules: []networkingv1.IngressRule{{Host: name + ".shop.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &pt, Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{Name: backend, Port: networkingv1.ServiceBackendPort{Name: "http"}}}}},
			}}}},
		},
	}
}

// deployment is a typical Helm Deployment (one container with ports,
// resources, env and probes) whose pods carry labels(app).
func deployment(name, app string) *appsv1.Deployment {
	labels := helmLabels(app)
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: meta(name, labels, helmAnnotations()),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: selector(app)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{"prometheus.io/scrape": "true"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "registry.example.com/shop/" + app + ":1.4.2",
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
					Env:   []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "info"}, {Name: "PORT", Value: "8080"}},
					Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
						Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
					},
					ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}}},
				}}},
			},
		},
	}
}

// uidPlaceholder is replaced in a marshalled review by each request's UID
// (same length), so a body is built once and reused.
const uidPlaceholder = "00000000-0000-0000-0000-000000000000"

// review is one marshalled AdmissionReview with the offset of its UID.
type review struct {
	Body   []byte
	uidOff int
}

// newReview builds a CREATE review of obj in namespace ns.
func newReview(ns string, obj runtime.Object, gvr metav1.GroupVersionResource) (review, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return review{}, err
	}
	m, _ := obj.(metav1.Object)
	gvk := obj.GetObjectKind().GroupVersionKind()
	ar := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       types.UID(uidPlaceholder),
			Kind:      metav1.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind},
			Resource:  gvr,
			Name:      m.GetName(),
			Namespace: ns,
			Operation: admissionv1.Create,
			UserInfo:  authnUser(),
			Object:    runtime.RawExtension{Raw: raw},
			DryRun:    ptr.To(false),
			Options:   runtime.RawExtension{Raw: []byte(`{"kind":"CreateOptions","apiVersion":"meta.k8s.io/v1","fieldManager":"helm"}`)},
		},
	}
	body, err := json.Marshal(ar)
	if err != nil {
		return review{}, err
	}
	off := bytes.Index(body, []byte(uidPlaceholder))
	if off < 0 {
		return review{}, fmt.Errorf("no UID in the review")
	}
	return review{Body: body, uidOff: off}, nil
}

// withUID writes the UID for request i of worker w into buf (a copy of the
// body) and returns it.
func (r review) withUID(buf []byte, w, i int) ([]byte, string) {
	buf = append(buf[:0], r.Body...)
	uid := fmt.Sprintf("%08x-0000-4000-8000-%012x", w, i)
	copy(buf[r.uidOff:], uid)
	return buf, uid
}

var (
	gvrServices    = metav1.GroupVersionResource{Version: "v1", Resource: "services"}
	gvrIngresses   = metav1.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}
	gvrDeployments = metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
)

// authnUser is who the reviews say sent the write (a GitOps controller).
func authnUser() authenticationv1.UserInfo {
	return authenticationv1.UserInfo{
		Username: "system:serviceaccount:argocd:argocd-application-controller",
		UID:      "5d0a3c6e-3f0b-4b8e-9a57-0d7a3c1f7a21",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:argocd", "system:authenticated"},
	}
}
