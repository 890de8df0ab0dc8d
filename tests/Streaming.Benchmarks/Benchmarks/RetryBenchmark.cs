using System.Diagnostics;
using Streaming.Benchmarks.Infrastructure;
using Streaming.Contracts;
using Streaming.Testing;

namespace Streaming.Benchmarks.Benchmarks;

/// <summary>
/// 5. Retry tiers: how late after their not-before retries actually fire (RETRY_DELAYS=1s,2s, a stub
/// that fails the first one or two attempts), and the main lane's delivery rate while many events sit
/// in the retry tiers, compared with empty tiers.
/// </summary>
public sealed class RetryBenchmark : IBenchmark
{
    private const string Delays = "1s,2s";
    private const int RetryPartitions = 6;

    /// <summary>The circuit breaker would (rightly) open when every first attempt fails; it is not what is measured here.</summary>
    private static readonly (string, string?)[] WorkerSettings = [("CIRCUIT_FAILURE_RATIO", "1"), ("CIRCUIT_MIN_THROUGHPUT", "1000000")];

    public string Name => "retry";

    public string Title => "5. Retry timing and the main lane with a retry backlog";

    public TimeSpan Budget => TimeSpan.FromMinutes(3);

    public async Task RunAsync(BenchReport report, BenchOptions options)
    {
        await MeasureLatenessAsync(report, options);
        await MeasureBacklogAsync(report, options);
    }

    private static async Task MeasureLatenessAsync(BenchReport report, BenchOptions options)
    {
        // Low enough that the worker is never the bottleneck (each event takes 2.5 attempts on average):
        // lateness is then the tier mechanism's, not a queue's.
        var rate = options.Quick ? 10 : 50;
        var seconds = options.Quick ? 4 : 12;
        var events = rate * seconds;
        await using var cluster = await BenchCluster.StartAsync(Delays, retryPartitions: RetryPartitions);
        await using var stub = await BenchStub.StartAsync();
        // Odd events fail once (retried from the 1s tier), even ones twice (then from the 2s tier too).
        stub.Reply = (id, attempt) => id.StartsWith("r-", StringComparison.Ordinal) && attempt <= (int.Parse(id[2..], System.Globalization.CultureInfo.InvariantCulture) % 2 == 0 ? 2 : 1)
            ? new StubReply(503)
            : StubReply.Ok;
        await using var worker = await cluster.StartWorkerAsync(Lane.Messages, stub.LaneUrl(Lane.Messages), WorkerSettings);
        var topic = cluster.Topology[Lane.Messages].Main.Name;
        using var producer = cluster.CreateProducer(lingerMs: 2);
        BenchCluster.ProduceAll(producer, [(topic, BenchCluster.LaneRecord(Lane.Messages, "warm", "warm", DateTimeOffset.UtcNow))]);
        await stub.WaitForAsync(s => s.Succeeded >= 1, TimeSpan.FromSeconds(30));
        stub.Reset();

        var clock = Stopwatch.StartNew();
        for (var n = 0; n < events; n++)
        {
            var due = TimeSpan.FromSeconds((double)n / rate);
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed);
            }

