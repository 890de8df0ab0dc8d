using Streaming.Worker.Delivery;

namespace Streaming.Worker.Processing;

/// <summary>What became of one event's turn, whichever step ended it.</summary>
public enum VerdictKind
{
    /// <summary>The destination answered 2xx.</summary>
    Delivered,

    /// <summary>408, 425, 429, 5xx, timeout or connection error: worth another try later.</summary>
    Retryable,

    /// <summary>Any other non-2xx: the destination refuses this event for good.</summary>
    Terminal,

    /// <summary>The record is not an event envelope.</summary>
    Poison,

    /// <summary>No destination matches, and the lane has no default.</summary>
    Unroutable,

    /// <summary>Not attempted: its destination had no slot for it within the wait allowed.</summary>
    Saturated,

    /// <summary>Not attempted: its destination's circuit is open while others' are not.</summary>
    CircuitOpen,

    /// <summary>Not attempted: its destination's Retry-After still holds.</summary>
    Held,
}

public sealed record Verdict(VerdictKind Kind, int? StatusCode = null, string? Error = null, TimeSpan? RetryAfter = null)
{
    public static readonly Verdict Delivered = new(VerdictKind.Delivered);

    public static Verdict From(DeliveryResult result) => result.Outcome switch
    {
        DeliveryOutcome.Delivered => Delivered,
        DeliveryOutcome.Terminal => new Verdict(VerdictKind.Terminal, result.StatusCode, result.Error),
        DeliveryOutcome.CircuitOpen => new Verdict(VerdictKind.CircuitOpen, Error: result.Error ?? "circuit open"),
        _ => new Verdict(VerdictKind.Retryable, result.StatusCode, result.Error, result.RetryAfter),
    };
}
