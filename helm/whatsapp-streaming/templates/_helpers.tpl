{{/* The chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "whatsapp-streaming.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release-qualified name every object starts with. */}}
{{- define "whatsapp-streaming.fullname" -}}
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

{{- define "whatsapp-streaming.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object; call with (dict "root" $ "component" "ingress"). */}}
{{- define "whatsapp-streaming.labels" -}}
helm.sh/chart: {{ include "whatsapp-streaming.chart" .root }}
{{ include "whatsapp-streaming.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: whatsapp-streaming
{{- end }}

{{- define "whatsapp-streaming.selectorLabels" -}}
app.kubernetes.io/name: {{ include "whatsapp-streaming.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* An image reference; call with (dict "root" $ "name" .Values.image.ingress). */}}
{{- define "whatsapp-streaming.image" -}}
{{- $tag := default .root.Chart.AppVersion .root.Values.image.tag }}
{{- if .root.Values.image.registry }}
{{- printf "%s/%s:%s" (trimSuffix "/" .root.Values.image.registry) .name $tag }}
{{- else }}
{{- printf "%s:%s" .name $tag }}
{{- end }}
{{- end }}

{{/* The Secret holding WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN and DELIVERY_SIGNING_SECRET. */}}
{{- define "whatsapp-streaming.secretName" -}}
{{- default (printf "%s-secrets" (include "whatsapp-streaming.fullname" .)) .Values.existingSecret }}
{{- end }}

{{/* A lane's partition count; call with (dict "root" $ "lane" "messages"). */}}
{{- define "whatsapp-streaming.lanePartitions" -}}
{{- if eq .lane "messages" }}{{ .root.Values.topics.messagesPartitions }}{{ else }}{{ .root.Values.topics.statusesPartitions }}{{ end }}
{{- end }}

{{/* A lane's consumer group: <prefix>-<lane>-worker, as the worker names it. */}}
{{- define "whatsapp-streaming.consumerGroup" -}}
{{- printf "%s-%s-worker" .root.Values.topics.prefix .lane }}
{{- end }}

{{/* Kafka connection and topology: the environment every container of the pipeline shares. */}}
{{- define "whatsapp-streaming.commonEnv" -}}
- name: KAFKA_BOOTSTRAP_SERVERS
  value: {{ required "kafka.bootstrapServers is required (host:port[,host:port...])" .Values.kafka.bootstrapServers | quote }}
{{- with .Values.kafka.securityProtocol }}
- name: KAFKA_SECURITY_PROTOCOL
  value: {{ . | quote }}
{{- end }}
{{- with .Values.kafka.sasl.mechanism }}
- name: KAFKA_SASL_MECHANISM
  value: {{ . | quote }}
{{- end }}
{{- with .Values.kafka.sasl.username }}
- name: KAFKA_SASL_USERNAME
  value: {{ . | quote }}
{{- end }}
{{- with .Values.kafka.sasl.passwordSecret }}
{{- if .name }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .name }}
      key: {{ .key }}
{{- end }}
{{- end }}
{{- with .Values.kafka.tls.caSecret }}
{{- if .name }}
- name: KAFKA_SSL_CA_LOCATION
  value: /etc/kafka-ca/{{ .key }}
{{- end }}
{{- end }}
- name: TOPIC_PREFIX
  value: {{ .Values.topics.prefix | quote }}
- name: RETRY_DELAYS
  value: {{ .Values.topics.retryDelays | quote }}
- name: MESSAGES_PARTITIONS
  value: {{ .Values.topics.messagesPartitions | int | quote }}
- name: STATUSES_PARTITIONS
  value: {{ .Values.topics.statusesPartitions | int | quote }}
- name: RETRY_PARTITIONS
  value: {{ .Values.topics.retryPartitions | int | quote }}
- name: DLQ_PARTITIONS
  value: {{ .Values.topics.dlqPartitions | int | quote }}
- name: TOPIC_REPLICATION_FACTOR
  value: {{ .Values.topics.replicationFactor | int | quote }}
- name: LANE_RETENTION_HOURS
  value: {{ .Values.topics.laneRetentionHours | int | quote }}
- name: DLQ_RETENTION_HOURS
  value: {{ .Values.topics.dlqRetentionHours | int | quote }}
{{- with .Values.otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- end }}

{{/* A writable /tmp (the root filesystem is read-only) and, when configured, the Kafka CA. */}}
{{- define "whatsapp-streaming.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 128Mi
{{- with .Values.kafka.tls.caSecret }}
{{- if .name }}
- name: kafka-ca
  secret:
    secretName: {{ .name }}
{{- end }}
{{- end }}
{{- end }}

{{- define "whatsapp-streaming.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.kafka.tls.caSecret.name }}
- name: kafka-ca
  mountPath: /etc/kafka-ca
  readOnly: true
{{- end }}
{{- end }}

{{/* Pod-level settings shared by every pod of the chart. */}}
{{- define "whatsapp-streaming.podSpecCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
automountServiceAccountToken: false
# Service links would add *_PORT variables (KAFKA_PORT for a Service named kafka) to the environment.
enableServiceLinks: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Pod annotations: Prometheus scrape hints, the Secret's checksum (rolls pods when a chart-managed
     Secret changes) and the component's own; call with (dict "root" $ "port" 8080 "extra" .podAnnotations). */}}
{{- define "whatsapp-streaming.podAnnotations" -}}
{{- $a := dict }}
{{- if .root.Values.metrics.podAnnotations }}
{{- $_ := set $a "prometheus.io/scrape" "true" }}
{{- $_ := set $a "prometheus.io/port" (toString .port) }}
{{- $_ := set $a "prometheus.io/path" "/metrics" }}
{{- end }}
{{- if not .root.Values.existingSecret }}
{{- $_ := set $a "checksum/secrets" (include (print .root.Template.BasePath "/secret.yaml") .root | sha256sum) }}
{{- end }}
{{- toYaml (merge $a (default dict .extra)) }}
{{- end }}

{{/* Liveness never calls Kafka (/healthz); readiness does (/readyz). */}}
{{- define "whatsapp-streaming.probes" -}}
startupProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: 2
  failureThreshold: 30
livenessProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: 10
  timeoutSeconds: 2
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /readyz
    port: http
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 3
{{- end }}
