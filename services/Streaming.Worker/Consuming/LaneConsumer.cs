using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Streaming.Contracts;
using Streaming.Kafka;
using Streaming.Kafka.Clients;
using Streaming.Worker.Processing;
using Streaming.Worker.Telemetry;

namespace Streaming.Worker.Consuming;

/// <summary>
/// One topic of the lane (its main topic or one retry tier): a member of the lane's group subscribed to
/// that topic alone (see <see cref="LaneConsumers"/> for why one per topic). The poll loop runs on its own
/// thread and never waits on HTTP; deliveries run concurrently, bounded by the process's
/// <see cref="LaneSlots"/> (WORKER_MAX_IN_FLIGHT, shared with the lane's other consumers). Partitions are
/// paused, never slept on: a retry tier's partition until its head record is due, every partition while
/// the endpoint's circuit is open or no slot frees up. Offsets are stored only for settled events and
/// committed on revocation and shutdown.
/// </summary>
internal sealed class LaneConsumer(
    string topic,
    IPartitionListener listeners,
    IRecordHandler handler,
    FailureRouter router,
    Topology topology,
    IOptions<WorkerOptions> options,
    KafkaClientFactory clients,
    ILaneHold hold,
    LaneSlots slots,
    WorkerTelemetry telemetry,
    BrokerLag lag,
    TimeProvider time,
    ILogger<LaneConsumer> logger)
{
    private static readonly TimeSpan LagInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan SlotWait = TimeSpan.FromMilliseconds(200);

    private readonly WorkerOptions _options = options.Value;
    private readonly LaneTopics _lane = topology[options.Value.Lane];
    private readonly PartitionFlow _flow = new(
        topology[options.Value.Lane].Main.Name, hold, time, TimeSpan.FromMilliseconds(options.Value.DrainTimeoutMs), logger, [listeners]);
    private readonly ProcessingAttempts _attempts = new(ProcessingAttempts.Default, ProcessingAttempts.DefaultBackoff, time, logger);
    private long _lagUpdatedAt;

    private IConsumer<string?, byte[]>? _consumer;
    private IReadOnlyList<TopicPartitionOffset> _committed = [];

    /// <summary>
    /// The poll loop, on the caller's (dedicated) thread, until <paramref name="stop"/>; then drains and commits
    /// what is settled, but stays in the group until <see cref="Close"/>.
    /// </summary>
    public void Run(CancellationToken stop)
    {
        var group = topology.ConsumerGroup(_lane.Lane);
        var consumer = _consumer = Build(group);
        var client = new ConsumerPartitionClient(consumer);
        consumer.Subscribe(topic);
        logger.Started(_lane.Lane.ToName(), topic, group);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                _flow.StoreSettled(client);
                _flow.ApplyPauses(client, slotFree: slots.AnyFree);
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

                if (!slots.Wait(SlotWait, stop))
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
            _committed = _flow.Shutdown(client);
        }
    }

    private IConsumer<string?, byte[]> Build(string group) =>
        clients.Consumer<string?, byte[]>(new ConsumerConfig
        {
            GroupId = group,
            // Which topic a member reads shows in the group's member list.
            ClientId = $"{group}-{Environment.MachineName}-{topic}",
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
            slots.Release();
            return;
        }

        telemetry.Consumed();
        telemetry.InFlightChanged(1);
        var token = work.Cancellation.Token;
        var keyWaiting = false;
        var task = work.Start(record, previous =>
        {
            keyWaiting = !previous.IsCompleted;
            return RunAfterAsync(previous, record, token);
        });
        if (keyWaiting)
        {
            slots.ToKeyWaiting();
        }

        task.ContinueWith(t =>
        {
            telemetry.InFlightChanged(-1);
            if (keyWaiting)
            {
                slots.ReleaseKeyWaiting();
            }
            else
            {
                slots.Release();
            }

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

    /// <summary>Leaves the group, after <see cref="Run"/> has returned.</summary>
    public void Close()
    {
        if (_consumer is not { } consumer)
        {
            return;
        }

        // Close() can hang in some rebalance paths: bound it, the group's session timeout covers the rest.
        var close = Task.Run(consumer.Close);
        if (close.Wait(TimeSpan.FromSeconds(10)))
        {
            consumer.Dispose();
        }

        logger.Stopped(string.Join(",", _committed.Select(o => o.ToString())));
    }
}
