using System.Collections.Concurrent;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streaming.Kafka.Clients;

namespace Streaming.Kafka.Tests;

public class KafkaClientFactoryTests
{
    [Theory]
    [InlineData(SyslogLevel.Emergency, LogLevel.Critical)]
    [InlineData(SyslogLevel.Alert, LogLevel.Critical)]
    [InlineData(SyslogLevel.Critical, LogLevel.Critical)]
    [InlineData(SyslogLevel.Error, LogLevel.Error)]
    [InlineData(SyslogLevel.Warning, LogLevel.Warning)]
    [InlineData(SyslogLevel.Notice, LogLevel.Information)]
    [InlineData(SyslogLevel.Info, LogLevel.Information)]
    [InlineData(SyslogLevel.Debug, LogLevel.Debug)]
    public void librdkafka_levels_map_to_ILogger_levels(SyslogLevel syslog, LogLevel expected) =>
        Assert.Equal(expected, KafkaLogLevels.ToLogLevel(syslog));

    [Fact]
    public void Client_errors_are_warnings_unless_fatal()
    {
        Assert.Equal(LogLevel.Warning, KafkaLogLevels.ToLogLevel(new Error(ErrorCode.Local_AllBrokersDown)));
        Assert.Equal(LogLevel.Critical, KafkaLogLevels.ToLogLevel(new Error(ErrorCode.Local_Fatal, "fenced", isFatal: true)));
    }

    [Fact]
    public async Task A_built_client_uses_the_options_and_logs_under_one_category_with_the_mapped_level()
    {
        var logs = new Capture();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        var factory = new KafkaClientFactory(Options.Create(new KafkaOptions { BootstrapServers = "127.0.0.1:1" }), loggers);
        using var producer = factory.Producer<string, string>(new ProducerConfig { ClientId = "factory-test", MessageTimeoutMs = 2000 }).Build();
        producer.Produce("t", new Message<string, string> { Key = "k", Value = "v" });

        // Nothing listens on port 1: librdkafka logs the refused connection (syslog 3) and reports an error.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!logs.Entries.Any(e => e.Message.Contains("127.0.0.1:1", StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        var connectLogs = logs.Entries.Where(e => e.Message.Contains("127.0.0.1:1", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(connectLogs);
        Assert.All(logs.Entries, e => Assert.Equal(KafkaClientFactory.LogCategory, e.Category));
        Assert.Contains(connectLogs, e => e.Level is LogLevel.Error or LogLevel.Warning);
        Assert.Contains(connectLogs, e => e.Message.Contains("factory-test", StringComparison.Ordinal));
    }

    private sealed record Entry(string Category, LogLevel Level, string Message);

    private sealed class Capture : ILoggerProvider
    {
        public ConcurrentQueue<Entry> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Entries);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<Entry> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue(new Entry(category, logLevel, formatter(state, exception)));
        }
    }
}
