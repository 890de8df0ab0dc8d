using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Streaming.Contracts;
using Streaming.Kafka;
using Streaming.Worker.Processing;

namespace Streaming.Worker.Ordering;

/// <summary>
/// ORDERING=key. When an event of key K goes to a retry tier it becomes the head of K's chain; the later
/// events of K join the chain (header order-seq) and are forwarded, without an attempt, into the tier where
/// the head waits, with the head's not-before. So all pending events of K sit in one retry partition, head
/// first, and the tier's own order keeps K's order. When the head moves on (another tier), the followers
/// behind it follow it there; when it is delivered or dead-lettered, the next one is the head. Once the
/// whole chain is settled, the main partition's owner releases K. State: <see cref="OrderStateStore"/>.
/// A read that is late can only send a follower to a tier the head already left, which forwards it again
/// (delay, never reordering); a key is blocked only by the replica that owns its main partition.
/// </summary>
public sealed class KeyOrder(
    OrderStateStore store,
    FailureRouter router,
    OrderingMetrics metrics,
    Topology topology,
    IOptions<WorkerOptions> options,
    IOptions<OrderingOptions> ordering,
    TimeProvider time,
    ILogger<KeyOrder> logger)
{
    private readonly LaneTopics _lane = topology[options.Value.Lane];
    private readonly int _maxBlocked = ordering.Value.MaxBlocked;
    private readonly KeyLocks _locks = new();

    /// <summary>
    /// How long a follower found out of turn in its head's own tier waits before it is read again: long
    /// enough not to circle through the tier while its predecessor is forwarded from another one, short
    /// against any retry delay.
    /// </summary>
    internal static readonly TimeSpan OutOfTurnPause = TimeSpan.FromMilliseconds(500);

    public async Task<ProcessingOutcome> HandleAsync(
        ConsumeResult<string?, byte[]> record, Func<ConsumeResult<string?, byte[]>, CancellationToken, Task<ProcessingOutcome>> process, CancellationToken ct)
    {
        if (record.Message.Key is not { } key)
        {
            return await process(record, ct);
        }

        await store.Ready.WaitAsync(ct);
        if (record.Topic == _lane.Main.Name)
        {
            return await FromMainAsync(key, record, process, ct);
        }

        if (Header(record, HeaderNames.OrderChain) is not { } chain || Number(record, HeaderNames.OrderSeq) is not { } seq)
        {
            return await process(record, ct);
        }

        return await InTierAsync(key, chain, (int)seq, record, process, ct);
    }

    /// <summary>Releases a key whose chain is settled (called by the store's sweep for owned keys).</summary>
    public async Task ReleaseIfSettledAsync(string key, CancellationToken ct)
    {
        using var held = await _locks.EnterAsync(key, ct);
        if (store.Block(key) is { } block && store.Progress(key, block.Chain) is { } p && p.Done >= block.Seq)
        {
            await ReleaseAsync(key, ct);
        }
    }

    private async Task<ProcessingOutcome> FromMainAsync(
        string key, ConsumeResult<string?, byte[]> record, Func<ConsumeResult<string?, byte[]>, CancellationToken, Task<ProcessingOutcome>> process, CancellationToken ct)
    {
        var eventId = Header(record, HeaderNames.EventId) ?? "";
        // Most keys are not blocked: no lock then. Only this key's main partition owner (here, one event of
        // the key at a time) ever blocks it, so the answer cannot change under our feet.
        using (var held = store.Block(key) is null ? null : await _locks.EnterAsync(key, ct))
        {
            if (store.Block(key) is { } block)
            {
                var progress = store.Progress(key, block.Chain);
                var done = progress?.Done ?? 0;
                if (done >= block.Seq)
                {
                    await ReleaseAsync(key, ct);
                }
                else if (block.Chain == eventId)
                {
                    // The head itself, read again after a crash: it is already in its chain.
                    return ProcessingOutcome.Dropped;
                }
                else if (block.Seq - done - 1 >= _maxBlocked)
                {
                    // Bounded: the key's events wait in Kafka, but a head that fails for hours must not
                    // collect a day of the conversation behind it. These go to the DLQ, to be replayed.
                    var state = RetryState.From(record, _lane);
                    return await router.DeadLetterAsync(record, state, eventId, DeadLetterReasons.OrderBlocked, state.Attempts, null,
                        $"{block.Seq - done - 1} events of this key already wait behind {block.Chain} (ORDERING_MAX_BLOCKED {_maxBlocked})", ct);
                }
                else
                {
                    var (tier, notBefore) = progress is null ? (block.Tier, block.NotBefore) : (progress.Tier, progress.NotBefore);
                    SetHeader(record, HeaderNames.OrderChain, block.Chain);
                    SetHeader(record, HeaderNames.OrderSeq, (block.Seq + 1).ToString(CultureInfo.InvariantCulture));
                    await router.FollowAsync(record, tier, notBefore, ct);
                    await store.WriteBlockAsync(key, block with { Seq = block.Seq + 1 }, ct);
                    metrics.Followed();
                    logger.Followed(eventId, block.Chain, tier);
                    return new ProcessingOutcome(OutcomeKind.Retried, tier, notBefore);
                }
            }
        }

        // Not blocked: attempted as without ordering; if it goes to a tier, it heads a new chain.
        SetHeader(record, HeaderNames.OrderChain, eventId);
        SetHeader(record, HeaderNames.OrderSeq, "1");
        var outcome = await process(record, ct);
        if (outcome is { Kind: OutcomeKind.Retried, Topic: { } headTier, NotBefore: { } due })
        {
            using var held = await _locks.EnterAsync(key, ct);
            await store.WriteBlockAsync(key, new ChainBlock(eventId, 1, record.Partition.Value, headTier, due), ct);
            metrics.Blocked();
        }

        return outcome;
    }

    private async Task<ProcessingOutcome> InTierAsync(
        string key, string chain, int seq, ConsumeResult<string?, byte[]> record,
        Func<ConsumeResult<string?, byte[]>, CancellationToken, Task<ProcessingOutcome>> process, CancellationToken ct)
    {
        if (store.Block(key)?.Chain != chain || Unexpected(key, chain, seq, record.Topic))
        {
            // What this replica knows may be a little behind what others wrote: read up to now once.
            await store.CatchUpBoundedAsync(ct);
        }

        if (store.Block(key) is not { } block || block.Chain != chain)
        {
            // Not (or no longer) the key's chain, e.g. a copy left by a crash after its chain was released.
            return await process(record, ct);
        }

        var progress = store.Progress(key, chain);
        var done = progress?.Done ?? 0;
        if (seq <= done)
        {
            return ProcessingOutcome.Dropped; // settled already: a copy written twice around a crash
        }

        var (headTier, headDue) = progress is null ? (block.Tier, block.NotBefore) : (progress.Tier, progress.NotBefore);
        if (seq > done + 1)
        {
            // Not the head: never attempted, whatever tier it is in. Even in the head's own tier it need not
            // sit behind its predecessors: a follower's first failure puts it back into the tier it was read
            // from, behind the followers still there; and while the head's old tier still forwards the older
            // followers, the main topic's owner already sends newer ones straight into the head's new tier.
            // So it goes behind them again (delay, never reordering); when that is its own tier, not before a
            // short pause, so that it waits for a predecessor still on its way rather than circling.
            var due = headTier == record.Topic ? Max(headDue, time.GetUtcNow() + OutOfTurnPause) : headDue;
            await router.FollowAsync(record, headTier, due, ct);
            metrics.Followed();
            logger.Followed(Header(record, HeaderNames.EventId) ?? "?", chain, headTier);
            return new ProcessingOutcome(OutcomeKind.Retried, headTier, due);
        }

        // The chain's head: every event before it is settled.
        var version = Math.Max(progress?.Version ?? 0, Number(record, HeaderNames.OrderVersion) ?? 0) + 1;
        SetHeader(record, HeaderNames.OrderVersion, version.ToString(CultureInfo.InvariantCulture));
        if (progress?.AfterDeadLetter is { } deadHead)
        {
            SetHeader(record, HeaderNames.AfterDeadLetter, deadHead);
        }

        var outcome = await process(record, ct);
        var next = outcome.Kind switch
        {
            OutcomeKind.Retried => new ChainProgress(chain, version, done, outcome.Topic!, outcome.NotBefore!.Value, progress?.AfterDeadLetter),
            OutcomeKind.DeadLettered => new ChainProgress(chain, version, seq, record.Topic, time.GetUtcNow(), Header(record, HeaderNames.EventId)),
            _ => new ChainProgress(chain, version, seq, record.Topic, time.GetUtcNow(), progress?.AfterDeadLetter),
        };
        await store.WriteProgressAsync(key, next, ct);
        return outcome;
    }

    /// <summary>
    /// A follower that finds its head neither settled nor elsewhere: news may be late (read up to now once
    /// before it goes behind again), or it is out of turn in the head's tier (see <see cref="InTierAsync"/>).
    /// </summary>
    private bool Unexpected(string key, string chain, int seq, string topic)
    {
        var block = store.Block(key);
        var progress = store.Progress(key, chain);
        var done = progress?.Done ?? 0;
        return block is not null && seq > done + 1 && (progress?.Tier ?? block.Tier) == topic;
    }

    private async Task ReleaseAsync(string key, CancellationToken ct)
    {
        await store.WriteProgressAsync(key, null, ct);
        await store.WriteBlockAsync(key, null, ct);
        metrics.Released();
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static string? Header(ConsumeResult<string?, byte[]> record, string name) => RetryState.Header(record.Message.Headers, name);

    private static long? Number(ConsumeResult<string?, byte[]> record, string name) =>
        long.TryParse(Header(record, name), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;

    private static void SetHeader(ConsumeResult<string?, byte[]> record, string name, string value)
    {
        record.Message.Headers ??= [];
        record.Message.Headers.Remove(name);
        record.Message.Headers.Add(name, Encoding.UTF8.GetBytes(value));
    }
}
