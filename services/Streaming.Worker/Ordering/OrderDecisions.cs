namespace Streaming.Worker.Ordering;

/// <summary>What to do with a record read from the lane's main topic (ORDERING=key). Decided by <see cref="OrderState"/>.</summary>
public abstract record MainDecision
{
    private MainDecision()
    {
    }

    /// <summary>Attempt it; if it goes to a tier, it heads a new chain. <paramref name="ReleaseFirst"/>: the old chain is settled, release it before.</summary>
    public sealed record Attempt(bool ReleaseFirst) : MainDecision;

    /// <summary>Not attempted: forwarded behind the chain's head, with <paramref name="Seq"/>; then <paramref name="Block"/> is written.</summary>
    public sealed record Follow(ChainBlock Block, int Seq, string Tier, DateTimeOffset NotBefore) : MainDecision;

    /// <summary>Too many wait already: dead-lettered as order-blocked.</summary>
    public sealed record OrderBlocked(ChainBlock Block, int Waiting) : MainDecision;

    /// <summary>Settled without delivery, counted with <paramref name="Reason"/> (<see cref="NotDeliveredReasons"/>).</summary>
    public sealed record Drop(string Reason, string Chain) : MainDecision;
}

/// <summary>What to do with a chain member read from a retry tier. Decided by <see cref="OrderState"/>.</summary>
public abstract record TierDecision
{
    private TierDecision()
    {
    }

    /// <summary>Not (or no longer) a chain known here: processed as without ordering, nothing recorded.</summary>
    public sealed record Unchained : TierDecision;

    /// <summary>
    /// The chain's next event: attempted, with <paramref name="Version"/> (and after-dead-letter when a head
    /// before it was dead-lettered); whatever becomes of it is recorded (<see cref="OrderState.AfterHead"/>).
    /// </summary>
    public sealed record Head(long Version, int Done, string? AfterDeadLetter, ChainProgress? Known) : TierDecision;

    /// <summary>Not its turn: moved, without an attempt, behind the head into <paramref name="Tier"/>.</summary>
    public sealed record Follow(string Tier, DateTimeOffset NotBefore) : TierDecision;

    /// <summary>Settled without delivery, counted with <paramref name="Reason"/> (<see cref="NotDeliveredReasons"/>).</summary>
    public sealed record Drop(string Reason) : TierDecision;
}

/// <summary>How a chain head's attempt ended, as far as the order is concerned.</summary>
public enum HeadEnd
{
    /// <summary>Waits in a retry tier: the chain stays blocked behind it.</summary>
    Retried,

    /// <summary>Delivered, or settled without delivery: the next event is the head.</summary>
    Settled,

    /// <summary>Dead-lettered, for any reason: the next event is the head and names it in after-dead-letter.</summary>
    DeadLettered,
}
