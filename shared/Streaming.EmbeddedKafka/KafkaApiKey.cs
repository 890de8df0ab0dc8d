namespace Streaming.EmbeddedKafka;

/// <summary>Kafka protocol request types, for injecting per-request errors.</summary>
public enum KafkaApiKey : short
{
    Produce = 0,
    Fetch = 1,
    ListOffsets = 2,
    Metadata = 3,
    OffsetCommit = 8,
    OffsetFetch = 9,
    FindCoordinator = 10,
    JoinGroup = 11,
    Heartbeat = 12,
    SyncGroup = 14,
    InitProducerId = 22,
}
