using System.Collections.Concurrent;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Streaming.Contracts;
using Streaming.Kafka;
using Streaming.Worker.Processing;
using Streaming.Worker.Telemetry;

namespace Streaming.Worker.Consuming;

/// <summary>
/// The lane's consumer: one group member reading the main topic and every retry tier. The poll loop
/// runs on its own thread and never waits on HTTP; deliveries run concurrently, bounded by
/// WORKER_MAX_IN_FLIGHT. Partitions are paused, never slept on: a retry tier's partition until its
/// head record is due, every partition while the endpoint's circuit is open or no slot frees up.
/// Offsets are stored only for settled events and committed on revocation and shutdown.
/// </summary>
public sealed class LaneConsumer(
    EventProcessor processor,
    Topology topology,
    IOptions<WorkerOptions> options,
    IOptions<KafkaOptions> kafka,
    ILaneHold hold,
    WorkerTelemetry telemetry,
    TimeProvider time,
    ILogger<LaneConsumer> logger) : BackgroundService
{
    private static readonly TimeSpan LagInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan SlotWait = TimeSpan.FromMilliseconds(200);

    private readonly WorkerOptions _options = options.Value;
    private readonly TimeSpan _breakDuration = TimeSpan.FromSeconds(options.Value.CircuitBreakSeconds);
    private readonly LaneTopics _lane = topology[options.Value.Lane];
    private readonly SemaphoreSlim _slots = new(options.Value.MaxInFlight, options.Value.MaxInFlight);
    private readonly ConcurrentQueue<Settlement> _settled = new();
    private readonly Dictionary<TopicPartition, PartitionWork> _work = [];
    private readonly Dictionary<TopicPartition, DateTimeOffset> _dueAt = [];
    private readonly HashSet<TopicPartition> _paused = [];
    private bool _circuitWasOpen;
    private bool _saturated;
    private DateTimeOffset _circuitOpenedAt;
    private long _lagUpdatedAt;

    private readonly record struct Settlement(PartitionWork Work, long Offset, string? Key, Task Task);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stop)
    {
        var group = topology.ConsumerGroup(_lane.Lane);
        var topics = new[] { _lane.Main.Name }.Concat(_lane.RetryTiers.Select(t => t.Name)).ToArray();
        var consumer = Build(group);
        consumer.Subscribe(topics);
        logger.Started(_lane.Lane.ToName(), string.Join(",", topics), group);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                StoreSettled(consumer);
                ApplyPauses(consumer);
                UpdateLag(consumer);

                ConsumeResult<string?, byte[]>? record;
                try
                {
                    record = consumer.Consume(TimeSpan.FromMilliseconds(100));
                }
                catch (ConsumeException e)
                {
                    logger.ConsumeError(e.Error.Reason);
                    if (e.Error.IsFatal)
                    {
                        throw;
                    }

                    continue;
                }

                if (record is null || record.IsPartitionEOF)
                {
                    continue;
                }

                if (DeferIfNotDue(consumer, record))
                {
                    continue;
                }

                if (!_slots.Wait(SlotWait, stop))
                {
                    // Every slot stayed busy (slow endpoint, open circuit): give the record back and
                    // pause, so the loop keeps polling and serves rebalances. Not paused for short waits:
                    // a pause drops librdkafka's prefetched records, which would then be fetched again.
                    consumer.Seek(record.TopicPartitionOffset);
                    _saturated = true;
                    continue;
                }

                Dispatch(record);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            Shutdown(consumer);
        }
    }

    private IConsumer<string?, byte[]> Build(string group) =>
        new ConsumerBuilder<string?, byte[]>(kafka.Value.Apply(new ConsumerConfig
        {
            GroupId = group,
            ClientId = $"{group}-{Environment.MachineName}",
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            // Offsets are stored by hand once an event is settled; librdkafka commits what is stored.
            EnableAutoOffsetStore = false,
            EnableAutoCommit = true,
            AutoCommitIntervalMs = 1000,
            SessionTimeoutMs = _options.SessionTimeoutMs,
            FetchWaitMaxMs = _options.FetchWaitMs,
            QueuedMaxMessagesKbytes = 16 * 1024,
        }))
        .SetPartitionsAssignedHandler((_, partitions) =>
        {
            foreach (var tp in partitions)
            {
                _work[tp] = new PartitionWork(tp);
            }

            logger.Assigned(string.Join(",", partitions));
        })
        .SetPartitionsRevokedHandler((c, partitions) => Release(c, partitions.Select(p => p.TopicPartition).ToArray(), commit: true))
        .SetPartitionsLostHandler((c, partitions) => Release(c, partitions.Select(p => p.TopicPartition).ToArray(), commit: false))
        .SetErrorHandler((_, e) => logger.KafkaClient(e.Reason))
        .SetLogHandler((_, m) =>
        {
            if (m.Level <= SyslogLevel.Warning)
            {
                logger.KafkaClient(m.Message);
            }
        })
        .Build();

    /// <summary>A retry record that is not yet due: rewind to it and pause its partition until it is.</summary>
    private bool DeferIfNotDue(IConsumer<string?, byte[]> consumer, ConsumeResult<string?, byte[]> record)
    {
        if (record.Topic == _lane.Main.Name || RetryState.NotBeforeOf(record.Message.Headers) is not { } notBefore || notBefore <= time.GetUtcNow())
        {
            return false;
        }

        consumer.Pause([record.TopicPartition]);
        _paused.Add(record.TopicPartition);
        consumer.Seek(record.TopicPartitionOffset);
        _dueAt[record.TopicPartition] = notBefore;
        return true;
    }

    private void Dispatch(ConsumeResult<string?, byte[]> record)
    {
        if (!_work.TryGetValue(record.TopicPartition, out var work))
        {
            // Revoked between fetch and dispatch: the new owner reads it from the committed offset.
            _slots.Release();
            return;
        }

        telemetry.Consumed();
        telemetry.InFlightChanged(1);
        var token = work.Cancellation.Token;
        var task = work.Start(record, previous => RunAfterAsync(previous, record, token));
        task.ContinueWith(t =>
        {
            telemetry.InFlightChanged(-1);
            _slots.Release();
            if (t.IsCompletedSuccessfully)
            {
                _settled.Enqueue(new Settlement(work, record.Offset.Value, record.Message.Key, t));
            }
        }, TaskScheduler.Default);
    }

    private async Task RunAfterAsync(Task previous, ConsumeResult<string?, byte[]> record, CancellationToken ct)
    {
        // Per-key order: wait for this key's previous event, whatever became of it.
        await previous.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                await processor.ProcessAsync(record, ct);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A bug, not an outcome: try again rather than commit past an unsettled event.
                logger.ConsumeError($"processing {record.TopicPartitionOffset} failed unexpectedly: {e.Message}");
                await Task.Delay(TimeSpan.FromSeconds(1), time, ct);
            }
        }
    }

    private void StoreSettled(IConsumer<string?, byte[]> consumer)
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
                    consumer.StoreOffset(offset);
                }
                catch (KafkaException e) when (e.Error.Code == ErrorCode.Local_State)
                {
                    // Revoked in the meantime: expected during rebalances.
                }
            }
        }
    }

    private void ApplyPauses(IConsumer<string?, byte[]> consumer)
    {
        var now = time.GetUtcNow();
        var circuitOpen = hold.HoldAll;
        if (circuitOpen != _circuitWasOpen)
        {
            _circuitWasOpen = circuitOpen;
            _circuitOpenedAt = now;
            logger.Circuit(circuitOpen ? "open" : "closed", circuitOpen ? "paused, events wait in Kafka" : "resumed");
        }

        // Polly only turns half-open when a call is attempted: after the break, let records in again
        // (at most WORKER_MAX_IN_FLIGHT, held in memory while the circuit stays open) so one can probe.
        var holdForCircuit = circuitOpen && now - _circuitOpenedAt < _breakDuration;
        _saturated &= _slots.CurrentCount == 0;
        var saturated = _saturated;
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
            var wanted = holdForCircuit || saturated || _dueAt.ContainsKey(tp);
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
            consumer.Pause(pause);
        }

        if (resume.Count > 0)
        {
            consumer.Resume(resume);
        }
    }

    private void UpdateLag(IConsumer<string?, byte[]> consumer)
    {
        if (time.GetElapsedTime(_lagUpdatedAt) < LagInterval)
        {
            return;
        }

        _lagUpdatedAt = time.GetTimestamp();
        foreach (var tp in _work.Keys)
        {
            var high = consumer.GetWatermarkOffsets(tp).High;
            var position = consumer.Position(tp);
            if (high != Offset.Unset && position != Offset.Unset)
            {
                telemetry.SetLag(tp, Math.Max(0, high.Value - position.Value));
            }
        }
    }

    /// <summary>Revoked (commit what is settled) or lost (commit nothing): let go of partitions.</summary>
    private void Release(IConsumer<string?, byte[]> consumer, IReadOnlyCollection<TopicPartition> partitions, bool commit)
    {
        var works = partitions.Select(tp => _work.GetValueOrDefault(tp)).OfType<PartitionWork>().ToArray();
        if (commit)
        {
            Drain(works);
        }

        foreach (var work in works)
        {
            work.Cancellation.Cancel();
        }

        StoreSettled(consumer);
        var offsets = commit ? works.Select(w => w.Committable).OfType<TopicPartitionOffset>().ToArray() : [];
        if (offsets.Length > 0)
        {
            try
            {
                consumer.Commit(offsets);
            }
            catch (KafkaException e)
            {
                logger.ConsumeError($"commit on revocation failed: {e.Error.Reason}");
            }
        }

        foreach (var tp in partitions)
        {
            _work.Remove(tp);
            _dueAt.Remove(tp);
            _paused.Remove(tp);
            telemetry.ForgetLag(tp);
        }

        if (commit)
        {
            logger.Revoked(string.Join(",", partitions), string.Join(",", offsets.Select(o => o.ToString())));
        }
        else
        {
            logger.Lost(string.Join(",", partitions));
        }
    }

    /// <summary>Waits, bounded, for the partitions' deliveries under way to settle.</summary>
    private void Drain(IEnumerable<PartitionWork> works)
    {
        var pending = works.SelectMany(w => w.Pending).ToArray();
        if (pending.Length > 0)
        {
            Task.WaitAny(Task.WhenAll(pending), Task.Delay(_options.DrainTimeoutMs));
        }
    }

    private void Shutdown(IConsumer<string?, byte[]> consumer)
    {
        Drain(_work.Values);
        foreach (var work in _work.Values)
        {
            work.Cancellation.Cancel();
        }

        StoreSettled(consumer);
        var offsets = _work.Values.Select(w => w.Committable).OfType<TopicPartitionOffset>().ToArray();
        try
        {
            if (offsets.Length > 0)
            {
                consumer.Commit(offsets);
            }
        }
        catch (KafkaException e)
        {
            logger.ConsumeError($"commit on shutdown failed: {e.Error.Reason}");
        }

        // Close() can hang in some rebalance paths: bound it, the group's session timeout covers the rest.
        var close = Task.Run(consumer.Close);
        if (close.Wait(TimeSpan.FromSeconds(10)))
        {
            consumer.Dispose();
        }

        logger.Stopped(string.Join(",", offsets.Select(o => o.ToString())));
    }
}
