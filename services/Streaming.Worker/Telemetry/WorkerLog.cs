using Microsoft.Extensions.Logging;

namespace Streaming.Worker.Telemetry;

/// <summary>The worker's log lines. None carries a secret or an event body.</summary>
internal static partial class WorkerLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Lane {Lane}: consuming {Topics} as group {Group}")]
    public static partial void Started(this ILogger logger, string lane, string topics, string group);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Partitions assigned: {Partitions}")]
    public static partial void Assigned(this ILogger logger, string partitions);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Partitions revoked: {Partitions}; committed {Offsets}")]
    public static partial void Revoked(this ILogger logger, string partitions, string offsets);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Partitions lost: {Partitions}; their in-flight events will be redelivered to the new owner")]
    public static partial void Lost(this ILogger logger, string partitions);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "Event {EventId} to retry tier {Tier} (attempt {Attempt}): {Error}")]
    public static partial void Retrying(this ILogger logger, string eventId, string tier, int attempt, string? error);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "Event {EventId} dead-lettered ({Reason}) after {Attempts} attempts: {Error}")]
    public static partial void DeadLettered(this ILogger logger, string? eventId, string reason, int attempts, string? error);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "Could not write to {Topic} ({Error}); the record stays uncommitted and is tried again")]
    public static partial void ForwardFailed(this ILogger logger, string topic, string error);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "Endpoint circuit {State}: consumption {Action}")]
    public static partial void Circuit(this ILogger logger, string state, string action);

    [LoggerMessage(EventId = 9, Level = LogLevel.Error, Message = "Consume error: {Error}")]
    public static partial void ConsumeError(this ILogger logger, string error);

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Stopped: committed {Offsets}")]
    public static partial void Stopped(this ILogger logger, string offsets);

    [LoggerMessage(EventId = 11, Level = LogLevel.Debug, Message = "Event {EventId} delivered in {ElapsedMs} ms")]
    public static partial void Delivered(this ILogger logger, string eventId, long elapsedMs);

    [LoggerMessage(EventId = 15, Level = LogLevel.Warning, Message = "Event {EventId}: the record's schema cannot be resolved ({Error}); it waits and is read again")]
    public static partial void SchemaUnresolved(this ILogger logger, string? eventId, string? error);
    [LoggerMessage(EventId = 13, Level = LogLevel.Error, Message = "Processing {Position} failed unexpectedly (attempt {Attempt} of {MaxAttempts})")]
    public static partial void ProcessingFailed(this ILogger logger, string position, int attempt, int maxAttempts, Exception exception);

    [LoggerMessage(EventId = 14, Level = LogLevel.Error, Message = "Commit on {When} failed: {Error}")]
    public static partial void CommitFailed(this ILogger logger, string when, string error, Exception exception);

    [LoggerMessage(EventId = 16, Level = LogLevel.Warning, Message = "Order state: {Message}")]
    public static partial void OrderStateUnavailable(this ILogger logger, string message);

    [LoggerMessage(EventId = 17, Level = LogLevel.Warning, Message = "Resuming {Partitions} before letting them go failed: {Error}")]
    public static partial void ResumeFailed(this ILogger logger, string partitions, string error);
}
