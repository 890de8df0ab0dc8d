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

    [LoggerMessage(EventId = 105, Level = LogLevel.Debug, Message = "Event {EventId} not delivered: {Reason} (chain {Chain})")]
    public static partial void NotDelivered(this ILogger logger, string eventId, string reason, string chain);

    [LoggerMessage(EventId = 106, Level = LogLevel.Information, Message = "Ordering write for {Key} fenced: written under an earlier owner's epoch, ignored")]
    public static partial void WriteFenced(this ILogger logger, string key);

    [LoggerMessage(EventId = 107, Level = LogLevel.Warning, Message = "Chain head {EventId} failed processing {Attempts} times: dead-lettered as processing-error, its chain goes on")]
    public static partial void HeadProcessingFailed(this ILogger logger, string eventId, int attempts, Exception exception);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "Releasing settled chain of a key failed")]
    public static partial void ReleaseFailed(this ILogger logger, Exception exception);
}
