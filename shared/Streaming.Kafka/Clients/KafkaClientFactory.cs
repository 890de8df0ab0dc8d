using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Streaming.Kafka.Clients;

/// <summary>
/// The one place Kafka clients are built: it applies <see cref="KafkaOptions"/> (bootstrap servers,
/// TLS, SASL), and routes librdkafka's logs and errors to ILogger under one category with their own
/// levels. Callers add only their role's settings and handlers (rebalance callbacks, serializers).
/// </summary>
public sealed class KafkaClientFactory
{
    /// <summary>Every librdkafka log line of every service is written under this category.</summary>
    public const string LogCategory = "Streaming.Kafka.Client";

    private readonly KafkaOptions _options;
    private readonly ILogger _logger;

    public KafkaClientFactory(IOptions<KafkaOptions> options, ILoggerFactory loggers)
        : this(options.Value, loggers.CreateLogger(LogCategory))
    {
    }

    /// <summary>For tools without a host (streamctl): any logger, e.g. one writing to stderr.</summary>
    public KafkaClientFactory(KafkaOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
    }

    public KafkaOptions Options => _options;

    public ProducerBuilder<TKey, TValue> Producer<TKey, TValue>(ProducerConfig config) =>
        new ProducerBuilder<TKey, TValue>(_options.Apply(config))
            .SetLogHandler((_, m) => Log(m))
            .SetErrorHandler((c, e) => Log(c.Name, e));

    public ConsumerBuilder<TKey, TValue> Consumer<TKey, TValue>(ConsumerConfig config) =>
        new ConsumerBuilder<TKey, TValue>(_options.Apply(config))
            .SetLogHandler((_, m) => Log(m))
            .SetErrorHandler((c, e) => Log(c.Name, e));

    public AdminClientBuilder Admin(AdminClientConfig? config = null) =>
        new AdminClientBuilder(_options.Apply(config ?? new AdminClientConfig()))
            .SetLogHandler((_, m) => Log(m))
            .SetErrorHandler((c, e) => Log(c.Name, e));

    private void Log(LogMessage message)
    {
        var level = KafkaLogLevels.ToLogLevel(message.Level);
        if (_logger.IsEnabled(level))
        {
            _logger.ClientLog(level, message.Name, message.Facility, message.Message);
        }
    }

    private void Log(string client, Error error) => _logger.ClientError(KafkaLogLevels.ToLogLevel(error), client, error.Code, error.Reason);
}
