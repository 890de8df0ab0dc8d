using Polly.CircuitBreaker;
using Streaming.Worker.Consuming;

namespace Streaming.Worker.Destinations;

/// <summary>Without DESTINATIONS_FILE: the lane holds while its one endpoint's circuit is open (the behaviour before destinations).</summary>
internal sealed class SingleEndpointHold(CircuitBreakerStateProvider circuit) : ILaneHold
{
    public bool HoldAll => circuit.CircuitState is CircuitState.Open or CircuitState.Isolated;
}
