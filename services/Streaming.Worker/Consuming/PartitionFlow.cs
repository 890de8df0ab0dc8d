using System.Collections.Concurrent;
using Confluent.Kafka;
using Streaming.Worker.Telemetry;

namespace Streaming.Worker.Consuming;

/// <summary>
/// The lane's pause and commit policy, apart from the poll loop so that it is tested without a broker:
/// which partitions are assigned and what is under way on each (<see cref="PartitionWork"/>), which retry
/// partitions wait for their head record to fall due, when the whole lane holds (<see cref="ILaneHold"/>)
/// or is saturated, which offsets are stored once settled, and the drain and commit on revocation and
/// shutdown. Every method but <see cref="Settle"/> runs on the poll thread.
/// </summary>
internal sealed class PartitionFlow(
    string mainTopic, ILaneHold hold, TimeProvider time, TimeSpan drainTimeout, ILogger logger, IReadOnlyList<IPartitionListener>? listeners = null)
{
    private readonly IReadOnlyList<IPartitionListener> _listeners = listeners ?? [];
    private readonly ConcurrentQueue<Settlement> _settled = new();
    private readonly Dictionary<TopicPartition, PartitionWork> _work = [];
    private readonly Dictionary<TopicPartition, DateTimeOffset> _dueAt = [];
    private readonly HashSet<TopicPartition> _paused = [];
    private readonly Dictionary<TopicPartition, long> _committed = [];
    private bool _saturated;

    private readonly record struct Settlement(PartitionWork Work, long Offset, string? Key, Task Task);

    public IReadOnlyCollection<TopicPartition> Partitions => _work.Keys;

    public bool IsPaused(TopicPartition partition) => _paused.Contains(partition);

    public void Assigned(IReadOnlyCollection<TopicPartition> partitions)
    {
        foreach (var tp in partitions)
        {
            _work[tp] = new PartitionWork(tp);
        }

        foreach (var listener in _listeners)
        {
            listener.Assigned(partitions);
        }
    }

    /// <summary>The partition's work, or null when it was revoked between fetch and dispatch.</summary>
    public PartitionWork? WorkOf(TopicPartition partition) => _work.GetValueOrDefault(partition);

    /// <summary>Any thread: the event at this offset is settled; its offset is stored on the next poll.</summary>
    public void Settle(PartitionWork work, long offset, string? key, Task task) => _settled.Enqueue(new Settlement(work, offset, key, task));

    /// <summary>A retry record that is not yet due: rewind to it and pause its partition until it is.</summary>
    public bool DeferIfNotDue(IPartitionClient client, TopicPartitionOffset position, DateTimeOffset? notBefore)
    {
        if (position.Topic == mainTopic || notBefore is not { } due || due <= time.GetUtcNow())
        {
            return false;
        }

        client.Pause([position.TopicPartition]);
        _paused.Add(position.TopicPartition);
        client.Seek(position);
        _dueAt[position.TopicPartition] = due;
        return true;
    }

    /// <summary>
    /// Every slot stayed busy (slow endpoint, open circuit): give the record back and pause everything on the
    /// next poll, so the loop keeps polling and serves rebalances. Not paused for short waits: a pause drops
    /// librdkafka's prefetched records, which would then be fetched again.
    /// </summary>
    public void Saturated(IPartitionClient client, TopicPartitionOffset position)
    {
        client.Seek(position);
        _saturated = true;
    }

    /// <summary>Pauses what must wait (whole-lane hold, saturation, retry heads not due) and resumes the rest.</summary>
    public void ApplyPauses(IPartitionClient client, bool slotFree)
    {
        var now = time.GetUtcNow();
        var holdAll = hold.HoldAll;
        _saturated &= !slotFree;
        foreach (var (tp, due) in _dueAt.ToArray())
        {
            if (due <= now || !_work.ContainsKey(tp))
            {
                _dueAt.Remove(tp);
            }
        }

        var pause = new List<TopicPartition>();
        var resume = new List<TopicPartition>();
        foreach (var tp in _work.Keys)
        {
            var wanted = holdAll || _saturated || _dueAt.ContainsKey(tp);
            if (wanted && _paused.Add(tp))
            {
                pause.Add(tp);
            }
            else if (!wanted && _paused.Remove(tp))
            {
                resume.Add(tp);
            }
        }

        if (pause.Count > 0)
        {
            client.Pause(pause);
        }

        if (resume.Count > 0)
        {
            client.Resume(resume);
        }
    }

    /// <summary>Stores, for each partition still assigned, the offset below which everything is settled.</summary>
    public void StoreSettled(IPartitionClient client)
    {
        if (_settled.IsEmpty)
        {
            return;
        }

        var touched = new HashSet<PartitionWork>();
        while (_settled.TryDequeue(out var s))
        {
            s.Work.Settled(s.Offset, s.Key, s.Task);
            touched.Add(s.Work);
        }

        foreach (var work in touched)
        {
            if (_work.TryGetValue(work.Partition, out var current) && current == work && work.TakeCommittable() is { } offset)
            {
                try
                {
                    client.StoreOffset(offset);
                }
                catch (KafkaException e) when (e.Error.Code == ErrorCode.Local_State)
                {
                    // Revoked in the meantime: expected during rebalances.
                }
            }
        }
    }

    /// <summary>
    /// librdkafka keeps a partition's pause across a rebalance: one paused here (saturated, held, a retry head
    /// not due) and then revoked or lost would, when assigned back to this consumer, never be fetched again,
    /// while this policy no longer counts it as paused. So it is resumed before it is let go (still assigned
    /// inside the rebalance callback).
    /// </summary>
    private void ResumeBeforeLettingGo(IPartitionClient client, IReadOnlyCollection<TopicPartition> partitions)
    {
        var paused = partitions.Where(_paused.Contains).ToList();
        if (paused.Count == 0)
        {
            return;
        }

        try
        {
            client.Resume(paused);
        }
        catch (KafkaException e)
        {
            logger.ResumeFailed(string.Join(",", paused), e.Error.Reason);
        }
    }

    /// <summary>
    /// Revoked (drain, then commit what is settled) or lost (commit nothing: the new owner may already
    /// have moved on): lets go of the partitions and returns the offsets committed.
    /// </summary>
    public IReadOnlyList<TopicPartitionOffset> Release(IPartitionClient client, IReadOnlyCollection<TopicPartition> partitions, bool commit)
    {
        var works = partitions.Select(tp => _work.GetValueOrDefault(tp)).OfType<PartitionWork>().ToArray();
        var offsets = Finish(client, works, commit, "revocation");
        ResumeBeforeLettingGo(client, partitions);
        foreach (var tp in partitions)
        {
            _work.Remove(tp);
            _dueAt.Remove(tp);
            _paused.Remove(tp);
            _committed.Remove(tp);
        }

        foreach (var listener in _listeners)
        {
            listener.Released(partitions);
        }

        return offsets;
    }

    /// <summary>The worker stops: drain every partition, commit what is settled.</summary>
    public IReadOnlyList<TopicPartitionOffset> Shutdown(IPartitionClient client) => Finish(client, _work.Values.ToArray(), commit: true, "shutdown");

    private TopicPartitionOffset[] Finish(IPartitionClient client, PartitionWork[] works, bool commit, string when)
    {
        if (commit)
        {
            Drain(works);
        }

        foreach (var work in works)
        {
            work.Cancellation.Cancel();
        }

        StoreSettled(client);
        var offsets = commit ? works.Select(w => w.Committable).OfType<TopicPartitionOffset>().ToArray() : [];
        // Only what moved since this flow last committed it: leaving the group revokes what shutdown has just
        // committed, and committing it again is a round trip at best, refused during the rebalance at worst.
        var moved = offsets.Where(o => !_committed.TryGetValue(o.TopicPartition, out var c) || c != o.Offset.Value).ToArray();
        if (moved.Length > 0)
        {
            try
            {
                client.Commit(moved);
                foreach (var o in moved)
                {
                    _committed[o.TopicPartition] = o.Offset.Value;
                }
            }
            catch (KafkaException e)
            {
                logger.CommitFailed(when, e.Error.Reason, e);
            }
        }

        return offsets;
    }

    /// <summary>Waits, bounded, for the partitions' deliveries under way to settle.</summary>
    private void Drain(IEnumerable<PartitionWork> works)
    {
        var pending = works.SelectMany(w => w.Pending).ToArray();
        if (pending.Length > 0)
        {
            Task.WaitAny(Task.WhenAll(pending), Task.Delay(drainTimeout, time));
        }
    }
}
