using System.Globalization;
using Streaming.Benchmarks.Infrastructure;
using Streaming.Contracts;
using Streaming.Testing;

namespace Streaming.Benchmarks.Benchmarks;

/// <summary>
/// 7. ORDERING=key against ORDERING=none, in the same run: the messages lane's delivery rate over a
/// backlog where 1 % of the events fail once (and so, with ORDERING=key, block their conversation), and
/// the records written to the retry tiers and the order topic per retried event.
/// </summary>
public sealed class OrderingBenchmark : IBenchmark
{
    private const string Delays = "1s,2s";
    private const int Keys = 500;

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
            new Column("complete", "all delivered"));
        var rates = new Dictionary<string, List<double>> { ["none"] = [], ["key"] = [] };
        var perRetried = new Dictionary<string, List<double>> { ["none"] = [], ["key"] = [] };
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
            rates[mode].Add(result.Rate);
            perRetried[mode].Add(per);
            table.Add(("run", run + 1), ("ordering", mode), ("rate", result.Rate), ("retried", retried), ("tiers", tiers), ("order", orderRecords),
                ("per", per), ("complete", result.CompleteText));
        }

        var none = Median(rates["none"]);
        var key = Median(rates["key"]);
        report.Headlines.Add($"ORDERING=key / ORDERING=none main-lane rate with 1 % failing once: {key:#,0} / {none:#,0} ev/s = {key / none:0.00} (medians; goal ≥ 0.9)");
        report.Headlines.Add($"records written per retried event: {Median(perRetried["key"]):0.0} with ORDERING=key, {Median(perRetried["none"]):0.0} with none " +
            $"(extra {Median(perRetried["key"]) - Median(perRetried["none"]):0.0})");
        report.Notes.Add($"{Keys} conversations: each retried event blocks its conversation for about a tier delay, so with ORDERING=key its later events are forwarded behind it (one tier record each) instead of being delivered at once.");
        report.Notes.Add("The rate is between the 10th and 90th percentile delivery, as in benchmark 4; the retried events and their followers arrive in the tail, so it is the rate of the conversations that are not blocked, which ordering must not slow.");
        report.Notes.Add("Records: every record written to the lane's retry tiers and to its order topic (block, progress, release tombstones; none with ORDERING=none), divided by the number of events that failed once.");
    }

    private static int Index(string eventId) =>
        int.TryParse(eventId[(eventId.LastIndexOf('-') + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : 1;

    private static double Median(List<double> values)
    {
        var sorted = values.Where(double.IsFinite).Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
