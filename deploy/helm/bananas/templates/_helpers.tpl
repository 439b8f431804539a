{{- define "bananas.labels" -}}
app.kubernetes.io/name: bananas
{{- end -}}
{{- define "bananas.workerLabels" -}}
app.kubernetes.io/name: bananas
app.kubernetes.io/component: worker
{{- end -}}
