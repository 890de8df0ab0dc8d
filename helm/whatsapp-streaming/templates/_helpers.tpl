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

{{/* An image reference; call with (dict "root" $ "name" .Values.image.ingress). No public images exist, so
     the registry is required: without it the default would pull docker.io/library/whatsapp-streaming-*. */}}
{{- define "whatsapp-streaming.image" -}}
{{- $tag := default .root.Chart.AppVersion .root.Values.image.tag }}
{{- $registry := required "image.registry is required: the registry you pushed the images to, e.g. ghcr.io/acme (no public images are published; see docs/deployment.md, \"Build and push the images\")" .root.Values.image.registry }}
{{- printf "%s/%s:%s" (trimSuffix "/" $registry) .name $tag }}
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
{{- if and (hasPrefix "SASL_" .Values.kafka.securityProtocol) (not .Values.kafka.sasl.mechanism) }}
{{- fail (printf "kafka.securityProtocol %s needs kafka.sasl.mechanism (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512): without one librdkafka falls back to GSSAPI (Kerberos), which nothing here configures" .Values.kafka.securityProtocol) }}
{{- end }}
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
{{- with .Values.schemaRegistry.url }}
- name: SCHEMA_REGISTRY_URL
  value: {{ . | quote }}
{{- end }}
{{- with .Values.schemaRegistry.basicAuthSecret }}
{{- if .name }}
{{- if not $.Values.schemaRegistry.url }}
{{- fail "schemaRegistry.basicAuthSecret is set but schemaRegistry.url is empty" }}
{{- end }}
- name: SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO
  valueFrom:
    secretKeyRef:
      name: {{ .name }}
      key: {{ .key }}
{{- end }}
{{- end }}
{{- end }}

{{/* The kafka trigger's brokers, as KEDA's operator (in its own namespace) resolves them: a host of fewer than
     three labels (kafka, kafka-0.kafka) is namespace-relative and does not resolve there. */}}
{{- define "whatsapp-streaming.kedaBootstrapServers" -}}
{{- $servers := default .Values.kafka.bootstrapServers .Values.keda.bootstrapServers }}
{{- range $server := splitList "," $servers }}
{{- $host := trim $server | splitList ":" | first }}
{{- if and (lt (len (splitList "." $host)) 3) (not (regexMatch "^[0-9.]+$" $host)) }}
{{- fail (printf "KEDA's operator resolves broker names from its own namespace, so %q does not resolve there: set keda.bootstrapServers (or kafka.bootstrapServers) to fully qualified names, e.g. kafka-0.kafka.kafka.svc:9092" (trim $server)) }}
{{- end }}
{{- end }}
{{- $servers }}
{{- end }}

{{/* KEDA's sasl parameter for kafka.sasl.mechanism. */}}
{{- define "whatsapp-streaming.kedaSasl" -}}
{{- $m := .Values.kafka.sasl.mechanism }}
{{- if eq $m "PLAIN" }}plaintext{{ else if eq $m "SCRAM-SHA-256" }}scram_sha256{{ else if eq $m "SCRAM-SHA-512" }}scram_sha512{{ end }}
{{- end }}

{{/* True when the cluster needs TLS (SSL or SASL_SSL). */}}
{{- define "whatsapp-streaming.kafkaTls" -}}
{{- if has .Values.kafka.securityProtocol (list "SSL" "SASL_SSL") }}true{{ end }}
{{- end }}

{{/* The mount path of a destination's signing secret (a file named by its key). */}}
{{- define "whatsapp-streaming.destinationSecretPath" -}}
/etc/whatsapp-streaming-secrets/{{ . }}
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

{{/* The workers' destinations: the table (a directory mount, so that a changed ConfigMap reaches the running
     pods; a subPath mount would never be updated) and, apart from it, the signing secrets as files. */}}
{{- define "whatsapp-streaming.destinationVolumes" -}}
{{- if .Values.destinations }}
- name: destinations
  configMap:
    name: {{ include "whatsapp-streaming.fullname" . }}-destinations
- name: destination-secrets
  secret:
    secretName: {{ include "whatsapp-streaming.secretName" . }}
    items:
      {{- range $key := include "whatsapp-streaming.destinationSecretKeys" . | fromJsonArray }}
      - key: {{ $key }}
        path: {{ $key }}
      {{- end }}
{{- end }}
{{- end }}

{{- define "whatsapp-streaming.destinationVolumeMounts" -}}
{{- if .Values.destinations }}
- name: destinations
  mountPath: /etc/whatsapp-streaming
  readOnly: true
- name: destination-secrets
  mountPath: /etc/whatsapp-streaming-secrets
  readOnly: true
{{- end }}
{{- end }}

{{/* The Secret keys the destinations reference, each once, as a JSON list. */}}
{{- define "whatsapp-streaming.destinationSecretKeys" -}}
{{- $keys := list }}
{{- range .Values.destinations }}
{{- $keys = append $keys .signingSecretKey }}
{{- end }}
{{- $keys | uniq | toJson }}
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

{{/* Pod annotations: Prometheus scrape hints (not with the ServiceMonitor, which scrapes the same pods: every
     series would be counted twice), the Secret's checksum (rolls pods when a chart-managed Secret changes) and
     the component's own; call with (dict "root" $ "port" 8080 "extra" .podAnnotations). */}}
{{- define "whatsapp-streaming.podAnnotations" -}}
{{- $a := dict }}
{{- if and .root.Values.metrics.podAnnotations (not .root.Values.metrics.serviceMonitor.enabled) }}
{{- $_ := set $a "prometheus.io/scrape" "true" }}
{{- $_ := set $a "prometheus.io/port" (toString .port) }}
{{- $_ := set $a "prometheus.io/path" "/metrics" }}
{{- end }}
{{- if not .root.Values.existingSecret }}
{{- $_ := set $a "checksum/secrets" (include (print .root.Template.BasePath "/secret.yaml") .root | sha256sum) }}
{{- end }}
{{- toYaml (merge $a (default dict .extra)) }}
{{- end }}

{{/* A PodDisruptionBudget's eviction policy for unready pods: while Kafka is down every pod is unready, and the
     default policy would then block every node drain. The field is on by default from Kubernetes 1.27. */}}
{{- define "whatsapp-streaming.unhealthyPodEvictionPolicy" -}}
{{- if semverCompare ">=1.27-0" .Capabilities.KubeVersion.Version }}
unhealthyPodEvictionPolicy: AlwaysAllow
{{- end }}
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

{{/* topologySpreadConstraints: each constraint without a labelSelector gets the component's own selector, so
     that pods of one component (not of the whole release) are spread; call with (dict "root" $ "component" "ingress"). */}}
{{- define "whatsapp-streaming.topologySpread" -}}
{{- with .root.Values.topologySpreadConstraints }}
topologySpreadConstraints:
{{- range $c := . }}
{{- $cc := deepCopy $c }}
{{- if not $cc.labelSelector }}
{{- $_ := set $cc "labelSelector" (dict "matchLabels" (include "whatsapp-streaming.selectorLabels" (dict "root" $.root "component" $.component) | fromYaml)) }}
{{- end }}
  - {{- toYaml $cc | nindent 4 }}
{{- end }}
{{- end }}
{{- end }}
