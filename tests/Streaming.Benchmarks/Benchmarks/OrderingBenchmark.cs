using System.Globalization;
using Streaming.Benchmarks.Infrastructure;
using Streaming.Contracts;
using Streaming.Testing;

namespace Streaming.Benchmarks.Benchmarks;

/// <summary>
/// 7. ORDERING=key against ORDERING=none, in the same run: the messages lane's delivery rate over a
/// backlog where 1 % of the events fail once (and so, with ORDERING=key, block their conversation), the
/// records written to the retry tiers and the order topic per retried event, whether every event was
/// delivered within the run's window, and how long a blocked conversation's next events waited.
/// </summary>
public sealed class OrderingBenchmark : IBenchmark
{
    private const string Delays = "1s,2s";
    /// <summary>Prime to 100: the failing events (every 100th) each block a different conversation, as in a real 1 %.</summary>
    private const int Keys = 499;

    /// <summary>How many of a blocked conversation's next events are timed behind its failed one.</summary>
    private const int Followers = 3;

    /// <summary>The circuit breaker is not what is measured.</summary>
    private static readonly (string, string?)[] WorkerSettings = [("CIRCUIT_FAILURE_RATIO", "1"), ("CIRCUIT_MIN_THROUGHPUT", "1000000")];

    public string Name => "ordering";

    public string Title => "7. Order across retries: ORDERING=key against ORDERING=none";

    public TimeSpan Budget => TimeSpan.FromMinutes(4);

    public async Task RunAsync(BenchReport report, BenchOptions options)
    {
        var events = options.Size(40_000, 2_000);
        var table = report.Table($"Messages lane, {events:#,0} events over {Keys} conversations, 1 % fail once (RETRY_DELAYS={Delays})",
            new Column("run", "run", Format.Integer), new Column("ordering", "ORDERING"), new Column("rate", "main lane ev/s", Format.Rate),
            new Column("retried", "events retried", Format.Integer), new Column("tiers", "retry-tier records", Format.Integer),
            new Column("order", "order-topic records", Format.Integer), new Column("per", "records per retried event", Format.Ratio),
            new Column("complete", "all delivered in the window"), new Column("p50", "followers' wait p50 (s)", Format.Ratio),
            new Column("p99", "followers' wait p99 (s)", Format.Ratio));
        var rates = new Dictionary<string, List<double>> { ["none"] = [], ["key"] = [] };
        var perRetried = new Dictionary<string, List<double>> { ["none"] = [], ["key"] = [] };
        var waits99 = new Dictionary<string, List<double>> { ["none"] = [], ["key"] = [] };
        await using var stub = await BenchStub.StartAsync();
        // Every 100th event fails its first attempt.
        stub.Reply = (id, attempt) => attempt == 1 && Index(id) % 100 == 0 ? new StubReply(503) : StubReply.Ok;

        // Alternating runs on fresh clusters: one short run varies a lot on a shared machine.
        string[] order = options.Quick ? ["none", "key"] : ["none", "key", "none", "key"];
        for (var run = 0; run < order.Length; run++)
        {
            var mode = order[run];
            await using var cluster = await BenchCluster.StartAsync(Delays);
            var result = await WorkerRun.MeasureAsync(cluster, stub, Lane.Messages, events, options.Seconds(30, 20), $"b7{mode}{run}", Keys,
                [.. WorkerSettings, ("ORDERING", mode)]);
            var lane = cluster.Topology[Lane.Messages];
            var retried = events / 100;
            var tiers = cluster.Retention(lane.RetryTiers.Select(t => t.Name).ToArray()).Written;
            var orderRecords = cluster.Retention(lane.Order.Name).Written;
            var per = (double)(tiers + orderRecords) / retried;
            var waits = FollowerWaits(stub.Hits, $"b7{mode}{run}-", events);
            rates[mode].Add(result.Rate);
            perRetried[mode].Add(per);
            waits99[mode].Add(Percentile(waits, 0.99));
            table.Add(("run", run + 1), ("ordering", mode), ("rate", result.Rate), ("retried", retried), ("tiers", tiers), ("order", orderRecords),
                ("per", per), ("complete", result.CompleteText), ("p50", Percentile(waits, 0.5)), ("p99", Percentile(waits, 0.99)));
        }

        var none = Median(rates["none"]);
        var key = Median(rates["key"]);
        report.Headlines.Add($"ORDERING=key / ORDERING=none main-lane rate with 1 % failing once: {key:#,0} / {none:#,0} ev/s = {key / none:0.00} (medians; goal ≥ 0.9)");
        report.Headlines.Add($"records written per retried event: {Median(perRetried["key"]):0.0} with ORDERING=key, {Median(perRetried["none"]):0.0} with none " +
            $"(extra {Median(perRetried["key"]) - Median(perRetried["none"]):0.0})");
        report.Headlines.Add($"a blocked conversation's next {Followers} events waited p99 {Median(waits99["key"]):0.00} s with ORDERING=key, {Median(waits99["none"]):0.00} s with none (medians of the runs)");
        report.Notes.Add($"Followers' wait: for each event that failed once, its conversation's next {Followers} events, from that event's failed attempt to their own delivery. With ORDERING=key they are held until it is delivered from its tier, so the wait is about the first tier's delay; with none they are not held.");
        report.Notes.Add($"{Keys} conversations: each retried event blocks its conversation for about a tier delay, so with ORDERING=key its later events are forwarded behind it (one tier record each) instead of being delivered at once.");
        report.Notes.Add("The rate is between the 10th and 90th percentile delivery, as in benchmark 4; the retried events and their followers arrive in the tail, so it is the rate of the conversations that are not blocked, which ordering must not slow.");
        report.Notes.Add("Records: every record written to the lane's retry tiers and to its order topic (block, progress, release tombstones; none with ORDERING=none), divided by the number of events that failed once.");
    }

    /// <summary>Seconds from each failed event's first attempt to the first delivery of each of its conversation's next events.</summary>
    private static List<double> FollowerWaits(IReadOnlyList<Hit> hits, string prefix, int events)
    {
        var mine = hits.Where(h => h.EventId.StartsWith(prefix, StringComparison.Ordinal)).ToArray();
        var failedAt = mine.Where(h => h.Attempt == 1 && h.Status is < 200 or >= 300).GroupBy(h => Index(h.EventId)).ToDictionary(g => g.Key, g => g.Min(h => h.ArrivedTicks));
        var deliveredAt = mine.Where(h => h.Status is >= 200 and < 300).GroupBy(h => Index(h.EventId)).ToDictionary(g => g.Key, g => g.Min(h => h.ArrivedTicks));
        var waits = new List<double>();
        foreach (var (head, at) in failedAt)
        {
            for (var n = 1; n <= Followers && head + (n * Keys) < events; n++)
            {
                if (deliveredAt.TryGetValue(head + (n * Keys), out var delivered))
                {
                    waits.Add(Math.Max(0, TimeSpan.FromTicks(delivered - at).TotalSeconds));
                }
            }
        }

        return waits;
    }

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
    }

    private static int Index(string eventId) =>
        int.TryParse(eventId[(eventId.LastIndexOf('-') + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : 1;

    private static double Median(List<double> values)
    {
        var sorted = values.Where(double.IsFinite).Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
