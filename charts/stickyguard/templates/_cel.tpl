{{/*
CEL matchConditions of the webhook entries, the same text as
manifests/base/webhook-configurations.yaml (the chart test compares them).
Why they are safe: docs/operations.md "What the webhook is sent (matchConditions)".
*/}}

{{- define "stickyguard.cel.fills-a-default" -}}
object != null && (
  (has(object.spec.sessionAffinity) && object.spec.sessionAffinity == 'ClientIP' &&
    (!has(object.spec.sessionAffinityConfig) || !has(object.spec.sessionAffinityConfig.clientIP) ||
     !has(object.spec.sessionAffinityConfig.clientIP.timeoutSeconds) ||
     object.spec.sessionAffinityConfig.clientIP.timeoutSeconds == 10800)) ||
  (has(object.spec.type) && object.spec.type in ['NodePort', 'LoadBalancer']))
{{- end }}

{{- define "stickyguard.cel.sticky-relevant-ingress" -}}
(object != null && has(object.metadata.annotations) &&
  object.metadata.annotations.exists(k, k.matches('^(stickyguard\\.io/|kubernetes\\.io/elb\\.|service\\.beta\\.kubernetes\\.io/alibaba-cloud-loadbalancer-|service\\.beta\\.kubernetes\\.io/alicloud-loadbalancer-|service\\.beta\\.kubernetes\\.io/aws-load-balancer-|alb\\.ingress\\.kubernetes\\.io/|service\\.cloud\\.tencent\\.com/|cloud\\.google\\.com/backend-config|beta\\.cloud\\.google\\.com/backend-config|nginx\\.ingress\\.kubernetes\\.io/|nginx\\.org/|nginx\\.com/|traefik\\.|haproxy-ingress\\.github\\.io/|ingress\\.kubernetes\\.io/|haproxy\\.org/|appgw\\.ingress\\.kubernetes\\.io/)'))) ||
(oldObject != null && has(oldObject.metadata.annotations) &&
  oldObject.metadata.annotations.exists(k, k.matches('^(stickyguard\\.io/|kubernetes\\.io/elb\\.|service\\.beta\\.kubernetes\\.io/alibaba-cloud-loadbalancer-|service\\.beta\\.kubernetes\\.io/alicloud-loadbalancer-|service\\.beta\\.kubernetes\\.io/aws-load-balancer-|alb\\.ingress\\.kubernetes\\.io/|service\\.cloud\\.tencent\\.com/|cloud\\.google\\.com/backend-config|beta\\.cloud\\.google\\.com/backend-config|nginx\\.ingress\\.kubernetes\\.io/|nginx\\.org/|nginx\\.com/|traefik\\.|haproxy-ingress\\.github\\.io/|ingress\\.kubernetes\\.io/|haproxy\\.org/|appgw\\.ingress\\.kubernetes\\.io/)')))
{{- end }}

{{- define "stickyguard.cel.sticky-relevant-service" -}}
(object != null && (
  (has(object.spec.sessionAffinity) && object.spec.sessionAffinity == 'ClientIP') ||
  (has(object.spec.type) && object.spec.type in ['NodePort', 'LoadBalancer']) ||
  (has(object.spec.externalIPs) && size(object.spec.externalIPs) > 0) ||
  (has(object.spec.externalTrafficPolicy) && object.spec.externalTrafficPolicy == 'Local') ||
  (has(object.spec.selector) && object.spec.selector.exists(k, k in ['sessionAffinity',
    'sessionAffinityConfig', 'timeoutSeconds', 'clientIP', 'externalTrafficPolicy',
    'internalTrafficPolicy', 'healthCheckNodePort'])) ||
  (has(object.metadata.labels) && object.metadata.labels.exists(k,
    k in ['istio.io/persistent-session', 'istio.io/persistent-session-header'] || k.matches(
    '^(?:[^/]*/)?(?i:sessionaffinity|sessionaffinityconfig|externaltrafficpolicy)$'))) ||
  (has(object.metadata.annotations) && object.metadata.annotations.exists(k, k.matches(
    '^(?:stickyguard\\.io/|kubernetes\\.io/elb\\.|service\\.beta\\.kubernetes\\.io/alibaba-cloud-loadbalancer-|service\\.beta\\.kubernetes\\.io/alicloud-loadbalancer-|service\\.beta\\.kubernetes\\.io/aws-load-balancer-|alb\\.ingress\\.kubernetes\\.io/|service\\.cloud\\.tencent\\.com/|cloud\\.google\\.com/backend-config|beta\\.cloud\\.google\\.com/backend-config|nginx\\.ingress\\.kubernetes\\.io/|nginx\\.org/|nginx\\.com/|traefik\\.|haproxy-ingress\\.github\\.io/|ingress\\.kubernetes\\.io/|haproxy\\.org/|appgw\\.ingress\\.kubernetes\\.io/|(?:[^/]*/)?(?i:sessionaffinity|sessionaffinityconfig|externaltrafficpolicy)$)')))
)) ||
(oldObject != null && (
  (has(oldObject.spec.sessionAffinity) && oldObject.spec.sessionAffinity == 'ClientIP') ||
  (has(oldObject.spec.type) && oldObject.spec.type in ['NodePort', 'LoadBalancer']) ||
  (has(oldObject.spec.externalIPs) && size(oldObject.spec.externalIPs) > 0) ||
  (has(oldObject.spec.externalTrafficPolicy) && oldObject.spec.externalTrafficPolicy == 'Local') ||
  (has(oldObject.spec.selector) && oldObject.spec.selector.exists(k, k in ['sessionAffinity',
    'sessionAffinityConfig', 'timeoutSeconds', 'clientIP', 'externalTrafficPolicy',
    'internalTrafficPolicy', 'healthCheckNodePort'])) ||
  (has(oldObject.metadata.labels) && oldObject.metadata.labels.exists(k,
    k in ['istio.io/persistent-session', 'istio.io/persistent-session-header'] || k.matches(
    '^(?:[^/]*/)?(?i:sessionaffinity|sessionaffinityconfig|externaltrafficpolicy)$'))) ||
  (has(oldObject.metadata.annotations) && oldObject.metadata.annotations.exists(k, k.matches(
    '^(?:stickyguard\\.io/|kubernetes\\.io/elb\\.|service\\.beta\\.kubernetes\\.io/alibaba-cloud-loadbalancer-|service\\.beta\\.kubernetes\\.io/alicloud-loadbalancer-|service\\.beta\\.kubernetes\\.io/aws-load-balancer-|alb\\.ingress\\.kubernetes\\.io/|service\\.cloud\\.tencent\\.com/|cloud\\.google\\.com/backend-config|beta\\.cloud\\.google\\.com/backend-config|nginx\\.ingress\\.kubernetes\\.io/|nginx\\.org/|nginx\\.com/|traefik\\.|haproxy-ingress\\.github\\.io/|ingress\\.kubernetes\\.io/|haproxy\\.org/|appgw\\.ingress\\.kubernetes\\.io/|(?:[^/]*/)?(?i:sessionaffinity|sessionaffinityconfig|externaltrafficpolicy)$)')))
))
{{- end }}

