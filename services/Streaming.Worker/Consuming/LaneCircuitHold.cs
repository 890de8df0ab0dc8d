using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Streaming.Worker.Telemetry;

namespace Streaming.Worker.Consuming;

/// <summary>
/// The lane's hold with one endpoint: while its circuit is open. Polly only turns half-open when a call is
/// attempted, so the hold lifts once the break has passed even though the circuit still reads open: then
/// at most WORKER_MAX_IN_FLIGHT records come in and one of them probes. Read by every consumer's poll
/// thread (one per topic of the lane): the transition is noted under a lock, once.
/// </summary>
internal sealed class LaneCircuitHold(
    CircuitBreakerStateProvider circuit, IOptions<WorkerOptions> options, TimeProvider time, ILogger<LaneCircuitHold> logger) : ILaneHold
{
    private readonly TimeSpan _breakDuration = TimeSpan.FromSeconds(options.Value.CircuitBreakSeconds);
    private readonly Lock _lock = new();
    private bool _wasOpen;
    private DateTimeOffset _openedAt;

    public bool HoldAll
    {
        get
        {
            var now = time.GetUtcNow();
            var open = circuit.CircuitState is CircuitState.Open or CircuitState.Isolated;
            lock (_lock)
            {
                if (open != _wasOpen)
                {
                    _wasOpen = open;
                    _openedAt = now;
                    logger.Circuit(open ? "open" : "closed", open ? "paused, events wait in Kafka" : "resumed");
                }

                return open && now - _openedAt < _breakDuration;
            }
        }
    }
}