            BenchCluster.ProduceWaiting(producer, topic, BenchCluster.LaneRecord(Lane.Messages, $"r-{n}", Webhooks.WaId(n % 5000), DateTimeOffset.UtcNow), _ => { });
        }

        producer.Flush(TimeSpan.FromSeconds(30));
        var complete = await stub.WaitForAsync(s => s.Succeeded >= events, options.Seconds(30, 15));

        // not-before of every retry record, by tier, read back from Kafka; attempts as the stub saw them.
        var tiers = cluster.Topology[Lane.Messages].RetryTiers;
        var notBefore = TopicReader.ReadAll(cluster.BootstrapServers, tiers.Select(t => t.Name).ToArray())
            .GroupBy(r => (r.Header(HeaderNames.EventId) ?? "", r.Topic))
            .ToDictionary(g => g.Key, g => DateTimeOffset.Parse(g.First().Header(HeaderNames.NotBefore)!, System.Globalization.CultureInfo.InvariantCulture).UtcTicks);
        var attempts = stub.Hits.GroupBy(h => h.EventId).ToDictionary(g => g.Key, g => g.OrderBy(h => h.Attempt).Select(h => h.ArrivedTicks).ToArray());

        var table = report.Table($"Retry lateness: attempt arrival at the stub minus the record's not-before ({events:#,0} events at {rate}/s, RETRY_DELAYS={Delays}, no jitter)",
            new Column("tier", "tier"), new Column("retries", "retries", Format.Integer), new Column("p50", "late p50 ms", Format.Millis),
            new Column("p99", "late p99 ms", Format.Millis), new Column("max", "late max ms", Format.Millis), new Column("early", "early (before not-before)", Format.Integer),
            new Column("gap50", "failure → retry p50 ms", Format.Millis));
        for (var tier = 0; tier < tiers.Count; tier++)
        {
            var late = new Samples();
            var gap = new Samples();
            var early = 0;
            foreach (var ((eventId, tierTopic), due) in notBefore)
            {
                if (tierTopic != tiers[tier].Name || !attempts.TryGetValue(eventId, out var arrivals) || arrivals.Length < tier + 2)
                {
                    continue;
                }

                var lateMs = TimeSpan.FromTicks(arrivals[tier + 1] - due).TotalMilliseconds;
                late.Add(lateMs);
                gap.Add(TimeSpan.FromTicks(arrivals[tier + 1] - arrivals[tier]).TotalMilliseconds);
                early += lateMs < 0 ? 1 : 0;
            }

            table.Add(("tier", tiers[tier].Name[(tiers[tier].Name.LastIndexOf('.') + 1)..]), ("retries", late.Count), ("p50", late.Percentile(50)),
                ("p99", late.Percentile(99)), ("max", late.Max), ("early", early), ("gap50", gap.Percentile(50)));
            report.Headlines.Add($"{DurationText(tiers[tier].RetryDelay)} tier fires {late.Percentile(50):0} ms (p50) / {late.Percentile(99):0} ms (p99) after not-before");
        }

        if (!complete)
        {
            report.Notes.Add($"Only {stub.Succeeded:#,0} of {events:#,0} retried events were delivered in time.");
        }

        report.Notes.Add("Lateness is the second (third) attempt's arrival at the stub minus the not-before header of the tier record it came from, read back from Kafka. A tier partition is paused until its head record is due, then resumed; the poll loop checks every 100 ms. " +
            "After the resume the partition waits for its broker's next fetch, and the embedded broker holds a fetch that finds no new data for the full fetch.wait.max.ms (500 ms): much of the lateness here is that.");
        report.Notes.Add("The circuit breaker is set not to open (CIRCUIT_FAILURE_RATIO=1, CIRCUIT_MIN_THROUGHPUT=1000000): with every first attempt failing it would pause consumption, which is its job but not what this measures.");
    }

    private static async Task MeasureBacklogAsync(BenchReport report, BenchOptions options)
    {
        var waiting = options.Size(100_000, 10_000);
        var events = options.Size(40_000, 2_000);
        var table = report.Table($"Main-lane delivery rate with events waiting in the retry tiers ({events:#,0} main-lane events per run, stub answers at once)",
            new Column("run", "run", Format.Integer), new Column("waiting", "waiting in tiers", Format.Integer), new Column("retained", "still held by the broker", Format.Integer),
            new Column("rate", "main lane ev/s", Format.Rate), new Column("complete", "all delivered"));
        var rates = new Dictionary<int, List<double>> { [0] = [], [waiting] = [] };
        await using var stub = await BenchStub.StartAsync();

        // Alternating runs: the rate of one short run varies a lot on this machine, so each case runs twice.
        int[] order = options.Quick ? [0, waiting] : [0, waiting, 0, waiting];
        for (var run = 0; run < order.Length; run++)
        {
            var backlog = order[run];
            await using var cluster = await BenchCluster.StartAsync(Delays, retryPartitions: RetryPartitions);
            var retained = backlog > 0 ? ProduceWaiting(cluster, Lane.Messages, backlog, "b5wait") : 0;
            var result = await WorkerRun.MeasureAsync(cluster, stub, Lane.Messages, events, options.Seconds(6, 2), $"b5main{run}", WorkerSettings);
            rates[backlog].Add(result.Rate);
            table.Add(("run", run + 1), ("waiting", backlog), ("retained", backlog > 0 ? retained : null), ("rate", result.Rate), ("complete", result.CompleteText));
        }

        var empty = Median(rates[0]);
        var full = Median(rates[waiting]);
        report.Headlines.Add($"main lane with {waiting:#,0} events waiting in the tiers: {full:#,0} ev/s vs {empty:#,0} ev/s with empty tiers (medians), ratio {full / empty:0.00}");
        report.Notes.Add($"The waiting events are written straight into the two tier topics ({RetryPartitions} partitions each) with the headers the worker's router writes and a not-before 30 min ahead, so none falls due during the run; writing them through failed deliveries would take minutes on this machine.");
        report.Notes.Add("Each run starts a fresh cluster and worker; the main-lane backlog is delivered with a window of 6 s after the first delivery (as in benchmark 4); the rate is between the 10th and 90th percentile delivery, so a run measures only a few seconds and varies from run to run.");
        report.Notes.Add("'still held by the broker' counts the records the embedded cluster kept (it drops the oldest beyond ~5 MiB / 100k batches per partition); if it is below 'waiting in tiers', fewer events than intended were waiting.");
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Where(double.IsFinite).Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Writes <paramref name="count"/> records due in 30 minutes into the lane's tiers; returns how many the broker holds.</summary>
    internal static long ProduceWaiting(BenchCluster cluster, Lane lane, int count, string run)
    {
        var tiers = cluster.Topology[lane].RetryTiers;
        var due = DateTimeOffset.UtcNow.AddMinutes(30);
        using var producer = cluster.CreateProducer(lingerMs: 20);
        var failed = BenchCluster.ProduceAll(producer, Enumerable.Range(0, count)
            .Select(i => (tiers[i % tiers.Count].Name, cluster.TierRecord(lane, $"{run}-{i}", Webhooks.WaId(i % 10_000), due))));
        if (failed > 0)
        {
            throw new InvalidOperationException($"{failed} waiting records were not produced");
        }

        return cluster.Retention(tiers.Select(t => t.Name).ToArray()).Retained;
    }

    private static string DurationText(TimeSpan? delay) => delay is { } d ? Streaming.Kafka.DurationList.Format(d) : "?";
}
