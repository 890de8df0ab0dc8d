using Streaming.Contracts;
using Streaming.Ctl.Metrics;

namespace Streaming.Ctl.DeadLetters;

/// <summary>
/// Asks the lane's workers (their /metrics) whether the endpoint's circuit is open: replaying into a
/// broken endpoint would only send the events back to the DLQ.
/// </summary>
public static class CircuitCheck
{
    public const string Metric = WorkerMetrics.LaneCircuit;

    /// <summary>The workers where the lane's circuit (its one endpoint's) is open.</summary>
    public static Task<IReadOnlyList<string>> OpenAtAsync(IEnumerable<string> metricsUrls, Lane lane, CancellationToken ct) =>
        WorkersWhereAsync(metricsUrls, samples => IsOpen(samples, lane), ct);

    /// <summary>The workers where one destination's own circuit is open (whatsapp_worker_destination_circuit_state).</summary>
    public static Task<IReadOnlyList<string>> DestinationOpenAtAsync(IEnumerable<string> metricsUrls, Lane lane, string destination, CancellationToken ct) =>
        WorkersWhereAsync(metricsUrls, samples => samples.Any(s =>
            s.Name == WorkerMetrics.DestinationCircuit && s.Label("lane") == lane.ToName() && s.Label("destination") == destination && s.Value >= 2), ct);

    /// <summary>
    /// Open (2) for this lane in one worker's /metrics text. Parsed by name, labels and value, so label
    /// order, extra labels and a prefix-sharing metric name cannot mislead it.
    /// </summary>
    public static bool IsOpen(string metricsText, Lane lane) => IsOpen(PrometheusText.Parse(metricsText), lane);

    private static bool IsOpen(IEnumerable<MetricSample> samples, Lane lane) =>
        samples.Any(s => s.Name == Metric && s.Label("lane") == lane.ToName() && s.Value >= 2);

    private static async Task<IReadOnlyList<string>> WorkersWhereAsync(IEnumerable<string> metricsUrls, Func<IReadOnlyList<MetricSample>, bool> open, CancellationToken ct)
    {
        var where = new List<string>();
        foreach (var url in metricsUrls)
        {
            if (open(await WorkerMetrics.ScrapeAsync(url, ct)))
            {
                where.Add(url);
            }
        }

        return where;
    }
}
