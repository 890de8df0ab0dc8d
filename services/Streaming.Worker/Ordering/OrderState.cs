using System.Collections.Concurrent;

namespace Streaming.Worker.Ordering;

/// <summary>
/// The ORDERING=key state and every decision taken from it, with no I/O: what is known of each blocked
/// conversation (its <see cref="ChainBlock"/>, written by its main partition's owner, and its
/// <see cref="ChainProgress"/>, written by whoever holds its head), the owners' epochs, and the transitions.
/// <see cref="KeyOrder"/> does the reading and writing around it; <see cref="OrderStateStore"/> feeds it
/// what the order topic holds. Safe for concurrent use; one conversation is decided by one caller at a time.
/// </summary>
public sealed class OrderState(int maxBlocked)
{
    private readonly ConcurrentDictionary<string, ChainBlock> _blocks = new();
    private readonly ConcurrentDictionary<string, ChainProgress> _progress = new();
    private readonly ConcurrentDictionary<int, long> _claims = new();
    private readonly ConcurrentDictionary<string, Released> _released = new();

    public int BlockedKeys => _blocks.Count;

    public ChainBlock? Block(string key) => _blocks.GetValueOrDefault(key);

    /// <summary>The chain's progress, if what is known is about that chain.</summary>
    public ChainProgress? Progress(string key, string chain) => _progress.TryGetValue(key, out var p) && p.Chain == chain ? p : null;

    /// <summary>The epoch of the latest owner claim of the main partition (0: never claimed).</summary>
    public long Epoch(int mainPartition) => _claims.GetValueOrDefault(mainPartition);

    /// <summary>The epoch a new owner claims: above every claim known, and above the clock so that two owners whose claims cross in flight still differ.</summary>
    public long NextEpoch(int mainPartition, DateTimeOffset now) => Math.Max(Epoch(mainPartition) + 1, now.ToUnixTimeMilliseconds());

    /// <summary>Whether every event handed into the conversation's chain is settled (then its owner releases it).</summary>
    public bool IsSettled(string key) => Block(key) is { } block && Progress(key, block.Chain) is { } p && p.Done >= block.Seq;

    public IEnumerable<(string Key, ChainBlock Block)> SettledBlocks() =>
        _blocks.Where(b => IsSettled(b.Key)).Select(b => (b.Key, b.Value));

    // ---- What the order topic holds (own writes once acknowledged, others' as the tail reads them) ----

    public void ApplyClaim(OwnerClaim claim) =>
        _claims.AddOrUpdate(claim.MainPartition, claim.Epoch, (_, current) => Math.Max(current, claim.Epoch));

    /// <summary>
    /// Applies a block unless it is fenced: written under an epoch below the partition's latest claim (an
    /// earlier owner's write that landed after the new owner claimed), or below the conversation's block.
    /// Claims and blocks of one main partition share one order partition, so "after the claim" is exact.
    /// </summary>
    public bool ApplyBlock(string key, ChainBlock block)
    {
        if (block.Epoch < Epoch(block.MainPartition))
        {
            return false;
        }

        var applied = true;
        _blocks.AddOrUpdate(key, block, (_, current) =>
        {
            applied = block.Epoch >= current.Epoch;
            return applied ? block : current;
        });
        return applied;
    }

    /// <summary>
    /// A release (tombstone) of the conversation, fenced like a block. The main offset of the chain's last
    /// event is remembered for a while (<see cref="ForgetReleased"/>): a crash after the release but before
    /// the offsets were committed reads those events again, and they are duplicates, not new events.
    /// </summary>
    public bool ApplyRelease(string key, int mainPartition, long epoch, long lastOffset, DateTimeOffset at)
    {
        if (epoch < Epoch(mainPartition) || (Block(key) is { } current && current.Epoch > epoch))
        {
            return false;
        }

        _blocks.TryRemove(key, out _);
        _progress.TryRemove(key, out _);
        if (lastOffset >= 0)
        {
            _released.AddOrUpdate(key, new Released(mainPartition, lastOffset, at), (_, r) => r.LastOffset > lastOffset ? r : new Released(mainPartition, lastOffset, at));
        }

        return true;
    }

