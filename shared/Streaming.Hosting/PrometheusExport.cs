using Prometheus;

namespace Streaming.Hosting;

/// <summary>
/// Exports System.Diagnostics.Metrics instruments through prometheus-net. Its default meter adapter
/// starts at the first scrape, losing every reading before it; this one starts with the process.
/// </summary>
public static class PrometheusExport
{
    /// <summary>
    /// How long a series unchanged keeps being exported. prometheus-net's default (5 minutes) drops a counter
    /// that was started at 0 and not incremented since: a dead letter after a quiet spell then comes back as a
    /// new series at 1, which increase() reads as 0, and dashboard variables lose idle lanes. Every label set
    /// here is bounded (lanes, reasons, tiers, partitions, destinations), so nothing needs to expire; one day is
    /// the longest the adapter accepts, and <see cref="KeepAliveInterval"/> touches every counter well within it.
    /// </summary>
    public static readonly TimeSpan SeriesLifetime = TimeSpan.FromDays(1);

    /// <summary>How often <see cref="SeriesKeepAlive"/> re-records 0 on every counter series.</summary>
    public static readonly TimeSpan KeepAliveInterval = TimeSpan.FromHours(1);

    private static readonly double[] Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

    // Rooted here: it lives as long as the process, like the adapter.
    private static SeriesKeepAlive? KeepAlive;

    private static readonly Lazy<IDisposable> Adapter = new(() =>
    {
        Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressMeters = true });
        var adapter = MeterAdapter.StartListening(AdapterOptions(Metrics.DefaultRegistry));
        KeepAlive = new SeriesKeepAlive(KeepAliveInterval);
        return adapter;
    });

    /// <summary>Idempotent: every service (and every test host in one process) shares the adapter.</summary>
    public static void EnsureStarted() => _ = Adapter.Value;

    /// <summary>
    /// Lets counter series go that will never count again (bounded label sets are the rule; a label value that
    /// leaves for good, such as a removed destination, is the exception): the keep-alive stops touching them and
    /// the adapter drops them after <see cref="SeriesLifetime"/>. Returns how many series were let go.
    /// </summary>
    public static int StopKeepingAlive(Func<System.Diagnostics.Metrics.Instrument, IReadOnlyList<KeyValuePair<string, object?>>, bool> match) =>
        KeepAlive?.Forget(match) ?? 0;

    /// <summary>The adapter's settings, publishing into <paramref name="registry"/> (public for the lifetime test).</summary>
    public static MeterAdapterOptions AdapterOptions(CollectorRegistry registry) => new()
    {
        Registry = registry,
        // The factory, when set, wins over Registry: both name the same registry.
        MetricFactory = Metrics.WithCustomRegistry(registry),
        ResolveHistogramBuckets = _ => Buckets,
        MetricsExpireAfter = SeriesLifetime,
    };
}
