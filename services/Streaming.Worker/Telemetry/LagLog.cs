using Microsoft.Extensions.Logging;

namespace Streaming.Worker.Telemetry;

/// <summary>Log lines of <see cref="Consuming.BrokerLag"/> (event ids 60-69, apart from <see cref="WorkerLog"/>'s).</summary>
internal static partial class LagLog
{
    [LoggerMessage(EventId = 60, Level = LogLevel.Warning, Message = "Consumer lag: the broker's end offsets could not be read ({Error}); the last lag stays until the next try")]
    public static partial void LagQueryFailed(this ILogger logger, string error);
}
