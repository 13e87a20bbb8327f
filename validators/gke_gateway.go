package validators

import (
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/apis"
)

// GKE Gateway GCPBackendPolicy spec.default.sessionAffinity (GATEWAY-FACTS §E),
// checked against GoogleCloudPlatform/gke-gateway-api
// config/crd/networking.gke.io_gcpbackendpolicies.yaml and
// apis/networking/v1/gcpbackendpolicy_types.go, the GKE "Configure Gateway
// resources using Policies" page and the Compute BackendService API.

const (
	ggwFamily = "GKE Gateway"

	ggwNone            = "NONE"
	ggwClientIP        = "CLIENT_IP"
	ggwClientIPPort    = "CLIENT_IP_PORT_PROTO"
	ggwClientIPProto   = "CLIENT_IP_PROTO"
	ggwGeneratedCookie = "GENERATED_COOKIE"
	ggwHTTPCookie      = "HTTP_COOKIE"
	ggwHeaderField     = "HEADER_FIELD"
	// groupMultiCluster is the group of ServiceImport and ServiceExport.
	groupMultiCluster = "net.gke.io"
)

// GCPMaxCookieTTL is the GCPBackendPolicy CRD's maximum cookieTtlSec, in
// seconds (two weeks).
const GCPMaxCookieTTL = 1209600

var ggwTypes = []string{ggwClientIP, ggwClientIPPort, ggwClientIPProto, ggwGeneratedCookie, ggwHeaderField, ggwHTTPCookie, ggwNone}

var (
	ggw001 = &Rule{ID: "GGW-001", Severity: Deny, Kinds: []string{KindGCPBackendPolicy}, Family: ggwFamily, Offline: true,
		Title:  "GCPBackendPolicy sessionAffinity.type is not in the CRD enum, or cookieTtlSec is outside 0-1209600",
		Fix:    "use a type from the list (exact uppercase) and a cookieTtlSec of 0-1209600 seconds",
		Source: "gke-gateway-api networking.gke.io_gcpbackendpolicies.yaml SessionAffinityConfig (enum, minimum 0, maximum 1209600)"}
	ggw002 = &Rule{ID: "GGW-002", Severity: Warn, Kinds: []string{KindGCPBackendPolicy}, Family: ggwFamily,
		Title:  "cookieTtlSec set while sessionAffinity.type is not GENERATED_COOKIE or HTTP_COOKIE",
		Fix:    "remove cookieTtlSec, or set type: GENERATED_COOKIE",
		Source: "gke-gateway-api gcpbackendpolicy_types.go CookieTTLSec: \"requires GENERATED_COOKIE or HTTP_COOKIE session affinity\""}
	ggw003 = &Rule{ID: "GGW-003", Severity: Warn, Kinds: []string{KindGCPBackendPolicy}, Family: ggwFamily,
		Title: "GCPBackendPolicy targets a Service in another namespace",
		Fix:   "create the policy in the target's namespace and drop targetRef.namespace",
		Explain: "The CRD accepts targetRef.namespace, but GKE documents that GCPBackendPolicy resources \"must exist in the " +
			"same namespace as the target Service or ServiceImport resource\".",
		Source: "cloud.google.com/kubernetes-engine/docs/how-to/configure-gateway-resources (Restrictions and limitations)"}
	ggw006 = &Rule{ID: "GGW-006", Severity: Warn, Kinds: []string{KindGCPBackendPolicy}, Family: ggwFamily,
		Title: "GCPBackendPolicy targetRef is not a Service or a net.gke.io ServiceImport",
		Fix:   `target a Service (group: "") or, multi-cluster, a net.gke.io ServiceImport`,
		Explain: "GKE attaches GCPBackendPolicy only to a v1 Service (single-cluster Gateways) or a net.gke.io/v1 " +
			"ServiceImport (multi-cluster); the CRD does not restrict the kind. (ServiceExport is accepted too: the CRD's CEL " +
			"rule names it for backendPreference.)",
		Source: "cloud.google.com/kubernetes-engine/docs/how-to/configure-gateway-resources; gcpbackendpolicies CRD CEL (ServiceExport)"}
	ggw007 = &Rule{ID: "GGW-007", Severity: Warn, Kinds: []string{KindGCPBackendPolicy}, Family: ggwFamily,
		Title: "CLIENT_IP_PORT_PROTO or CLIENT_IP_PROTO affinity on a GKE Gateway (HTTP(S)) load balancer",
		Fix:   "use CLIENT_IP or GENERATED_COOKIE",
		Explain: "GKE Gateways are application (HTTP(S)) load balancers; the Compute BackendService API says these two " +
			"affinities \"cannot be used for HTTP(S) load balancing\".",
		Source: "Compute Engine API BackendService.sessionAffinity enum descriptions"}
	ggw008 = &Rule{ID: "GGW-008", Severity: Warn, Kinds: []string{KindGCPBackendPolicy}, Family: ggwFamily,
		Title: "the targeted Service also sets sessionAffinity: ClientIP, which GKE Gateway traffic bypasses",
		Fix:   "rely on this policy's sessionAffinity; Service ClientIP only pins in-cluster clients",
		Explain: "GKE Gateway uses container-native load balancing: the load balancer sends to pod IPs through NEGs, not " +
			"through the Service's cluster IP, so kube-proxy's ClientIP affinity never sees Gateway traffic.",
		Source: "GKE Gateway: container-native load balancing (NEG) on VPC-native clusters; STICKY-FACTS SVC-010"}
)

