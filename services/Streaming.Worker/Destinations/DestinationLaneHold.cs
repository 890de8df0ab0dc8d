using Microsoft.Extensions.Options;
using Streaming.Worker.Consuming;

namespace Streaming.Worker.Destinations;

/// <summary>
/// With destinations, the lane stops fetching only while every destination that has had traffic
/// recently is open: then nothing could be delivered, and events are better off waiting in Kafka than
/// cycling through the retry tiers. One open destination among healthy ones pauses nothing.
/// </summary>
internal sealed class DestinationLaneHold(DestinationRuntimes runtimes, IOptions<WorkerOptions> worker) : ILaneHold
{
    // Long enough that a lane paused for a whole break still remembers who had traffic.
    private readonly TimeSpan _trafficWindow = TimeSpan.FromSeconds(Math.Max(30, 2 * worker.Value.CircuitBreakSeconds));

    public bool HoldAll
    {
        get
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
}