    /// <summary>
    /// The epoch a release by this replica is written under: its own claim, not the block's (the block may
    /// have been written by a previous owner, whose epoch is fenced now).
    /// </summary>
    public long ReleaseEpoch(ChainBlock block) => Math.Max(block.Epoch, Epoch(block.MainPartition));

    public void ForgetReleased(DateTimeOffset now, TimeSpan age)
    {
        foreach (var (key, released) in _released)
        {
            if (now - released.At > age)
            {
                _released.TryRemove(new KeyValuePair<string, Released>(key, released));
            }
        }
    }

    /// <summary>Several writers over time: within a chain, only a higher version (or the same version further on) replaces what is known.</summary>
    public void ApplyProgress(string key, ChainProgress progress) =>
        _progress.AddOrUpdate(key, progress, (_, current) =>
            current.Chain == progress.Chain
                ? (progress.Version > current.Version || (progress.Version == current.Version && progress.Done > current.Done) ? progress : current)
                : (_blocks.TryGetValue(key, out var b) && b.Chain == current.Chain ? current : progress));

    /// <summary>A progress tombstone clears only the chain it names: a late one never erases a newer chain's progress.</summary>
    public void ApplyProgressCleared(string key, string chain)
    {
        if (Progress(key, chain) is { } known)
        {
            _progress.TryRemove(new KeyValuePair<string, ChainProgress>(key, known));
        }
    }

    /// <summary>Progress of chains that have no block here and made no move for <paramref name="age"/>: a head's copy left after its release.</summary>
    public void ForgetStrays(DateTimeOffset now, TimeSpan age)
    {
        foreach (var (key, progress) in _progress)
        {
            if (Block(key)?.Chain != progress.Chain && now - progress.NotBefore > age)
            {
                _progress.TryRemove(new KeyValuePair<string, ChainProgress>(key, progress));
            }
        }
    }

    // ---- Decisions ----

    /// <summary>
    /// A record of the conversation read from the main topic, at <paramref name="offset"/> of
    /// <paramref name="partition"/>. A replay from the DLQ is such a record too, with its own new offset:
    /// it is never taken for the chain's own head, it joins the chain's tail (or is attempted at once when
    /// the conversation is not blocked) like any new event.
    /// </summary>
    public MainDecision OnMain(string key, int partition, long offset)
    {
        if (Block(key) is not { } block)
        {
            return _released.TryGetValue(key, out var released) && released.MainPartition == partition && offset <= released.LastOffset
                ? new MainDecision.Drop(NotDeliveredReasons.Duplicate, "")
                : new MainDecision.Attempt(ReleaseFirst: false);
        }

        var progress = Progress(key, block.Chain);
        var done = progress?.Done ?? 0;
        if (block.MainPartition == partition && offset <= block.LastOffset)
        {
            // Already handed into the chain (as its head or a follower), read again because its offset was
            // not committed before a crash or a move: forwarding it again would deliver it twice, and the
            // second time after later events.
            return new MainDecision.Drop(NotDeliveredReasons.Duplicate, block.Chain);
        }

        if (done >= block.Seq)
        {
            return new MainDecision.Attempt(ReleaseFirst: true);
        }

        var waiting = block.Seq - done - 1;
        if (waiting >= maxBlocked)
        {
            return new MainDecision.OrderBlocked(block, waiting);
        }

        var (tier, notBefore) = progress is null ? (block.Tier, block.NotBefore) : (progress.Tier, progress.NotBefore);
        var next = block with { Seq = block.Seq + 1, LastOffset = offset, Epoch = Math.Max(block.Epoch, Epoch(partition)) };
        return new MainDecision.Follow(next, next.Seq, tier, notBefore);
    }

    /// <summary>A record attempted from the main topic went to a retry tier: the block that makes it its conversation's head.</summary>
    public ChainBlock HeadBlocked(string eventId, int partition, long offset, string tier, DateTimeOffset notBefore, string? destination) =>
        new(eventId, 1, partition, tier, notBefore, Epoch(partition), offset, destination);

