using Microsoft.Extensions.Logging;

namespace Streaming.Ingress.Telemetry;

/// <summary>The ingress's log lines. None of them carries a secret, a signature or a body.</summary>
internal static partial class IngressLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Webhook refused: {Status} {Reason}")]
    public static partial void Refused(this ILogger logger, int status, string reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Webhook not stored ({Outcome}) after {ElapsedMs} ms: {Error}; answered 503")]
    public static partial void NotStored(this ILogger logger, Publishing.PublishOutcome outcome, long elapsedMs, string? error);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "Webhook stored: {Count} events in {ElapsedMs} ms")]
    public static partial void Stored(this ILogger logger, int count, long elapsedMs);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Verification handshake answered")]
    public static partial void Verified(this ILogger logger);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "Verification handshake refused (mode or token mismatch)")]
    public static partial void VerificationRefused(this ILogger logger);
}
