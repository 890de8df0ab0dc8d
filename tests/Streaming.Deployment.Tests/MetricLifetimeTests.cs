using System.Diagnostics.Metrics;
using Prometheus;
using Streaming.Hosting;

namespace Streaming.Deployment.Tests;

/// <summary>
/// Series the alerts and the dashboard read stay exported while they do not change: prometheus-net's meter
/// adapter drops a series untouched for its MetricsExpireAfter (5 minutes by default, at most 1 day), so the
/// services set the longest expiry and touch every counter series well within it (SeriesKeepAlive).
/// </summary>
public sealed class MetricLifetimeTests
{
    private static readonly TimeSpan ShortExpiry = TimeSpan.FromSeconds(1);

    [Fact]
    public void The_services_keep_series_for_a_day_and_touch_counters_hourly()
    {
        var options = PrometheusExport.AdapterOptions(Metrics.NewCustomRegistry());
        Assert.True(options.MetricsExpireAfter > MeterAdapterOptions.Default.MetricsExpireAfter,
            $"{options.MetricsExpireAfter} is not longer than prometheus-net's default {MeterAdapterOptions.Default.MetricsExpireAfter}");
        Assert.Equal(TimeSpan.FromDays(1), options.MetricsExpireAfter);
        Assert.True(PrometheusExport.KeepAliveInterval * 4 <= options.MetricsExpireAfter, "the keep-alive must touch series well within the expiry");
    }

    [Fact]
    public async Task Without_a_touch_an_unchanged_counter_series_expires()
    {
        using var meter = new Meter($"lifetime.expires.{Guid.NewGuid():N}");
        var registry = Metrics.NewCustomRegistry();
        using var adapter = MeterAdapter.StartListening(Options(registry, meter));
        meter.CreateCounter<long>("dead_lettered_total").Add(0, new KeyValuePair<string, object?>("reason", "poison"));
        // The series line: the family's HELP and TYPE lines stay after its last series is removed.
        var name = Prefix(meter) + "dead_lettered_total{reason=\"poison\"}";

        var first = await ScrapeAsync(registry);
        Assert.True(first.Contains(name, StringComparison.Ordinal), first);
        await PollAsync(async () => !(await ScrapeAsync(registry)).Contains(name, StringComparison.Ordinal), TimeSpan.FromSeconds(15),
            "the unchanged series to expire (the mechanism the keep-alive works against)");
    }

    [Fact]
    public async Task With_the_keep_alive_an_unchanged_counter_series_outlives_several_expiries_and_counts_its_first_step()
    {
        using var meter = new Meter($"lifetime.kept.{Guid.NewGuid():N}");
        var registry = Metrics.NewCustomRegistry();
        using var adapter = MeterAdapter.StartListening(Options(registry, meter));
        using var keepAlive = new SeriesKeepAlive(TimeSpan.FromMilliseconds(200), i => i.Meter == meter);
        var counter = meter.CreateCounter<long>("dead_lettered_total");
        var reason = new KeyValuePair<string, object?>("reason", "poison");
        counter.Add(0, reason);
        var series = Prefix(meter) + "dead_lettered_total{reason=\"poison\"}";

        // Five expiries: the adapter's reaper runs once per expiry, so an untouched series would be gone after two.
        var until = DateTime.UtcNow + ShortExpiry * 5;
        while (DateTime.UtcNow < until)
        {
            Assert.Contains(series + " 0", await ScrapeAsync(registry));
            await Task.Delay(100);
        }

        counter.Add(1, reason);
        Assert.Contains(series + " 1", await ScrapeAsync(registry));
    }

    [Fact]
    public async Task A_series_the_keep_alive_forgets_expires_while_the_others_stay()
    {
        using var meter = new Meter($"lifetime.forget.{Guid.NewGuid():N}");
        var registry = Metrics.NewCustomRegistry();
        using var adapter = MeterAdapter.StartListening(Options(registry, meter));
        using var keepAlive = new SeriesKeepAlive(TimeSpan.FromMilliseconds(200), i => i.Meter == meter);
        var counter = meter.CreateCounter<long>("destination_delivered_total");
        counter.Add(0, new KeyValuePair<string, object?>("destination", "acme"));
        counter.Add(0, new KeyValuePair<string, object?>("destination", "gone"));
        var acme = Prefix(meter) + "destination_delivered_total{destination=\"acme\"}";
        var gone = Prefix(meter) + "destination_delivered_total{destination=\"gone\"}";

        Assert.Equal(1, keepAlive.Forget((_, tags) => tags.Any(t => t.Key == "destination" && (string?)t.Value == "gone")));
        await PollAsync(async () => !(await ScrapeAsync(registry)).Contains(gone, StringComparison.Ordinal), TimeSpan.FromSeconds(15),
            "the forgotten series to expire");
        Assert.Contains(acme, await ScrapeAsync(registry));
    }

    private static MeterAdapterOptions Options(CollectorRegistry registry, Meter meter)
    {
        var options = PrometheusExport.AdapterOptions(registry);
        options.MetricsExpireAfter = ShortExpiry;
        options.InstrumentFilterPredicate = i => i.Meter == meter;
        return options;
    }

    private static string Prefix(Meter meter) => meter.Name.Replace('.', '_') + "_";

    private static async Task<string> ScrapeAsync(CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static async Task PollAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out after {timeout.TotalSeconds:0}s waiting for {what}");
            await Task.Delay(100);
        }
    }
}