var gkeGatewayRules = []*Rule{ggw001, ggw002, ggw003, ggw006, ggw007, ggw008}

func validateGCPBackendPolicy(p, _ *apis.GCPBackendPolicy, ctx *Context) (field.ErrorList, Warnings) {
	var f findings
	ref := p.Spec.TargetRef
	rp := field.NewPath("spec", "targetRef")
	sameNS := ref.Namespace == nil || *ref.Namespace == p.Namespace
	if !sameNS {
		f.warn(ggw003, rp.Child("namespace"), nil, "the policy is in "+strconv.Quote(clipTo(p.Namespace, 63)))
	}
	isService := ref.Group == "" && ref.Kind == "Service"
	if !isService && !(ref.Group == groupMultiCluster && (ref.Kind == "ServiceImport" || ref.Kind == "ServiceExport")) {
		f.warn(ggw006, rp.Child("kind"), nil, ggw006Detail(rp.Child("kind"), ref.Group, ref.Kind))
	}
	if p.Spec.Default == nil || p.Spec.Default.SessionAffinity == nil {
		return f.result()
	}
	sa := p.Spec.Default.SessionAffinity
	sp := field.NewPath("spec", "default", "sessionAffinity")
	typ := ggwNone
	if sa.Type != nil {
		typ = *sa.Type
	}
	if ctx.Offline {
		if !slices.Contains(ggwTypes, typ) {
			f.notSupported(ggw001, sp.Child("type"), clipValue(typ), ggwTypes, "not one of the CRD's session affinity types")
		}
		if t := sa.CookieTTLSec; t != nil && (*t < 0 || *t > GCPMaxCookieTTL) {
			f.invalid(ggw001, sp.Child("cookieTtlSec"), *t, "must be between 0 and 1209600 (CRD minimum and maximum)")
		}
	}
	if sa.CookieTTLSec != nil && typ != ggwGeneratedCookie && typ != ggwHTTPCookie {
		f.warn(ggw002, sp.Child("cookieTtlSec"), nil, "the cookie TTL only applies to cookie affinity; type is "+clipTo(typ, 40))
	}
	if typ == ggwClientIPPort || typ == ggwClientIPProto {
		f.warn(ggw007, sp.Child("type"), typ, "GKE Gateway load balancers are HTTP(S) load balancers, which cannot use this affinity")
	}
	if isService && sameNS && typ != ggwNone {
		if svc := serviceNamed(ctx.Related.Gateway.Services, p.Namespace, ref.Name); svc != nil && svc.Spec.SessionAffinity == corev1.ServiceAffinityClientIP {
			f.warn(ggw008, rp.Child("name"), nil, "Service "+clipTo(svc.Name, 63)+" sets ClientIP affinity; Gateway traffic reaches pods through NEGs and skips it")
		}
	}
	return f.result()
}

// ggw006Detail names the target's group and kind in full when the
// rendered warning fits MessageBudget; else the kind is cut to 24
// characters and the group to the room left.
func ggw006Detail(p *field.Path, group, kind string) string {
	detail := func(g, k string) string {
		return "GKE does not attach GCPBackendPolicy to group " + strconv.Quote(g) + " kind " + strconv.Quote(k)
	}
	over := func(d string) int {
		return len(Warning{Rule: ggw006.ID, Field: p, Detail: message(ggw006, d)}.String()) - MessageBudget
	}
	if over(detail(group, kind)) <= 0 {
		return detail(group, kind)
	}
	kind = clipTo(kind, 24)
	if n := over(detail(group, kind)); n > 0 {
		group = clipTo(group, max(len(group)-n-len("..."), 8))
	}
	return detail(group, kind)
}
