{{- define "cnidoctor-agent.name" -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cnidoctor-agent.labels" -}}
app.kubernetes.io/name: cnidoctor-agent
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: cnidoctor
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "cnidoctor-agent.selector" -}}
app.kubernetes.io/name: cnidoctor-agent
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
