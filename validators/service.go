package validators

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/internal/sticky"
	"github.com/stickyguard/stickyguard/policy"
)

// Core Service rules (STICKY-FACTS A.1).
var (
	svc001 = &Rule{
		ID: "SVC-001", Severity: Deny, Kinds: []string{KindService}, Family: "Service",
		Title:  "a Service field (e.g. sessionAffinity) is written under spec.selector, so the Service selects no pods and affinity stays None",
		Fix:    "move it from spec.selector to that Service field",
		Source: "pkg/apis/core/validation ValidateService only runs ValidateLabels on spec.selector",
	}
	svc002 = &Rule{
		ID: "SVC-002", Severity: Warn, Kinds: []string{KindService}, Family: "Service",
		Title:  "a Service spec field is written as an annotation or label, where it has no effect",
		Fix:    "set the field under spec instead",
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
		Title: "ClientIP affinity on a NodePort/LoadBalancer Service holds only if the load balancer keeps each client on one node",
		Fix:   "use a load balancer that keeps each client on one node, or L7 cookie affinity",
		Explain: "kube-proxy keeps ClientIP affinity per node, keyed on the client IP that node sees before any SNAT. If the load " +
			"balancer keeps a client on one node (Azure maps ClientIP to loadDistribution SourceIP, GCE passthrough to CLIENT_IP), " +
			"stickiness holds with externalTrafficPolicy Cluster; if it spreads one client over nodes or SNATs (proxy LBs, F5 SNAT), " +
			"it breaks or collapses onto one pod, and Local does not help (each node pins its own pod). So stickyguard does not set " +
			"Local for plain ClientIP; it does where the load balancer's own stickiness pins nodes (SVC-005).",
		Source: "kube-proxy keeps affinity per node (iptables recent lists); kubernetes#55603, #13865; STICKY-FACTS Corrections 2026-11-28",
	}
	svc005 = &Rule{
		ID: "SVC-005", Severity: Warn, Kinds: []string{KindService}, Family: "Service", Default: true,
		Title: "the load balancer's own stickiness pins clients to nodes, which needs externalTrafficPolicy Local (stickyguard sets it)",
		Fix:   "set externalTrafficPolicy: Local and run one pod per node",
		Explain: "Node-level stickiness (X-002): ACK CLB persistence-timeout > 0 on TCP listeners or sticky-session on on HTTP " +
			"listeners, AWS NLB source_ip stickiness on instance targets (CCE ELB stickiness is CCE-008). These pin a client to a " +
			"node; with Cluster the node re-balances it across pods. Only type LoadBalancer Services get a provider load balancer " +
			"(SVC-014), and pod-direct backends (X-003: NLB ip targets or aws-load-balancer-type nlb-ip, ACK backend-type eni, " +
			"TKE direct-access, GKE NEG) need nothing. stickyguard sets Local unless the policy turns the default off or disables " +
			"SVC-005, the Service carries stickyguard.io/keep-traffic-policy: \"true\", or (offline, where it is visible) " +
			"Cluster is written explicitly: then it warns. Plain sessionAffinity: ClientIP never gets Local (SVC-004).",
		Source: "Huawei CCE best practice 'Implementing Sticky Session Through Load Balancing'; STICKY-FACTS X-002, Corrections 2026-11-28",
	}
	svc006 = &Rule{
		ID: "SVC-006", Severity: Warn, Kinds: []string{KindService}, Family: "Service",
		Title:   "externalTrafficPolicy changed from Cluster to Local on a LoadBalancer Service; existing connections keep their old path",
		Explain: "Huawei CCE does not clear the conntrack table when the Service's affinity changes.",
		Fix:     "recreate the Service, or drain clients after the change",
		Source:  "CCE creating_a_loadbalancer_service.rst; nodeport.rst",
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
		Title:   "ClientIP affinity on a multi-port Service is kept per port, so a client may reach different pods on different ports",
		Explain: "iptables and nftables kube-proxy keep affinity per Service port; IPVS per Service.",
		Fix:     "split the ports into separate Services, or accept per-port stickiness",
		Source:  "kubernetes#103000; nftables proxier 'endpoint affinity is recorded ... to a particular ServicePort'",
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
		Title: "a sticky Service selects a multi-replica Deployment or StatefulSet whose pods are not spread one per node",
		Fix:   "spread the pods one per node (stickyguard adds anti-affinity on their next write)",
		Explain: "Sticky here means node-level stickiness at the load balancer (X-002) or ClientIP affinity with " +
			"externalTrafficPolicy Local. A Service that is only Local (an ingress controller's own Service) is not sticky. " +
			"Spreading is pod anti-affinity or a topology spread constraint on kubernetes.io/hostname.",
		Source: "create-external-load-balancer.md 'Caveats and Limitations when preserving source IPs'; kubernetes#97147",
	}
	svc013 = &Rule{
		ID: "SVC-013", Severity: Warn, Kinds: []string{KindService}, Family: "Service",
		Title:  "a ClientIP timeout other than the default on a Service whose pods run on Windows, which does not support it",
		Fix:    "drop the custom timeout for Windows backends",
		Source: "kubernetes website virtual-ips.md, Session stickiness timeout note",
	}
	svc014 = &Rule{
		ID: "SVC-014", Severity: Warn, Kinds: []string{KindService}, Family: "Service",
		Title: "a cloud load-balancer stickiness annotation on a Service that is not type LoadBalancer, which gets no load balancer",
		Fix:   "set spec.type: LoadBalancer, or remove the annotation",
		Explain: "ACK CLB persistence-timeout / sticky-session, AWS NLB target-group-attributes stickiness and CCE SOURCE_IP " +
			"only configure the load balancer the cloud controller provisions for type LoadBalancer. On a NodePort or ClusterIP " +
			"Service they do nothing (CCE cookie modes on the Service behind an ELB Ingress are the exception), and stickyguard " +
			"never sets externalTrafficPolicy Local for them.",
		Source: "STICKY-FACTS Corrections 2026-11-28 (NodePort Services get no provider LB); cloud-provider-alibaba-cloud docs/usage.md; aws-load-balancer-controller service annotations.md",
	}
)