    /// <summary>
    /// Whether a chain member found in a tier should wait for the state to be read up to now before it is
    /// decided: its chain is not the one known, or it is out of turn in the tier where its head waits
    /// (news of its predecessor may be late).
    /// </summary>
    public bool NeedsCatchUp(string key, string chain, int seq, string topic)
    {
        if (Block(key) is not { } block || block.Chain != chain)
        {
            return true;
        }

        var progress = Progress(key, chain);
        return seq > (progress?.Done ?? 0) + 1 && (progress?.Tier ?? block.Tier) == topic;
    }

    /// <summary>
    /// A chain member (event <paramref name="eventId"/>, place <paramref name="seq"/> in <paramref name="chain"/>)
    /// read from the retry tier <paramref name="topic"/>. <paramref name="versionHeader"/>: the progress version
    /// it was moved with. <paramref name="outOfTurnPause"/>: how long a follower out of turn in its head's own
    /// tier waits before it is read again.
    /// </summary>
    public TierDecision OnTier(string key, string chain, int seq, string eventId, string topic, long? versionHeader, DateTimeOffset now, TimeSpan outOfTurnPause)
    {
        var progress = Progress(key, chain);
        var done = progress?.Done ?? 0;
        if (Block(key) is not { } block || block.Chain != chain)
        {
            if (seq <= done)
            {
                return new TierDecision.Drop(NotDeliveredReasons.AlreadySettled);
            }

            // The chain's first event, its block not visible here yet (the order partition slow, or written
            // just now): it is the head whatever else is known, so it is attempted and its end recorded, and
            // the chain settles when the block shows. A later member with no block known, after reading up to
            // now, belongs to a chain released already: a copy a crash left behind.
            return seq == done + 1 && (seq == 1 || progress is not null) ? Head(progress, done, versionHeader, eventId) : new TierDecision.Unchained();
        }

        if (seq <= done)
        {
            return new TierDecision.Drop(NotDeliveredReasons.AlreadySettled);
        }

        if (seq > done + 1)
        {
            // Not the head: never attempted, whatever tier it is in. Even in the head's own tier it need not
            // sit behind its predecessors: a follower's first failure puts it back into the tier it was read
            // from, behind the followers still there; and while the head's old tier still forwards the older
            // followers, the main topic's owner already sends newer ones straight into the head's new tier.
            // So it goes behind them again (delay, never reordering); when that is its own tier, not before a
            // short pause, so that it waits for a predecessor still on its way rather than circling.
            var (headTier, headDue) = progress is null ? (block.Tier, block.NotBefore) : (progress.Tier, progress.NotBefore);
            var due = headTier == topic ? Max(headDue, now + outOfTurnPause) : headDue;
            return new TierDecision.Follow(headTier, due);
        }

        return Head(progress, done, versionHeader, eventId);
    }

    /// <summary>
    /// The progress to write once the head's attempt ended: every end but a retry settles its place, so the
    /// next event becomes the head; a dead-lettered one (for any reason) is named to the events after it.
    /// </summary>
    public static ChainProgress AfterHead(string chain, int seq, TierDecision.Head head, HeadEnd end, string eventId, string topic, string? retryTier, DateTimeOffset? retryDue, DateTimeOffset now) =>
        end switch
        {
            HeadEnd.Retried => new ChainProgress(chain, head.Version, head.Done, retryTier!, retryDue!.Value, head.Known?.AfterDeadLetter),
            HeadEnd.DeadLettered => new ChainProgress(chain, head.Version, seq, topic, now, eventId),
            _ => new ChainProgress(chain, head.Version, seq, topic, now, head.Known?.AfterDeadLetter),
        };

    private static TierDecision.Head Head(ChainProgress? progress, int done, long? versionHeader, string eventId)
    {
        var version = Math.Max(progress?.Version ?? 0, versionHeader ?? 0) + 1;
        // A replayed event that itself was the dead-lettered head comes back at the chain's tail: it is not
        // told that it follows itself.
        var afterDeadLetter = progress?.AfterDeadLetter is { } dead && dead != eventId ? dead : null;
        return new TierDecision.Head(version, done, afterDeadLetter, progress);
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private sealed record Released(int MainPartition, long LastOffset, DateTimeOffset At);
}
