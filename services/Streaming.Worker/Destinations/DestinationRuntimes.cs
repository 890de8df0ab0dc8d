using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Streaming.Destinations;

namespace Streaming.Worker.Destinations;

/// <summary>Each destination's runtime, by name: created on first sight, kept across reloads so its circuit and limit survive them.</summary>
public sealed class DestinationRuntimes(
    IOptions<DestinationsOptions> options, IOptions<WorkerOptions> worker, IHttpClientFactory clients, DestinationTelemetry telemetry, TimeProvider time)
{
    // Lazy: a runtime registers its metrics when built, so exactly one may be built per name.
    private readonly ConcurrentDictionary<string, Lazy<DestinationRuntime>> _runtimes = new(StringComparer.Ordinal);

    internal IEnumerable<DestinationRuntime> All => _runtimes.Values.Select(r => r.Value);

    internal DestinationRuntime For(Destination destination)
    {
        var runtime = _runtimes.GetOrAdd(destination.Name, name => new Lazy<DestinationRuntime>(() =>
        {
            var created = new DestinationRuntime(name, options.Value, worker.Value, clients, telemetry, time);
            created.Apply(destination);
            return created;
        }));
        return runtime.Value;
    }

    /// <summary>A table came into force: every destination it names exists (its series at 0) with its current limits.</summary>
    internal void Apply(DestinationTable table, Streaming.Contracts.Lane lane)
    {
        foreach (var destination in table.For(lane))
        {
            For(destination).Apply(destination);
        }
    }
}
