using Microsoft.Extensions.Logging;

namespace Streaming.Kafka.Acknowledgements;

/// <summary>The warning every producer path writes when <see cref="DeliveryRule"/> finds an unverified acknowledgement.</summary>
public static partial class AcknowledgementLog
{
    [LoggerMessage(EventId = 101, Level = LogLevel.Warning,
        Message = "Kafka reported a record on {Topic} [{Partition}] persisted without an offset (an implicit acknowledgement the broker never confirmed): not counted as stored; {Action}")]
    public static partial void UnverifiedAck(this ILogger logger, string topic, int partition, string action);
}
