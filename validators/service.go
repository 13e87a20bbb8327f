package validators

import (
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/mutators"
)

// Core Service rules (STICKY-FACTS A.1).
var (
	svc001 = &Rule{
		ID: "SVC-001", Severity: Deny, Kinds: []string{KindService}, Family: "Service",
		Title:  "a Service field (e.g. sessionAffinity) is written under spec.selector, so the Service selects no pods and affinity stays None",
		Fix:    "move the key out of spec.selector to spec.<key>",
		Source: "pkg/apis/core/validation ValidateService only runs ValidateLabels on spec.selector",
	}
	svc002 = &Rule{
		ID: "SVC-002", Severity: Warn, Kinds: []string{KindService}, Family: "Service",
		Title:  "a Service spec field is written as an annotation or label, where it has no effect",
		Fix:    "set it under spec instead (spec.sessionAffinity, spec.sessionAffinityConfig, spec.externalTrafficPolicy)",
		Source: "annotations and labels are free-form; no component reads these keys",
	}
	svc003 = &Rule{
		ID: "SVC-003", Severity: Warn, Kinds: []string{KindService}, Family: "Service",
		Title:  "ClientIP affinity on a headless or ExternalName Service has no effect (no virtual IP)",
		Fix:    "remove sessionAffinity, or give the Service a cluster IP",
		Source: "kubernetes website virtual-ips.md: kube-proxy only programs virtual IPs",
	}
	svc004 = &Rule{
		ID: "SVC-004", Severity: Warn, Kinds: []string{KindService}, Family: "Service",
		Title:  "ClientIP affinity on a NodePort/LoadBalancer Service with externalTrafficPolicy Cluster breaks when the load balancer spreads or SNATs clients",
		Fix:    "use externalTrafficPolicy: Local with at most one pod per node, or cookie affinity at L7",
		Source: "kube-proxy keeps affinity per node (iptables recent lists); kubernetes#55603, #13865",
	}
	svc005 = &Rule{
		ID: "SVC-005", Severity: Warn, Kinds: []string{KindService}, Family: "Service", Default: true,
		Title:  "source-IP stickiness at the load balancer needs externalTrafficPolicy Local (stickyguard sets it unless opted out)",
		Fix:    `set spec.externalTrafficPolicy: Local, or remove stickyguard.io/keep-traffic-policy: "true"`,
		Source: "Huawei CCE best practice 'Implementing Sticky Session Through Load Balancing'; STICKY-FACTS X-002",
	}
	svc006 = &Rule{
		ID: "SVC-006", Severity: Warn, Kinds: []string{KindService}, Family: "Service",
		Title:  "externalTrafficPolicy changed from Cluster to Local on an existing LoadBalancer Service; existing connections keep their old path (CCE does not clear conntrack)",
		Fix:    "recreate the Service, or drain clients after the change",
		Source: "CCE creating_a_loadbalancer_service.rst; nodeport.rst",
	}
	svc007 = &Rule{
		ID: "SVC-007", Severity: Warn, Kinds: []string{KindService}, Family: "Service",
		Title:  "ClientIP timeoutSeconds lies outside the policy's range; it is an idle timeout, not a rotation interval",
		Fix:    "choose a timeout within the policy's [min, max] (default min 60 s)",
		Source: "kube-proxy refreshes the affinity entry on every new connection; kubernetes#86522, website#37911",
	}
	svc008 = &Rule{
		ID: "SVC-008", Severity: Warn, Kinds: []string{KindService}, Family: "Service", Default: true,
		Title:  "ClientIP affinity without a timeout (or with the API default 10800) gets the policy's default timeout",
		Fix:    "set spec.sessionAffinityConfig.clientIP.timeoutSeconds explicitly",
		Source: "pkg/apis/core/v1/defaults.go SetDefaults_Service; DefaultClientIPServiceAffinitySeconds",
	}
	svc009 = &Rule{
		ID: "SVC-009", Severity: Warn, Kinds: []string{KindService}, Family: "Service",
		Title:  "ClientIP affinity on a multi-port Service is kept per port (iptables/nftables), so one client may reach different pods on different ports",
		Fix:    "split the ports into separate Services, or accept per-port stickiness",
		Source: "kubernetes#103000; nftables proxier 'endpoint affinity is recorded ... to a particular ServicePort'",
	}
	svc010 = &Rule{
		ID: "SVC-010", Severity: Warn, Kinds: []string{KindService}, Family: "Service",
		Title:  "Service ClientIP affinity is bypassed by an ingress controller that routes to pod endpoints directly",
		Fix:    "configure the ingress controller's cookie affinity instead",
		Source: "ingress-nginx annotations.md Service Upstream; contrib#829; ingress-gce#60",
	}
	svc011 = &Rule{
		ID: "SVC-011", Severity: Warn, Kinds: []string{KindService}, Family: "Service",
		Title:  "behind an L7 proxy using the Service IP, the client IP kube-proxy sees is the proxy pod's, so each proxy replica sticks to one pod",
		Fix:    "use the ingress controller's cookie affinity and drop service-upstream",
		Source: "kubernetes#12120 (thockin), kubernetes#43958",
	}
	svc012 = &Rule{
		ID: "SVC-012", Severity: Warn, Kinds: []string{KindService}, Family: "Service",
		Title:  "a Local (or LB-sticky) Service selects a multi-replica Deployment whose pods are not spread one per node",
		Fix:    "add pod anti-affinity or a topology spread constraint on kubernetes.io/hostname to the Deployment (stickyguard adds it on the Deployment's next write)",
		Source: "create-external-load-balancer.md 'Caveats and Limitations when preserving source IPs'; kubernetes#97147",
	}
	svc013 = &Rule{
		ID: "SVC-013", Severity: Warn, Kinds: []string{KindService}, Family: "Service",
		Title:  "a ClientIP timeout other than the default on a Service whose pods run on Windows, which does not support it",
		Fix:    "drop the custom timeout for Windows backends",
		Source: "kubernetes website virtual-ips.md, Session stickiness timeout note",
	}
)

