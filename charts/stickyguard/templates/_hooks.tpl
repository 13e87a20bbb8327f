{{/*
Hook Jobs run bash scripts in hooks.image (kubectl with bash and coreutils)
and, for certificates, `stickyguard certs` in the webhook image. Files pass
between containers in the emptyDir at $CERT_DIR. Scripts name every object
explicitly, so they can also be run outside the cluster (the chart e2e runs
them with a kubeconfig for the hook ServiceAccount).
*/}}

{{- define "stickyguard.hooksName" -}}
{{- printf "%s-hooks" (include "stickyguard.fullname" .) }}
{{- end }}

{{/* The hook phases that need the hook ServiceAccount; empty when none. */}}
{{- define "stickyguard.hookPhases" -}}
{{- $phases := list }}
{{- if eq .Values.certs.mode "selfSigned" }}
{{- $phases = concat $phases (list "pre-install" "pre-upgrade" "post-install" "post-upgrade") }}
{{- end }}
{{- if .Values.hooks.preDelete.enabled }}
{{- $phases = append $phases "pre-delete" }}
{{- end }}
{{- join "," $phases }}
{{- end }}

{{/* metadata.annotations of a hook object. Arguments: phases, weight. */}}
{{- define "stickyguard.hookAnnotations" -}}
helm.sh/hook: {{ .phases }}
helm.sh/hook-weight: {{ .weight | quote }}
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
{{- end }}

{{/* The pod-level fields every hook Job shares. */}}
{{- define "stickyguard.hookPodSpec" -}}
serviceAccountName: {{ include "stickyguard.hooksName" . }}
restartPolicy: Never
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.podSecurityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* A bash container in the hook image. Arguments: root, name, script. */}}
{{- define "stickyguard.hookContainer" -}}
- name: {{ .name }}
  image: {{ include "stickyguard.hookImage" .root }}
  imagePullPolicy: {{ .root.Values.hooks.image.pullPolicy }}
  command: ["/bin/bash", "-ec"]
  args:
    - |
      {{- .script | nindent 6 }}
  env:
    - name: HOME
      value: /tmp
    - name: CERT_DIR
      value: /work/certs
  {{- with .root.Values.hooks.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .root.Values.securityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
    - name: work
      mountPath: /work
{{- end }}

{{/* The volumes of every hook pod. */}}
{{- define "stickyguard.hookVolumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 16Mi
- name: work
  emptyDir:
    medium: Memory
    sizeLimit: 1Mi
{{- end }}
