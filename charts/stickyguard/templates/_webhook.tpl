{{/*
One webhook entry. Arguments (a dict): root (the chart context), name, path,
failurePolicy, modes (the stickyguard.io/mode values it selects), group,
version (default v1), resource, mutating (adds reinvocationPolicy) and
condition (the name of a matchCondition in _cel.tpl, or empty).
*/}}
{{- define "stickyguard.webhookEntry" -}}
{{- $root := .root }}
{{- $v := $root.Values.webhook }}
- name: {{ .name }}
  admissionReviewVersions: ["v1"]
  sideEffects: None
  matchPolicy: Equivalent
  timeoutSeconds: {{ $v.timeoutSeconds }}
  failurePolicy: {{ .failurePolicy }}
  {{- if .mutating }}
  reinvocationPolicy: IfNeeded
  {{- end }}
  clientConfig:
    service:
      name: {{ include "stickyguard.serviceName" $root }}
      namespace: {{ $root.Release.Namespace }}
      path: {{ .path }}
      port: 443
    {{- with include "stickyguard.caBundle" $root }}
    caBundle: {{ . }}
    {{- end }}
  rules:
    - apiGroups: [{{ .group | quote }}]
      apiVersions: [{{ get . "version" | default "v1" | quote }}]
      operations: ["CREATE", "UPDATE"]
      resources: [{{ .resource | quote }}]
      scope: Namespaced
  namespaceSelector:
    matchExpressions:
      - key: stickyguard.io/mode
        operator: In
        values: {{ toJson .modes }}
      - key: kubernetes.io/metadata.name
        operator: NotIn
        values: {{ include "stickyguard.excludedNamespaces" $root }}
      {{- with $v.namespaceSelector.matchExpressions }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
    {{- with $v.namespaceSelector.matchLabels }}
    matchLabels:
      {{- toYaml . | nindent 6 }}
    {{- end }}
  {{- with $v.objectSelector }}
  objectSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if and .condition $v.matchConditions.enabled }}
  matchConditions:
    - name: {{ .condition }}
      expression: |
        {{- include (printf "stickyguard.cel.%s" .condition) $root | nindent 8 }}
  {{- end }}
{{- end }}
