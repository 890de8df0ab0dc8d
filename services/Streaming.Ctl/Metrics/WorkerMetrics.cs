namespace Streaming.Ctl.Metrics;

/// <summary>The workers' /metrics: what streamctl reads of them (circuit state, destinations' live state).</summary>
public static class WorkerMetrics
{
    public const string LaneCircuit = "whatsapp_worker_circuit_state";
    public const string DestinationCircuit = "whatsapp_worker_destination_circuit_state";
    public const string DestinationLimit = "whatsapp_worker_destination_concurrency_limit";
    public const string DestinationInFlight = "whatsapp_worker_destination_in_flight";

    /// <summary>One worker's samples; an unreachable worker is a CLI error naming its address (exit 3).</summary>
    public static async Task<IReadOnlyList<MetricSample>> ScrapeAsync(string url, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            return PrometheusText.Parse(await http.GetStringAsync(url, ct)).ToList();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or UriFormatException or InvalidOperationException)
        {
            throw new CtlException($"cannot read worker metrics from {url}: {e.Message}", CtlException.Unreachable);
        }
    }
}
