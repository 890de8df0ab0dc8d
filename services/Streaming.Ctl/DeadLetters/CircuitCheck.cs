using System.Globalization;
using Streaming.Contracts;

namespace Streaming.Ctl.DeadLetters;

/// <summary>
/// Asks the lane's workers (their /metrics) whether the endpoint's circuit is open: replaying into a
/// broken endpoint would only send the events back to the DLQ.
/// </summary>
public static class CircuitCheck
{
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

            var series = $"whatsapp_worker_circuit_state{{lane=\"{lane.ToName()}\"}}";
            var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(series, StringComparison.Ordinal));
            if (line is not null && double.TryParse(line[(line.LastIndexOf(' ') + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var state) && state >= 2)
            {
                open.Add(url);
            }
        }

        return open;
    }

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
