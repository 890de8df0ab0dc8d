namespace Streaming.Worker.Ordering;

/// <summary>The ordering log lines. None carries an event body.</summary>
internal static partial class OrderingLog
{
    [LoggerMessage(EventId = 101, Level = LogLevel.Debug, Message = "Event {EventId} follows {Chain} into {Tier} (ORDERING=key)")]
    public static partial void Followed(this ILogger logger, string eventId, string chain, string tier);

    [LoggerMessage(EventId = 102, Level = LogLevel.Debug, Message = "Status {EventId} superseded: rank {Rank} of {MessageId} is below {Highest}, already delivered or pending; dropped")]
    public static partial void Superseded(this ILogger logger, string eventId, string messageId, int rank, int highest);

    [LoggerMessage(EventId = 104, Level = LogLevel.Warning, Message = "Ordering state {Topic} not read up to its end within {Seconds} s (a partition unreadable?): going on with what is known")]
    public static partial void CatchUpSlow(this ILogger logger, string topic, int seconds);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "Releasing settled chain of a key failed")]
    public static partial void ReleaseFailed(this ILogger logger, Exception exception);
}
