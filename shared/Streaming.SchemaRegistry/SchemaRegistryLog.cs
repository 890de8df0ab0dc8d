using Microsoft.Extensions.Logging;

namespace Streaming.SchemaRegistry;

/// <summary>Log lines of the registry path. Registry errors name the URL (never with credentials) and the subject.</summary>
internal static partial class SchemaRegistryLog
{
    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Schema registered or found: subject {Subject} has id {SchemaId}")]
    public static partial void Registered(this ILogger logger, string subject, int schemaId);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "Schema Registry: cannot register or find subject {Subject} yet (not ready; trying again in {DelayMs} ms): {Error}")]
    public static partial void RegistrationFailed(this ILogger logger, string subject, long delayMs, string error);

    [LoggerMessage(EventId = 103, Level = LogLevel.Error, Message = "A {Type} value for {Topic} does not match its registered schema ({Error}); written as plain JSON instead so that it is not lost")]
    public static partial void ValidationFallback(this ILogger logger, string type, string topic, string error);

    [LoggerMessage(EventId = 104, Level = LogLevel.Warning, Message = "Schema Registry unreachable while writing to {Topic} ({Error}); trying again in {DelayMs} ms")]
    public static partial void WriteRetry(this ILogger logger, string topic, string error, long delayMs);
}
