using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Streaming.Kafka.Clients;

/// <summary>librdkafka's syslog levels as ILogger levels, so the host's log filters decide what is shown.</summary>
public static class KafkaLogLevels
{
    public static LogLevel ToLogLevel(SyslogLevel level) => level switch
    {
        SyslogLevel.Emergency or SyslogLevel.Alert or SyslogLevel.Critical => LogLevel.Critical,
        SyslogLevel.Error => LogLevel.Error,
        SyslogLevel.Warning => LogLevel.Warning,
        SyslogLevel.Notice or SyslogLevel.Info => LogLevel.Information,
        SyslogLevel.Debug => LogLevel.Debug,
        _ => LogLevel.Information,
    };

    /// <summary>A client error: fatal ones end the client, the others are transient (a broker down, a timeout).</summary>
    public static LogLevel ToLogLevel(Error error) => error.IsFatal ? LogLevel.Critical : LogLevel.Warning;
}
