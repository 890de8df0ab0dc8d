using Confluent.Kafka;

namespace Streaming.Worker.Consuming;

/// <summary>
/// The process's <see cref="IPartitionListener"/>s, told one assignment at a time. Each consumer of the lane
/// calls them from its own poll thread; taken one after another, a listener that starts work per assignment
/// (ordering's catch-up on its state topic) sees the latest assignment last, as with one consumer.
/// </summary>
internal sealed class SerializedListeners(IEnumerable<IPartitionListener> listeners) : IPartitionListener
{
    private readonly IPartitionListener[] _listeners = [.. listeners];
    private readonly Lock _lock = new();

    public void Assigned(IReadOnlyCollection<TopicPartition> partitions)
    {
        lock (_lock)
        {
            foreach (var listener in _listeners)
            {
                listener.Assigned(partitions);
            }
        }
    }

    public void Released(IReadOnlyCollection<TopicPartition> partitions)
    {
        lock (_lock)
        {
            foreach (var listener in _listeners)
            {
                listener.Released(partitions);
            }
        }
    }
}