var serviceRules = []*Rule{svc001, svc002, svc003, svc004, svc005, svc006, svc007, svc008, svc009, svc010, svc011, svc012, svc013, svc014}

// Service defaults (see defaults.go): the ClientIP timeout (SVC-008), then
// externalTrafficPolicy Local (SVC-005, or CCE-008 for CCE ELB stickiness;
// DecideLocal in predicates.go, which the provider rules ask too).
var (
	ClientIPTimeoutDefault = ServiceDefault{
		Field:  field.NewPath("spec", "sessionAffinityConfig", "clientIP", "timeoutSeconds"),
		Decide: DecideClientIPTimeout,
	}
	LocalDefault = ServiceDefault{Field: field.NewPath("spec", "externalTrafficPolicy"), Decide: DecideLocal}
)

// DecideClientIPTimeout is the SVC-008 decision: a ClientIP Service gets the
// policy's default timeout unless the policy disables SVC-008 (the mutator
// keeps a timeout the author chose).
func DecideClientIPTimeout(svc *corev1.Service, pol *policy.Policy, _ bool) Decision {
	if svc.Spec.SessionAffinity != corev1.ServiceAffinityClientIP {
		return Decision{}
	}
	d := Decision{Rule: svc008.ID, Reason: "ClientIP affinity",
		Value: strconv.Itoa(int(pol.Service.ClientIPTimeout.Default)), Why: "the policy's default ClientIP timeout"}
	if pol.Override(svc008.ID) == policy.OverrideDisabled {
		d.Blocked = blockedByPolicy(svc008.ID)
	} else {
		d.Set = true
	}
	return d
}

// selectorKeyHome is where each Service field typed under spec.selector
// belongs.
var selectorKeyHome = map[string]string{
	"sessionAffinity": "spec.sessionAffinity", "sessionAffinityConfig": "spec.sessionAffinityConfig",
	"timeoutSeconds": "spec.sessionAffinityConfig.clientIP.timeoutSeconds", "clientIP": "spec.sessionAffinityConfig.clientIP",
	"externalTrafficPolicy": "spec.externalTrafficPolicy", "internalTrafficPolicy": "spec.internalTrafficPolicy",
	"healthCheckNodePort": "spec.healthCheckNodePort",
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
		if home, ok := selectorKeyHome[k]; ok {
			f.invalid(svc001, spec.Child("selector").Key(k), clipValue(svc.Spec.Selector[k]),
				"a pod label, not the Service field "+home+"; the Service selects no pods")
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
	// The same decision the engine fills the default by: a policy override,
	// an opt-out or an explicit Cluster changes both alike.
	switch d := DecideLocal(svc, ctx.Policy, ctx.Offline); {
	case d.Rule == svc005.ID && d.Blocked != "":
		f.warn(svc005, spec.Child("externalTrafficPolicy"), string(TrafficPolicy(svc)),
			d.Reason+" needs externalTrafficPolicy Local; "+d.Blocked)
	case clientIP && external && !local && d.Rule == "":
		f.warn(svc004, spec.Child("externalTrafficPolicy"), string(TrafficPolicy(svc)), "")
	}
	checkNoLoadBalancer(&f, svc, ctx)
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
		checkWindows(&f, svc, ctx.Related)
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
			f.warn(svc002, path(k), nil, "the spec field spec."+name+" has no effect as metadata")
		}
	}
}