var serviceRules = []*Rule{svc001, svc002, svc003, svc004, svc005, svc006, svc007, svc008, svc009, svc010, svc011, svc012, svc013}

// misplacedSelectorKeys are Service fields people type under spec.selector.
var misplacedSelectorKeys = map[string]bool{
	"sessionAffinity": true, "sessionAffinityConfig": true, "timeoutSeconds": true, "clientIP": true,
	"externalTrafficPolicy": true, "internalTrafficPolicy": true, "healthCheckNodePort": true,
}

// specFieldsAsMetadata are spec fields people type as annotations or labels
// (compared case-insensitively, ignoring any prefix/).
var specFieldsAsMetadata = map[string]string{
	"sessionaffinity": "sessionAffinity", "sessionaffinityconfig": "sessionAffinityConfig",
	"externaltrafficpolicy": "externalTrafficPolicy",
}

func validateServiceCore(svc, old *corev1.Service, ctx *Context) (field.ErrorList, Warnings) {
	var f findings
	spec := field.NewPath("spec")
	for _, k := range sortedKeys(svc.Spec.Selector) {
		if misplacedSelectorKeys[k] {
			f.invalid(svc001, spec.Child("selector").Key(k), svc.Spec.Selector[k],
				fmt.Sprintf("spec.selector.%s is a pod label selector, not the Service field; the Service selects no pods", k))
		}
	}
	checkSpecAsMetadata(&f, svc.Annotations, annPath)
	checkSpecAsMetadata(&f, svc.Labels, labelPath)

	clientIP := Affinity(svc) == corev1.ServiceAffinityClientIP
	external := svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer
	local := TrafficPolicy(svc) == corev1.ServiceExternalTrafficPolicyLocal
	aff := spec.Child("sessionAffinity")
	if clientIP && (svc.Spec.ClusterIP == corev1.ClusterIPNone || svc.Spec.Type == corev1.ServiceTypeExternalName) {
		f.warn(svc003, aff, nil, "")
	}
	why, needsLocal := NeedsLocal(svc, ctx.Policy)
	switch {
	case needsLocal && !local:
		f.warn(svc005, spec.Child("externalTrafficPolicy"), string(TrafficPolicy(svc)),
			why+" needs externalTrafficPolicy Local, which stickyguard did not set (opted out or disabled by policy)")
	case clientIP && external && !local:
		f.warn(svc004, spec.Child("externalTrafficPolicy"), string(TrafficPolicy(svc)), "")
	}
	if old != nil && svc.Spec.Type == corev1.ServiceTypeLoadBalancer && local &&
		TrafficPolicy(old) == corev1.ServiceExternalTrafficPolicyCluster {
		f.warn(svc006, spec.Child("externalTrafficPolicy"), "Local", "")
	}
	if clientIP {
		t := ClientIPTimeout(svc)
		tp := ctx.Policy.Service.ClientIPTimeout
		if t < tp.Min || t > tp.Max {
			f.warn(svc007, spec.Child("sessionAffinityConfig", "clientIP", "timeoutSeconds"), t,
				fmt.Sprintf("timeoutSeconds %d is outside the policy range [%d, %d]", t, tp.Min, tp.Max))
		}
		if len(svc.Spec.Ports) > 1 {
			f.warn(svc009, aff, nil, "")
		}
		checkIngressBypass(&f, svc, ctx.Related.Ingresses, aff)
		checkWindows(&f, svc, ctx.Related.Deployments)
	}
	checkBackendSpread(&f, svc, ctx)
	return f.result()
}