{{- define "stickyguard.cel.sticky-relevant-backend-policy" -}}
(object != null && has(object.spec) && has(object.spec.sessionPersistence)) ||
(oldObject != null && has(oldObject.spec) && has(oldObject.spec.sessionPersistence))
{{- end }}

{{- define "stickyguard.cel.consistent-hash-policy" -}}
(object != null && has(object.spec) && has(object.spec.loadBalancer) &&
  has(object.spec.loadBalancer.consistentHash)) ||
(oldObject != null && has(oldObject.spec) && has(oldObject.spec.loadBalancer) &&
  has(oldObject.spec.loadBalancer.consistentHash))
{{- end }}

{{- define "stickyguard.cel.consistent-hash-destinationrule" -}}
(object != null && has(object.spec) && (
  (has(object.spec.trafficPolicy) && (
    (has(object.spec.trafficPolicy.loadBalancer) && has(object.spec.trafficPolicy.loadBalancer.consistentHash)) ||
    (has(object.spec.trafficPolicy.portLevelSettings) && object.spec.trafficPolicy.portLevelSettings.exists(p,
      has(p.loadBalancer) && has(p.loadBalancer.consistentHash))))) ||
  (has(object.spec.subsets) && object.spec.subsets.exists(s, has(s.trafficPolicy) && (
    (has(s.trafficPolicy.loadBalancer) && has(s.trafficPolicy.loadBalancer.consistentHash)) ||
    (has(s.trafficPolicy.portLevelSettings) && s.trafficPolicy.portLevelSettings.exists(p,
      has(p.loadBalancer) && has(p.loadBalancer.consistentHash)))))))) ||
(oldObject != null && has(oldObject.spec) && (
  (has(oldObject.spec.trafficPolicy) && (
    (has(oldObject.spec.trafficPolicy.loadBalancer) && has(oldObject.spec.trafficPolicy.loadBalancer.consistentHash)) ||
    (has(oldObject.spec.trafficPolicy.portLevelSettings) && oldObject.spec.trafficPolicy.portLevelSettings.exists(p,
      has(p.loadBalancer) && has(p.loadBalancer.consistentHash))))) ||
  (has(oldObject.spec.subsets) && oldObject.spec.subsets.exists(s, has(s.trafficPolicy) && (
    (has(s.trafficPolicy.loadBalancer) && has(s.trafficPolicy.loadBalancer.consistentHash)) ||
    (has(s.trafficPolicy.portLevelSettings) && s.trafficPolicy.portLevelSettings.exists(p,
      has(p.loadBalancer) && has(p.loadBalancer.consistentHash))))))))
{{- end }}

{{- define "stickyguard.cel.sticky-relevant-gcpbackendpolicy" -}}
(object != null && has(object.spec) && (
  (has(object.spec.default) && has(object.spec.default.sessionAffinity)) ||
  !has(object.spec.targetRef) ||
  (has(object.spec.targetRef.namespace) && object.spec.targetRef.namespace != request.namespace) ||
  !has(object.spec.targetRef.kind) ||
  !(((!has(object.spec.targetRef.group) || object.spec.targetRef.group == '') && object.spec.targetRef.kind == 'Service') ||
    (has(object.spec.targetRef.group) && object.spec.targetRef.group == 'net.gke.io' &&
      object.spec.targetRef.kind in ['ServiceImport', 'ServiceExport'])))) ||
(oldObject != null && has(oldObject.spec) && has(oldObject.spec.default) &&
  has(oldObject.spec.default.sessionAffinity))
{{- end }}
