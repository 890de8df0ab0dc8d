using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Streaming.Contracts;
using Streaming.Kafka;
using Streaming.Kafka.Clients;
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
    IRecordHandler handler,
    FailureRouter router,
    IEnumerable<IPartitionListener> listeners,
    Topology topology,
    IOptions<WorkerOptions> options,
    KafkaClientFactory clients,
    ILaneHold hold,
    WorkerTelemetry telemetry,
    BrokerLag lag,
    TimeProvider time,
    ILogger<LaneConsumer> logger) : BackgroundService
{
    private static readonly TimeSpan LagInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan SlotWait = TimeSpan.FromMilliseconds(200);

    private readonly WorkerOptions _options = options.Value;
    private readonly LaneTopics _lane = topology[options.Value.Lane];
    // Records taken and not yet settled (the memory bound), not deliveries: those are FairAdmission's.
    private readonly SemaphoreSlim _slots = new(options.Value.MaxBuffered, options.Value.MaxBuffered);
    private readonly PartitionFlow _flow = new(
        topology[options.Value.Lane].Main.Name, hold, time, TimeSpan.FromMilliseconds(options.Value.DrainTimeoutMs), logger, [.. listeners]);
    private readonly ProcessingAttempts _attempts = new(ProcessingAttempts.Default, ProcessingAttempts.DefaultBackoff, time, logger);
    private long _lagUpdatedAt;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stop)
    {
        var group = topology.ConsumerGroup(_lane.Lane);
        var topics = new[] { _lane.Main.Name }.Concat(_lane.RetryTiers.Select(t => t.Name)).ToArray();
        var consumer = Build(group);
        var client = new ConsumerPartitionClient(consumer);
        consumer.Subscribe(topics);
        logger.Started(_lane.Lane.ToName(), string.Join(",", topics), group);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                _flow.StoreSettled(client);
                _flow.ApplyPauses(client, slotFree: _slots.CurrentCount > 0);
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

                if (_flow.DeferIfNotDue(client, record.TopicPartitionOffset, RetryState.NotBeforeOf(record.Message.Headers)))
                {
                    continue;
                }

                if (!_slots.Wait(SlotWait, stop))
                {
                    _flow.Saturated(client, record.TopicPartitionOffset);
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
            Shutdown(consumer, client);
        }
    }

    private IConsumer<string?, byte[]> Build(string group) =>
        clients.Consumer<string?, byte[]>(new ConsumerConfig
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
        })
        .SetPartitionsAssignedHandler((_, partitions) =>
        {
            _flow.Assigned(partitions);
            logger.Assigned(string.Join(",", partitions));
        })
        .SetPartitionsRevokedHandler((c, partitions) => Release(c, partitions.Select(p => p.TopicPartition).ToArray(), commit: true))
        .SetPartitionsLostHandler((c, partitions) => Release(c, partitions.Select(p => p.TopicPartition).ToArray(), commit: false))
        .Build();

    private void Dispatch(ConsumeResult<string?, byte[]> record)
    {
        if (_flow.WorkOf(record.TopicPartition) is not { } work)
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
                _flow.Settle(work, record.Offset.Value, record.Message.Key, t);
            }
        }, TaskScheduler.Default);
    }

    private async Task RunAfterAsync(Task previous, ConsumeResult<string?, byte[]> record, CancellationToken ct)
    {
        // Per-key order: wait for this key's previous event, whatever became of it.
        await previous.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        await _attempts.RunAsync(record, c => handler.HandleAsync(record, c), (e, attempts, c) =>
        {
            var state = RetryState.From(record, _lane);
            var eventId = RetryState.Header(record.Message.Headers, HeaderNames.EventId);
            return router.DeadLetterAsync(record, state, eventId, DeadLetterReasons.ProcessingError, state.Attempts, null,
                $"processing failed {attempts} times: {e.GetType().Name}: {e.Message}", c);
        }, ct);
    }

    private void UpdateLag(IConsumer<string?, byte[]> consumer)
    {
        if (time.GetElapsedTime(_lagUpdatedAt) < LagInterval)
        {
            return;
        }

        _lagUpdatedAt = time.GetTimestamp();
        lag.Track(_flow.Partitions, consumer.Position);
    }

    /// <summary>Revoked (commit what is settled) or lost (commit nothing): let go of partitions.</summary>
    private void Release(IConsumer<string?, byte[]> consumer, IReadOnlyCollection<TopicPartition> partitions, bool commit)
    {
        var offsets = _flow.Release(new ConsumerPartitionClient(consumer), partitions, commit);
        lag.Forget(partitions);

        if (commit)
        {
            logger.Revoked(string.Join(",", partitions), string.Join(",", offsets.Select(o => o.ToString())));
        }
        else
        {
            logger.Lost(string.Join(",", partitions));
        }
    }

    private void Shutdown(IConsumer<string?, byte[]> consumer, IPartitionClient client)
    {
        var offsets = _flow.Shutdown(client);

        // Close() can hang in some rebalance paths: bound it, the group's session timeout covers the rest.
        var close = Task.Run(consumer.Close);
        if (close.Wait(TimeSpan.FromSeconds(10)))
        {
            consumer.Dispose();
        }

        logger.Stopped(string.Join(",", offsets.Select(o => o.ToString())));
    }
}
