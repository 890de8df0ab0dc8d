using Confluent.Kafka;

namespace Streaming.Worker.Consuming;

/// <summary>
/// The events under way on one partition. Events of one key run one after another (per-key order);
/// different keys run concurrently. The committable offset is the lowest one not yet settled, so a
/// crash re-delivers only what was in flight. Touched by the poll thread only.
/// </summary>
internal sealed class PartitionWork(TopicPartition partition)
{
    private readonly SortedSet<long> _inFlight = [];
    private readonly Dictionary<long, Task> _tasks = [];
    private readonly Dictionary<string, Task> _keyTails = [];
    private long _nextOffset = -1;
    private long _storedOffset = -1;

    public TopicPartition Partition { get; } = partition;

    /// <summary>Cancelled when the partition is revoked, lost or the worker stops.</summary>
    public CancellationTokenSource Cancellation { get; } = new();

    public IReadOnlyCollection<Task> Pending => _tasks.Values;

    public Task Start(ConsumeResult<string?, byte[]> record, Func<Task, Task> runAfter)
    {
        var offset = record.Offset.Value;
        var key = record.Message.Key;
        var previous = key is not null && _keyTails.TryGetValue(key, out var tail) ? tail : Task.CompletedTask;
        var task = runAfter(previous);
        _inFlight.Add(offset);
        _tasks[offset] = task;
        _nextOffset = offset + 1;
        if (key is not null)
        {
            _keyTails[key] = task;
        }

        return task;
    }

    public void Settled(long offset, string? key, Task task)
    {
        _inFlight.Remove(offset);
        _tasks.Remove(offset);
        if (key is not null && _keyTails.TryGetValue(key, out var tail) && tail == task)
        {
            _keyTails.Remove(key);
        }
    }

    /// <summary>The offset to commit (the next one to read) if it moved since last asked, else null.</summary>
    public TopicPartitionOffset? TakeCommittable()
    {
        if (_nextOffset < 0)
        {
            return null;
        }

        var committable = _inFlight.Count > 0 ? _inFlight.Min : _nextOffset;
        if (committable == _storedOffset)
        {
            return null;
        }

        _storedOffset = committable;
        return new TopicPartitionOffset(Partition, committable);
    }

    public TopicPartitionOffset? Committable =>
        _nextOffset < 0 ? null : new TopicPartitionOffset(Partition, _inFlight.Count > 0 ? _inFlight.Min : _nextOffset);
}