// checkIngressBypass covers SVC-010 and SVC-011 for the Ingresses routing to
// a ClientIP Service.
func checkIngressBypass(f *findings, svc *corev1.Service, ings []RelatedIngress, aff *field.Path) {
	for _, ri := range ings {
		a := ri.Ingress.Annotations
		name := clipTo(ri.Ingress.Name, 40)
		switch ri.Controller {
		case ControllerNginx:
			if strings.TrimSpace(a["nginx.ingress.kubernetes.io/service-upstream"]) == "true" {
				f.warn(svc011, aff, nil, fmt.Sprintf("Ingress %s uses service-upstream, so kube-proxy sees the ingress-nginx pod IP", name))
			} else {
				f.warn(svc010, aff, nil, fmt.Sprintf("Ingress %s (ingress-nginx) routes to pod endpoints", name))
			}
		case ControllerTraefik, ControllerHAProxy, ControllerHAProxyTech:
			f.warn(svc010, aff, nil, fmt.Sprintf("Ingress %s (%s) routes to pod endpoints", name, ri.Controller))
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

func checkWindows(f *findings, svc *corev1.Service, rel Related) {
	if ClientIPTimeout(svc) == policy.DefaultClientIPTimeout {
		return
	}
	path := field.NewPath("spec", "sessionAffinityConfig", "clientIP", "timeoutSeconds")
	for _, d := range rel.Deployments {
		if d.Spec.Template.Spec.NodeSelector[corev1.LabelOSStable] == "windows" {
			f.warn(svc013, path, ClientIPTimeout(svc), fmt.Sprintf("Deployment %s runs on Windows nodes", clipValue(d.Name)))
			return
		}
	}
	for _, s := range rel.StatefulSets {
		if s.Spec.Template.Spec.NodeSelector[corev1.LabelOSStable] == "windows" {
			f.warn(svc013, path, ClientIPTimeout(svc), fmt.Sprintf("StatefulSet %s runs on Windows nodes", clipValue(s.Name)))
			return
		}
	}
}

// checkNoLoadBalancer is SVC-014: cloud load-balancer stickiness
// annotations on a Service type that gets no provider load balancer.
func checkNoLoadBalancer(f *findings, svc *corev1.Service, ctx *Context) {
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		return
	}
	a := svc.Annotations
	var keys []string
	// Any value but an explicit "off" counts: the value rules (ACK-*, NLB
	// AWS-*) do not run where no load balancer reads the keys.
	if k, v, ok := ackAnn(a, "persistence-timeout"); ok && v != "" && strings.TrimSpace(v) != "0" {
		keys = append(keys, k)
	}
	if k, v, ok := ackAnn(a, "sticky-session"); ok && v != "" && strings.TrimSpace(v) != "off" {
		keys = append(keys, k)
	}
	for _, k := range keysWhere(a, isNLBAttrsKey) {
		if m, err := ParseAWSStringMap(a[k]); err != nil || (m["stickiness.enabled"] != "" && m["stickiness.enabled"] != "false") {
			keys = append(keys, k)
		}
	}
	if a[annCCEMode] == cceSourceIP && !cceBacksELBIngress(ctx) {
		keys = append(keys, annCCEMode)
	}
	typ := svc.Spec.Type
	if typ == "" {
		typ = corev1.ServiceTypeClusterIP
	}
	for _, k := range keys {
		f.warn(svc014, annPath(k), nil, "no load balancer is created for type "+string(typ))
	}
}

// checkBackendSpread is SVC-012: the Service needs one pod per node and some
// selected multi-replica Deployments or StatefulSets do not spread.
func checkBackendSpread(f *findings, svc *corev1.Service, ctx *Context) {
	if !NeedsSpread(svc, ctx.Policy) {
		return
	}
	var names, sets []string
	for _, d := range ctx.Related.Deployments {
		if replicas(d.Spec.Replicas) > 1 && !sticky.SpreadsByHostname(&d.Spec.Template.Spec) {
			names = append(names, d.Name)
		}
	}
	for _, s := range ctx.Related.StatefulSets {
		if replicas(s.Spec.Replicas) > 1 && !sticky.SpreadsByHostname(&s.Spec.Template.Spec) {
			sets = append(sets, s.Name)
		}
	}
	var parts []string
	if len(names) > 0 {
		sort.Strings(names)
		parts = append(parts, "Deployments without hostname spread: "+strings.Join(names, ", "))
	}
	if len(sets) > 0 {
		sort.Strings(sets)
		parts = append(parts, "StatefulSets without hostname spread: "+strings.Join(sets, ", "))
	}
	if len(parts) > 0 {
		f.warn(svc012, field.NewPath("spec", "selector"), nil, clipTo(strings.Join(parts, "; "), 140))
	}
}

// replicas is a workload's spec.replicas; the API server defaults nil to 1.
func replicas(n *int32) int32 {
	if n == nil {
		return 1
	}
	return *n
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
