namespace Streaming.Worker.Processing;

public enum OutcomeKind
{
    Delivered,
    Retried,
    DeadLettered,

    /// <summary>Settled without a delivery: a superseded status, a duplicate already settled in its chain.</summary>
    Dropped,
}

/// <summary>How one record was settled; for a retry, where it now waits and until when (what ordering follows).</summary>
public sealed record ProcessingOutcome(OutcomeKind Kind, string? Topic = null, DateTimeOffset? NotBefore = null, string? Reason = null)
{
    /// <summary>Where the event was routed, when it got that far (ordering keeps a head's, for its chain's dead letters).</summary>
    public string? Destination { get; init; }

    public static readonly ProcessingOutcome Delivered = new(OutcomeKind.Delivered);
    public static readonly ProcessingOutcome Dropped = new(OutcomeKind.Dropped);

    public static ProcessingOutcome DeadLettered(string reason) => new(OutcomeKind.DeadLettered, Reason: reason);
}
