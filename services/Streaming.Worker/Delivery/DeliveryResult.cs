namespace Streaming.Worker.Delivery;

public enum DeliveryOutcome
{
    /// <summary>2xx.</summary>
    Delivered,

    /// <summary>408, 425, 429, 5xx, timeout or connection error: worth another try later.</summary>
    Retryable,

    /// <summary>Any other non-2xx: the endpoint refuses this event for good.</summary>
    Terminal,

    /// <summary>Not attempted: the endpoint's circuit is open; the event waits, in flight, for it to close.</summary>
    CircuitOpen,
}

public sealed record DeliveryResult(DeliveryOutcome Outcome, int? StatusCode = null, string? Error = null, TimeSpan? RetryAfter = null)
{
    public static readonly DeliveryResult Delivered = new(DeliveryOutcome.Delivered);
    public static readonly DeliveryResult CircuitOpen = new(DeliveryOutcome.CircuitOpen, Error: "circuit open");
}
