using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Streaming.Destinations;
using Streaming.Worker.Admission;

namespace Streaming.Worker.Destinations;

/// <summary>
/// Each destination's runtime, by name, and the lane's fair budget they share. A runtime is kept across
/// reloads while its destination stays in the table, so its circuit and limit survive them; a reload that
/// removes a destination drops its runtime and its metric series. The lane's circuit gauge is the worst of
/// the destinations'.
/// </summary>
public sealed class DestinationRuntimes
{
    // Lazy: a runtime registers its metrics when built, so exactly one may be built per name.
    private readonly ConcurrentDictionary<string, Lazy<DestinationRuntime>> _runtimes = new(StringComparer.Ordinal);
    private readonly DestinationsOptions _options;
    private readonly WorkerOptions _worker;
    private readonly IHttpClientFactory _clients;
    private readonly DestinationTelemetry _telemetry;
    private readonly TimeProvider _time;

    public DestinationRuntimes(
        IOptions<DestinationsOptions> options, IOptions<WorkerOptions> worker, IHttpClientFactory clients, DestinationTelemetry telemetry, TimeProvider time)
    {
        _options = options.Value;
        _worker = worker.Value;
        _clients = clients;
        _telemetry = telemetry;
        _time = time;
        Admission = new FairAdmission(_worker.MaxInFlight, time);
    }

    /// <summary>The lane's in-flight budget, shared fairly between destinations.</summary>
    public FairAdmission Admission { get; }

    /// <summary>The lane's circuit: the worst of its destinations' (0 closed, 1 half-open, 2 open). Read at scrape time.</summary>
    public int WorstCircuit => All.Select(r => r.CircuitValue).DefaultIfEmpty(0).Max();

    internal IEnumerable<DestinationRuntime> All => _runtimes.Values.Select(r => r.Value);

    internal int Count => _runtimes.Count;

    internal DestinationRuntime For(Destination destination) =>
        _runtimes.GetOrAdd(destination.Name, _ => new Lazy<DestinationRuntime>(
            () => new DestinationRuntime(destination, _options, _worker, Admission, _clients, _telemetry, _time))).Value;

    /// <summary>A table came into force: every destination it names exists (its series at 0) with its current limits; the others go.</summary>
    internal void Apply(DestinationTable table, Streaming.Contracts.Lane lane)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var destination in table.For(lane))
        {
            names.Add(destination.Name);
            For(destination).Apply(destination);
        }

        foreach (var name in _runtimes.Keys.Where(n => !names.Contains(n)).ToArray())
        {
            // Deliveries under way finish with the runtime they hold; the next event of that name gets a new one.
            if (_runtimes.TryRemove(name, out var removed) && removed.IsValueCreated)
            {
                removed.Value.Dispose();
            }
        }

        Admission.KnownDestinations = names.Count;
    }
}
