{{/* Names and labels shared by every template. With the release name lambda-con-scaler-operator the
names are kustomize's (config/default), so the two installs render the same objects. */}}

{{- define "lcs.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "lcs.fullname" -}}
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

{{- define "lcs.serviceAccountName" -}}
{{- default (printf "%s-controller-manager" (include "lcs.fullname" .)) .Values.serviceAccount.name }}
{{- end }}

{{- /* A Service name is a DNS label (63 characters): shorten the prefix, keep the suffix. */}}
{{- define "lcs.metricsServiceName" -}}
{{- $suffix := "-controller-manager-metrics-service" }}
{{- printf "%s%s" (include "lcs.fullname" . | trunc (int (sub 63 (len $suffix))) | trimSuffix "-") $suffix }}
{{- end }}

{{- define "lcs.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/part-of: lambda-con-scaler-operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}

{{- define "lcs.selectorLabels" -}}
control-plane: controller-manager
app.kubernetes.io/name: {{ include "lcs.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
