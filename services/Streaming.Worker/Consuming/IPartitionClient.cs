using Confluent.Kafka;

namespace Streaming.Worker.Consuming;

/// <summary>
/// The few consumer calls the pause and commit policy makes, so that <see cref="PartitionFlow"/> can be
/// tested without a broker (a fake records the calls).
/// </summary>
internal interface IPartitionClient
{
    void Pause(IReadOnlyList<TopicPartition> partitions);

    void Resume(IReadOnlyList<TopicPartition> partitions);

    void Seek(TopicPartitionOffset position);

    /// <summary>Throws a <see cref="KafkaException"/> with Local_State when the partition is no longer assigned.</summary>
    void StoreOffset(TopicPartitionOffset offset);

    void Commit(IReadOnlyList<TopicPartitionOffset> offsets);
}

/// <summary>The real consumer behind <see cref="IPartitionClient"/>.</summary>
internal sealed class ConsumerPartitionClient(IConsumer<string?, byte[]> consumer) : IPartitionClient
{
    public void Pause(IReadOnlyList<TopicPartition> partitions) => consumer.Pause(partitions);

    public void Resume(IReadOnlyList<TopicPartition> partitions) => consumer.Resume(partitions);

    public void Seek(TopicPartitionOffset position) => consumer.Seek(position);

    public void StoreOffset(TopicPartitionOffset offset) => consumer.StoreOffset(offset);

    public void Commit(IReadOnlyList<TopicPartitionOffset> offsets) => consumer.Commit(offsets);
}
