using Microsoft.Extensions.Logging;

namespace Streaming.Ctl;

/// <summary>streamctl has no host: the Kafka clients' warnings and errors go to stderr as one line each, prefixed.</summary>
internal sealed class StderrLogger(TextWriter stderr, LogLevel minimum = LogLevel.Warning) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            stderr.WriteLine($"streamctl: kafka {logLevel.ToString().ToLowerInvariant()}: {formatter(state, exception)}");
        }
    }
}
