{{/* Names and labels shared by every template. */}}

{{- define "stickyguard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The resource name prefix: the release name when it contains the chart name. */}}
{{- define "stickyguard.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "stickyguard.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "stickyguard.labels" -}}
app.kubernetes.io/name: {{ include "stickyguard.name" . }}
helm.sh/chart: {{ include "stickyguard.chart" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The webhook pods' selector (as in manifests/base; immutable once installed). */}}
{{- define "stickyguard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "stickyguard.name" . }}
app.kubernetes.io/component: webhook
{{- end }}

{{- define "stickyguard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "stickyguard.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "stickyguard.serviceName" -}}
{{- printf "%s-webhook" (include "stickyguard.fullname" .) }}
{{- end }}

{{/* The serving certificate's Secret, mounted at /tls. */}}
{{- define "stickyguard.tlsSecretName" -}}
{{- printf "%s-webhook-tls" (include "stickyguard.fullname" .) }}
{{- end }}

{{/* The CA's Secret (certManager: the CA Certificate's; selfSigned: made by the hook Job). */}}
{{- define "stickyguard.caSecretName" -}}
{{- printf "%s-ca" (include "stickyguard.fullname" .) }}
{{- end }}

{{- define "stickyguard.policyConfigMapName" -}}
{{- printf "%s-policy" (include "stickyguard.fullname" .) }}
{{- end }}

{{- define "stickyguard.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "stickyguard.hookImage" -}}
{{- printf "%s:%s" .Values.hooks.image.repository .Values.hooks.image.tag }}
{{- end }}

{{/* Namespaces no entry ever selects: the configured ones plus the release namespace. */}}
{{- define "stickyguard.excludedNamespaces" -}}
{{- $ns := .Values.webhook.excludedNamespaces | default list }}
{{- if not (has .Release.Namespace $ns) }}
{{- $ns = append $ns .Release.Namespace }}
{{- end }}
{{- toJson $ns }}
{{- end }}

{{/*
The caBundle the API server must trust: ca.crt of the serving Secret as it is
in the cluster now (lookup; empty under `helm template`). Rendering it keeps
an upgrade from touching the caBundle the running pods' certificate chains to.
*/}}
{{- define "stickyguard.caBundle" -}}
{{- $secret := lookup "v1" "Secret" .Release.Namespace (include "stickyguard.tlsSecretName" .) }}
{{- if $secret }}
{{- index ($secret.data | default dict) "ca.crt" | default "" }}
{{- end }}
{{- end }}

{{/* Seconds in a Go duration made of hours, minutes and seconds ("1h30m"). */}}
{{- define "stickyguard.seconds" -}}
{{- $total := 0 }}
{{- range regexFindAll "[0-9]+[hms]" . -1 }}
{{- $n := regexFind "[0-9]+" . | int }}
{{- if hasSuffix "h" . }}
{{- $total = add $total (mul $n 3600) }}
{{- else if hasSuffix "m" . }}
{{- $total = add $total (mul $n 60) }}
{{- else }}
{{- $total = add $total $n }}
{{- end }}
{{- end }}
{{- $total }}
{{- end }}
