using Streaming.Contracts;

namespace Streaming.Ingress.Webhooks;

/// <summary>One event of a webhook, serialized and ready to produce to its lane.</summary>
public sealed record OutboundEvent(Lane Lane, string Key, string EventId, string Type, byte[] Value);

/// <summary>The events of one webhook, or why the body is not a webhook (answered 400).</summary>
public sealed record SplitResult(IReadOnlyList<OutboundEvent> Events, string? Error)
{
    public bool IsWebhook => Error is null;

    public bool HasHighPriority => Events.Any(e => e.Lane == Lane.Messages);

    public static SplitResult Invalid(string error) => new([], error);
}
