using Confluent.Kafka;
using Streaming.Worker.Processing;

namespace Streaming.Worker.Consuming;

/// <summary>
/// Settles one record (delivered, retried forward, dead-lettered, dropped); the consumer core runs it per
/// key in order and stores the offset once it completes. Ordering (Ordering/) is the lane's handler,
/// around <see cref="EventProcessor"/>.
/// </summary>
public interface IRecordHandler
{
    Task<ProcessingOutcome> HandleAsync(ConsumeResult<string?, byte[]> record, CancellationToken ct);
}

/// <summary>
/// Told by the consumer core which partitions this replica holds, so a capability can keep state for them
/// (ordering: which keys' main partitions it owns, and catching up on shared state before their records).
/// </summary>
public interface IPartitionListener
{
    void Assigned(IReadOnlyCollection<TopicPartition> partitions);

    void Released(IReadOnlyCollection<TopicPartition> partitions);
}
