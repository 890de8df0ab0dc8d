using Prometheus;

namespace Streaming.Hosting;

/// <summary>
/// Exports System.Diagnostics.Metrics instruments through prometheus-net. Its default meter adapter
/// starts at the first scrape, losing every reading before it; this one starts with the process.
/// </summary>
public static class PrometheusExport
{
    private static readonly double[] Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

    private static readonly Lazy<IDisposable> Adapter = new(() =>
    {
        Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressMeters = true });
        return MeterAdapter.StartListening(new MeterAdapterOptions { ResolveHistogramBuckets = _ => Buckets });
    });

    /// <summary>Idempotent: every service (and every test host in one process) shares the adapter.</summary>
    public static void EnsureStarted() => _ = Adapter.Value;
}
