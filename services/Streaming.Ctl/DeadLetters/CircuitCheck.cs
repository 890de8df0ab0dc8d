using Streaming.Contracts;
using Streaming.Ctl.Metrics;

namespace Streaming.Ctl.DeadLetters;

/// <summary>
/// Asks the lane's workers (their /metrics) whether the endpoint's circuit is open: replaying into a
/// broken endpoint would only send the events back to the DLQ.
/// </summary>
public static class CircuitCheck
{
    public const string Metric = "whatsapp_worker_circuit_state";

    public static async Task<IReadOnlyList<string>> OpenAtAsync(IEnumerable<string> metricsUrls, Lane lane, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var open = new List<string>();
        foreach (var url in metricsUrls)
        {
            string text;
            try
            {
                text = await http.GetStringAsync(url, ct);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or UriFormatException or InvalidOperationException)
            {
                throw new CtlException($"cannot read the circuit state from {url}: {e.Message}", CtlException.Unreachable);
            }

            if (IsOpen(text, lane))
            {
                open.Add(url);
            }
        }

        return open;
    }

    /// <summary>
    /// Open (2) for this lane in one worker's /metrics text. Parsed by name, labels and value, so label
    /// order, extra labels and a prefix-sharing metric name cannot mislead it.
    /// </summary>
    public static bool IsOpen(string metricsText, Lane lane) =>
        PrometheusText.Parse(metricsText).Any(s =>
            s.Name == Metric && s.Labels.TryGetValue("lane", out var l) && l == lane.ToName() && s.Value >= 2);

    /// <summary>The workers where one destination's own circuit is open (whatsapp_worker_destination_circuit_state).</summary>
    public static async Task<IReadOnlyList<string>> DestinationOpenAtAsync(IEnumerable<string> metricsUrls, Lane lane, string destination, CancellationToken ct)
    {
        var open = new List<string>();
        foreach (var url in metricsUrls)
        {
            var samples = WorkerMetrics.Parse(await WorkerMetrics.ScrapeAsync(url, ct));
            if (samples.Any(s => s.Name == WorkerMetrics.DestinationCircuit && s.Label("lane") == lane.ToName() && s.Label("destination") == destination && s.Value >= 2))
            {
                open.Add(url);
            }
        }

        return open;
    }
}
