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

{{- /* The image, defaulting its tag to the chart's appVersion (the cnidoctor package version). */ -}}
{{- define "cnidoctor-agent.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