func checkSpecAsMetadata(f *findings, m map[string]string, path func(string) *field.Path) {
	for _, k := range sortedKeys(m) {
		bare := k
		if i := strings.LastIndexByte(k, '/'); i >= 0 {
			bare = k[i+1:]
		}
		if name, ok := specFieldsAsMetadata[strings.ToLower(bare)]; ok {
			f.warn(svc002, path(k), nil, fmt.Sprintf("%q is the spec field spec.%s, not metadata; it has no effect here", k, name))
		}
	}
}

// checkIngressBypass covers SVC-010 and SVC-011 for the Ingresses routing to
// a ClientIP Service.
func checkIngressBypass(f *findings, svc *corev1.Service, ings []RelatedIngress, aff *field.Path) {
	for _, ri := range ings {
		a := ri.Ingress.Annotations
		name := ri.Ingress.Name
		switch ri.Controller {
		case ControllerNginx:
			if strings.TrimSpace(a["nginx.ingress.kubernetes.io/service-upstream"]) == "true" {
				f.warn(svc011, aff, nil, fmt.Sprintf("Ingress %s uses service-upstream, so kube-proxy sees the ingress-nginx pod IP", name))
			} else {
				f.warn(svc010, aff, nil, fmt.Sprintf("Ingress %s (ingress-nginx) routes to pod endpoints; use nginx.ingress.kubernetes.io/affinity: cookie", name))
			}
		case ControllerTraefik, ControllerHAProxy, ControllerHAProxyTech:
			f.warn(svc010, aff, nil, fmt.Sprintf("Ingress %s (%s) routes to pod endpoints; use the controller's sticky cookie", name, ri.Controller))
		case ControllerGCE:
			if v, ok := svc.Annotations[annGKENEG]; ok && NEGIngress(v) {
				f.warn(svc010, aff, nil, fmt.Sprintf("Ingress %s (GKE, NEG) sends traffic to pods; use BackendConfig sessionAffinity", name))
			}
		case ControllerAWS:
			if strings.TrimSpace(a[annAWSALBTargetType]) == "ip" || strings.TrimSpace(svc.Annotations[annAWSALBTargetType]) == "ip" {
				f.warn(svc010, aff, nil, fmt.Sprintf("Ingress %s (ALB, target-type ip) sends traffic to pods; use ALB stickiness", name))
			}
		}
	}
}

func checkWindows(f *findings, svc *corev1.Service, deps []*appsv1.Deployment) {
	if ClientIPTimeout(svc) == 10800 {
		return
	}
	for _, d := range deps {
		if d.Spec.Template.Spec.NodeSelector[corev1.LabelOSStable] == "windows" {
			f.warn(svc013, field.NewPath("spec", "sessionAffinityConfig", "clientIP", "timeoutSeconds"), ClientIPTimeout(svc),
				fmt.Sprintf("Deployment %s runs on Windows nodes", d.Name))
			return
		}
	}
}

// checkBackendSpread is SVC-012: the Service needs one pod per node and some
// selected multi-replica Deployments do not spread.
func checkBackendSpread(f *findings, svc *corev1.Service, ctx *Context) {
	if !NeedsSpread(svc, ctx.Policy) {
		return
	}
	var names []string
	for _, d := range ctx.Related.Deployments {
		if replicas(d) > 1 && !mutators.SpreadsByHostname(&d.Spec.Template.Spec) {
			names = append(names, d.Name)
		}
	}
	if len(names) > 0 {
		sort.Strings(names)
		f.warn(svc012, field.NewPath("spec", "selector"), nil,
			"Deployments without hostname spread: "+strings.Join(names, ", "))
	}
}

func replicas(d *appsv1.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
