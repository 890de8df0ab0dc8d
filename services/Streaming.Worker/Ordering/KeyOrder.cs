using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Streaming.Contracts;
using Streaming.Kafka;
using Streaming.Worker.Consuming;
using Streaming.Worker.Processing;

namespace Streaming.Worker.Ordering;

/// <summary>
/// ORDERING=key, the I/O around <see cref="OrderState"/>. A conversation is one business phone number id and
/// one customer (<see cref="ChainKey"/>). When an event of a conversation goes to a retry tier it becomes the
/// head of the conversation's chain; its later events join the chain (header order-seq) and are forwarded,
/// without an attempt, into the tier where the head waits, with the head's not-before. So all pending events
/// of the conversation sit in one retry partition, head first, and the tier's own order keeps their order.
/// When the head moves on (another tier), the followers behind it follow it there; when it ends in any way
/// (delivered, dead-lettered for any reason, settled without delivery), the next one is the head. Once the
/// whole chain is settled, the main partition's owner releases the conversation. State:
/// <see cref="OrderStateStore"/>. A read that is late can only send a follower to a tier the head already
/// left, which forwards it again (delay, never reordering); a conversation is blocked only by the replica that
/// owns its main partition, under its epoch, so a previous owner's late writes are fenced.
/// </summary>
public sealed class KeyOrder(
    OrderStateStore store,
    FailureRouter router,
    OrderingMetrics metrics,
    Topology topology,
    IOptions<WorkerOptions> options,
    TimeProvider time,
    ILogger<KeyOrder> logger)
{
    private readonly LaneTopics _lane = topology[options.Value.Lane];
    private readonly KeyLocks _locks = new();
    private readonly ConcurrentDictionary<TopicPartitionOffset, int> _headFailures = new();

    /// <summary>
    /// How long a follower found out of turn in its head's own tier waits before it is read again: long
    /// enough not to circle through the tier while its predecessor is forwarded from another one, short
    /// against any retry delay.
    /// </summary>
    internal static readonly TimeSpan OutOfTurnPause = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Settles <paramref name="record"/> in its conversation's order: attempts it through
    /// <paramref name="process"/> when it is its conversation's next event, otherwise forwards it behind the
    /// head, dead-letters it (order-blocked) or drops it, counted, as a duplicate. Headers set for what runs
    /// after (order-chain, order-seq, order-version, after-dead-letter) are on the record when
    /// <paramref name="process"/> is called.
    /// </summary>
    public async Task<ProcessingOutcome> HandleAsync(
        ConsumeResult<string?, byte[]> record, EventEnvelope envelope,
        Func<ConsumeResult<string?, byte[]>, CancellationToken, Task<ProcessingOutcome>> process, CancellationToken ct)
    {
        if (ChainKey.Of(envelope) is not { } key)
        {
            return await process(record, ct);
        }

        await store.Ready.WaitAsync(ct);
        if (record.Topic == _lane.Main.Name)
        {
            return await FromMainAsync(key, envelope.EventId, record, process, ct);
        }

        if (Header(record, HeaderNames.OrderChain) is not { } chain || Number(record, HeaderNames.OrderSeq) is not { } seq)
        {
            return await process(record, ct);
        }

        return await InTierAsync(key, chain, (int)seq, envelope.EventId, record, process, ct);
    }

    /// <summary>Releases a conversation whose chain is settled (called by the store's sweep for owned ones).</summary>
    public async Task ReleaseIfSettledAsync(string key, CancellationToken ct)
    {
        using var held = await _locks.EnterAsync(key, ct);
        if (store.State.IsSettled(key))
        {
            await ReleaseAsync(key, ct);
        }
    }

    private async Task<ProcessingOutcome> FromMainAsync(
        string key, string eventId, ConsumeResult<string?, byte[]> record,
        Func<ConsumeResult<string?, byte[]>, CancellationToken, Task<ProcessingOutcome>> process, CancellationToken ct)
    {
        // A replay from the DLQ brings back the order headers of its first journey: they name another
        // chain's state and are never read from the main topic.
        RemoveHeader(record, HeaderNames.AfterDeadLetter);
        RemoveHeader(record, HeaderNames.OrderVersion);
        var state = store.State;

        // Most conversations are not blocked: no lock then. Only the main partition's owner (here, one event
        // of the conversation at a time) ever blocks one, so the answer cannot change under our feet.
        using (var held = state.Block(key) is null ? null : await _locks.EnterAsync(key, ct))
        {
            switch (state.OnMain(key, record.Partition.Value, record.Offset.Value))
            {
                case MainDecision.Drop drop:
                    return NotDelivered(eventId, drop.Reason, drop.Chain);
                case MainDecision.OrderBlocked blocked:
                {
                    // Bounded: the conversation's events wait in Kafka, but a head that fails for hours must not
                    // collect a day of the conversation behind it. These go to the DLQ, to be replayed, with the
                    // destination of their business so that `dlq replay --destination` finds them.
                    if (blocked.Block.Destination is { } destination)
                    {
                        SetHeader(record, HeaderNames.Destination, destination);
                    }

                    var retry = RetryState.From(record, _lane);
                    return await router.DeadLetterAsync(record, retry, eventId, DeadLetterReasons.OrderBlocked, retry.Attempts, null,
                        $"{blocked.Waiting} events of this conversation already wait behind {blocked.Block.Chain} (ORDERING_MAX_BLOCKED)", ct);
                }

                case MainDecision.Follow follow:
                    SetHeader(record, HeaderNames.OrderChain, follow.Block.Chain);
                    SetHeader(record, HeaderNames.OrderSeq, follow.Seq.ToString(CultureInfo.InvariantCulture));
                    await router.FollowAsync(record, follow.Tier, follow.NotBefore, ct);
                    // A crash here re-reads the record and forwards it again with the same seq: the second
                    // copy is dropped as already settled. Once the block is written, a re-read is a duplicate.
                    await store.WriteBlockAsync(key, follow.Block, ct);
                    metrics.Followed();
                    logger.Followed(eventId, follow.Block.Chain, follow.Tier);
                    return new ProcessingOutcome(OutcomeKind.Retried, follow.Tier, follow.NotBefore);
                case MainDecision.Attempt { ReleaseFirst: true }:
                    await ReleaseAsync(key, ct);
                    break;
            }
        }

        // Not blocked: attempted as without ordering; if it goes to a tier, it heads a new chain.
        SetHeader(record, HeaderNames.OrderChain, eventId);
        SetHeader(record, HeaderNames.OrderSeq, "1");
        var outcome = await process(record, ct);
        if (outcome is { Kind: OutcomeKind.Retried, Topic: { } headTier, NotBefore: { } due })
        {
            using var held = await _locks.EnterAsync(key, ct);
            await store.WriteBlockAsync(key, state.HeadBlocked(eventId, record.Partition.Value, record.Offset.Value, headTier, due,
                outcome.Destination ?? Header(record, HeaderNames.Destination)), ct);
            metrics.Blocked();
        }

        return outcome;
    }

    private async Task<ProcessingOutcome> InTierAsync(
        string key, string chain, int seq, string eventId, ConsumeResult<string?, byte[]> record,
        Func<ConsumeResult<string?, byte[]>, CancellationToken, Task<ProcessingOutcome>> process, CancellationToken ct)
    {
        var state = store.State;
        if (state.NeedsCatchUp(key, chain, seq, record.Topic))
        {
            // What this replica knows may be a little behind what others wrote: read up to now once.
            await store.CatchUpBoundedAsync(ct);
        }

        switch (state.OnTier(key, chain, seq, eventId, record.Topic, Number(record, HeaderNames.OrderVersion), time.GetUtcNow(), OutOfTurnPause))
        {
            case TierDecision.Drop drop:
                return NotDelivered(eventId, drop.Reason, chain);
            case TierDecision.Follow follow:
                await router.FollowAsync(record, follow.Tier, follow.NotBefore, ct);
                metrics.Followed();
                logger.Followed(eventId, chain, follow.Tier);
                return new ProcessingOutcome(OutcomeKind.Retried, follow.Tier, follow.NotBefore);
            case TierDecision.Head head:
            {
                SetHeader(record, HeaderNames.OrderVersion, head.Version.ToString(CultureInfo.InvariantCulture));
                if (head.AfterDeadLetter is { } deadHead)
                {
                    SetHeader(record, HeaderNames.AfterDeadLetter, deadHead);
                }
                else
                {
                    RemoveHeader(record, HeaderNames.AfterDeadLetter);
                }

                var outcome = await AttemptHeadAsync(record, eventId, process, ct);
                var end = outcome.Kind switch
                {
                    OutcomeKind.Retried => HeadEnd.Retried,
                    OutcomeKind.DeadLettered => HeadEnd.DeadLettered,
                    _ => HeadEnd.Settled,
                };
                await store.WriteProgressAsync(key, OrderState.AfterHead(chain, seq, head, end, eventId, record.Topic, outcome.Topic, outcome.NotBefore, time.GetUtcNow()), ct);
                return outcome;
            }

            default:
                return await process(record, ct);
        }
    }

    /// <summary>
    /// The head's attempt. An exception is retried by the consumer as for any record; at its last try the
    /// head is dead-lettered here (processing-error) rather than by the consumer, so that the chain records
    /// its end and its followers move on instead of circulating behind it forever.
    /// </summary>
    private async Task<ProcessingOutcome> AttemptHeadAsync(
        ConsumeResult<string?, byte[]> record, string eventId,
        Func<ConsumeResult<string?, byte[]>, CancellationToken, Task<ProcessingOutcome>> process, CancellationToken ct)
    {
        var at = record.TopicPartitionOffset;
        try
        {
            var outcome = await process(record, ct);
            _headFailures.TryRemove(at, out _);
            return outcome;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var failures = _headFailures.AddOrUpdate(at, 1, (_, n) => n + 1);
            if (failures < ProcessingAttempts.Default)
            {
                throw;
            }

            _headFailures.TryRemove(at, out _);
            logger.HeadProcessingFailed(eventId, failures, e);
            var retry = RetryState.From(record, _lane);
            return await router.DeadLetterAsync(record, retry, eventId, DeadLetterReasons.ProcessingError, retry.Attempts, null,
                $"processing failed {failures} times: {e.GetType().Name}: {e.Message}", ct);
        }
    }

    private ProcessingOutcome NotDelivered(string eventId, string reason, string chain)
    {
        metrics.NotDelivered(reason);
        logger.NotDelivered(eventId, reason, chain);
        return ProcessingOutcome.Dropped;
    }

    private async Task ReleaseAsync(string key, CancellationToken ct)
    {
        if (store.State.Block(key) is { } block && await store.ReleaseAsync(key, block, ct))
        {
            metrics.Released();
        }
    }

    private static string? Header(ConsumeResult<string?, byte[]> record, string name) => RetryState.Header(record.Message.Headers, name);

    private static long? Number(ConsumeResult<string?, byte[]> record, string name) =>
        long.TryParse(Header(record, name), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;

    private static void RemoveHeader(ConsumeResult<string?, byte[]> record, string name) => record.Message.Headers?.Remove(name);

    private static void SetHeader(ConsumeResult<string?, byte[]> record, string name, string value)
    {
        record.Message.Headers ??= [];
        record.Message.Headers.Remove(name);
        record.Message.Headers.Add(name, Encoding.UTF8.GetBytes(value));
    }
}
