using Microsoft.Extensions.Logging;

namespace Streaming.Kafka.Clients;

/// <summary>What librdkafka says, under the one category <see cref="KafkaClientFactory.LogCategory"/>.</summary>
internal static partial class KafkaClientLog
{
    [LoggerMessage(EventId = 100, Message = "{Client} {Facility}: {Message}")]
    public static partial void ClientLog(this ILogger logger, LogLevel level, string client, string facility, string message);

    [LoggerMessage(EventId = 102, Message = "{Client} error {Code}: {Reason}")]
    public static partial void ClientError(this ILogger logger, LogLevel level, string client, Confluent.Kafka.ErrorCode code, string reason);
}
