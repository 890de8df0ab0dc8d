using Microsoft.Extensions.Configuration;

namespace Streaming.Kafka;

/// <summary>What the topic topology is made from; bound from the environment (see docs/configuration.md).</summary>
public sealed class TopologyOptions
{
    [ConfigurationKeyName("TOPIC_PREFIX")]
    public string TopicPrefix { get; set; } = "whatsapp";

    [ConfigurationKeyName("RETRY_DELAYS")]
    public string RetryDelays { get; set; } = "5s,30s,5m,30m";

    [ConfigurationKeyName("MESSAGES_PARTITIONS")]
    public int MessagesPartitions { get; set; } = 12;

    [ConfigurationKeyName("STATUSES_PARTITIONS")]
    public int StatusesPartitions { get; set; } = 12;

    [ConfigurationKeyName("RETRY_PARTITIONS")]
    public int RetryPartitions { get; set; } = 6;

    [ConfigurationKeyName("DLQ_PARTITIONS")]
    public int DlqPartitions { get; set; } = 3;

    [ConfigurationKeyName("TOPIC_REPLICATION_FACTOR")]
    public short ReplicationFactor { get; set; } = 3;

    /// <summary>Main lanes keep a week: Meta's own redelivery horizon, so an outage never outlives the data.</summary>
    [ConfigurationKeyName("LANE_RETENTION_HOURS")]
    public int LaneRetentionHours { get; set; } = 7 * 24;

    /// <summary>Dead letters wait for an operator: a month by default.</summary>
    [ConfigurationKeyName("DLQ_RETENTION_HOURS")]
    public int DlqRetentionHours { get; set; } = 30 * 24;

    public Topology Build() => Topology.Create(this);
}
