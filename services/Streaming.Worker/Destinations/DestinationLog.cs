namespace Streaming.Worker.Destinations;

/// <summary>The destinations' log lines: names, counts and problems, never a secret, URL credentials or phone number id.</summary>
internal static partial class DestinationLog
{
    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Destinations table from {File} in force: {Count} destinations ({Names}), default {Default}")]
    public static partial void TableApplied(this ILogger logger, string file, int count, string names, string @default);

    [LoggerMessage(EventId = 102, Level = LogLevel.Error, Message = "Destinations file {File} refused, the last good table stays in force: {Problem}")]
    public static partial void TableRefused(this ILogger logger, string file, string problem);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "Event {EventId} is unroutable: no destination matches it and the lane has no default")]
    public static partial void Unroutable(this ILogger logger, string eventId);
}
