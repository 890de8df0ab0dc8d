using Microsoft.Extensions.Options;
using Streaming.Worker.Consuming;
using Streaming.Worker.Telemetry;

namespace Streaming.Worker.Destinations;

/// <summary>
/// The lane stops fetching only while every destination that has had traffic recently is open: then
/// nothing could be delivered, and events are better off waiting in Kafka than cycling through the retry
/// tiers. One open destination among healthy ones pauses nothing; with one endpoint (no table), its open
/// circuit pauses the lane. Polly turns half-open only when a call is attempted, so the hold lifts once the
/// break has passed even though the circuit still reads open. Read on the poll thread for every record, so
/// the scan over the destinations is done at most every <see cref="Refresh"/>: O(1) per record.
/// </summary>
internal sealed class DestinationLaneHold(DestinationRuntimes runtimes, IOptions<WorkerOptions> worker, TimeProvider time, ILogger<DestinationLaneHold> logger) : ILaneHold
{
    internal static readonly TimeSpan Refresh = TimeSpan.FromMilliseconds(50);

    // Long enough that a lane paused for a whole break still remembers who had traffic.
    private readonly TimeSpan _trafficWindow = TimeSpan.FromSeconds(Math.Max(30, 2 * worker.Value.CircuitBreakSeconds));
    private readonly object _lock = new();
    private long _checkedAt = long.MinValue;
    private bool _held;

    /// <summary>Read by every consumer's poll thread (one per topic of the lane): the refresh and its log line happen under a lock.</summary>
    public bool HoldAll
    {
        get
        {
            lock (_lock)
            {
                if (_checkedAt != long.MinValue && time.GetElapsedTime(_checkedAt) < Refresh)
                {
                    return _held;
                }

                _checkedAt = time.GetTimestamp();
                var held = Scan();
                if (held != _held)
                {
                    logger.Circuit(held ? "open" : "closed", held ? "paused, events wait in Kafka" : "resumed");
                }

                _held = held;
                return held;
            }
        }
    }

    /// <summary>For a delivery waiting on an open circuit: whether the lane is held, without the cache.</summary>
    public bool HeldNow => Scan();

    private bool Scan()
    {
        var any = false;
        foreach (var runtime in runtimes.All)
        {
            if (!runtime.HadTrafficWithin(_trafficWindow))
            {
                continue;
            }

            if (!runtime.IsOpen)
            {
                return false;
            }

            any = true;
        }

        return any;
    }
}
