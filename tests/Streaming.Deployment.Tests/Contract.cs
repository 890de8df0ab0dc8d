namespace Streaming.Deployment.Tests;

/// <summary>The operator contract's names (docs/design.md and the issues): what deployments may use.</summary>
public static class Contract
{
    public static readonly IReadOnlyList<string> KafkaVariables =
    [
        "KAFKA_BOOTSTRAP_SERVERS", "KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME",
        "KAFKA_SASL_PASSWORD", "KAFKA_SSL_CA_LOCATION",
    ];

    public static readonly IReadOnlyList<string> TopologyVariables =
    [
        "TOPIC_PREFIX", "RETRY_DELAYS", "MESSAGES_PARTITIONS", "STATUSES_PARTITIONS", "RETRY_PARTITIONS",
        "DLQ_PARTITIONS", "TOPIC_REPLICATION_FACTOR", "LANE_RETENTION_HOURS", "DLQ_RETENTION_HOURS",
    ];

    public static readonly IReadOnlyList<string> IngressVariables =
    [
        "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN", "INGRESS_HOST", "INGRESS_PORT", "INGRESS_MAX_BODY_BYTES",
        "INGRESS_PRODUCE_BUDGET_MS", "INGRESS_RETRY_AFTER_SECONDS", "INGRESS_SHED_INFLIGHT_BYTES",
        "INGRESS_SHED_LATENCY_MS", "INGRESS_QUEUE_MAX_MESSAGES", "INGRESS_LINGER_MS", "OTEL_EXPORTER_OTLP_ENDPOINT",
    ];

    /// <summary>Confluent Schema Registry (issue 12): ingress, workers and streamctl; the user info is a secret.</summary>
    public static readonly IReadOnlyList<string> SchemaRegistryVariables = ["SCHEMA_REGISTRY_URL", "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO"];

    public static readonly IReadOnlyList<string> WorkerVariables =
    [
        "WORKER_LANE", "DELIVERY_URL", "DELIVERY_SIGNING_SECRET", "WORKER_PORT", "WORKER_MAX_IN_FLIGHT",
        "DELIVERY_TIMEOUT_MS", "RETRY_JITTER", "CIRCUIT_FAILURE_RATIO", "CIRCUIT_MIN_THROUGHPUT",
        "CIRCUIT_SAMPLING_SECONDS", "CIRCUIT_BREAK_SECONDS", "DESTINATIONS_FILE", "ORDERING", "ORDERING_MAX_BLOCKED",
    ];

    /// <summary>Read by `make run` (and docker-compose.kafka.yml) to give each lane's worker its DELIVERY_URL.</summary>
    public static readonly IReadOnlyList<string> RunVariables = ["MESSAGES_DELIVERY_URL", "STATUSES_DELIVERY_URL"];

    public static IReadOnlyList<string> AllVariables { get; } =
        [.. KafkaVariables, .. TopologyVariables, .. IngressVariables, .. WorkerVariables, .. RunVariables, .. SchemaRegistryVariables];

    public static readonly IReadOnlyList<string> Lanes = ["messages", "statuses"];

    /// <summary>The chart's own Secret keys (the kustomize Secret's too).</summary>
    public static readonly IReadOnlyList<string> SecretVariables = ["WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN", "DELIVERY_SIGNING_SECRET"];

    /// <summary>Variables whose value is a secret: always from a Secret, never a literal in a manifest.</summary>
    public static readonly IReadOnlyList<string> SecretValuedVariables =
        [.. SecretVariables, "KAFKA_SASL_PASSWORD", "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO"];

    /// <summary>Where the chart and the kustomize base mount the destinations table (DESTINATIONS_FILE).</summary>
    public const string DestinationsFile = "/etc/whatsapp-streaming/destinations.yaml";

    public static string ConsumerGroup(string lane, string prefix = "whatsapp") => $"{prefix}-{lane}-worker";

    public const int DefaultLanePartitions = 12;
}
