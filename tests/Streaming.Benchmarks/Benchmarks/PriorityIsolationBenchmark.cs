using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;
using Streaming.Benchmarks.Infrastructure;
using Streaming.Contracts;
using Streaming.Testing;

namespace Streaming.Benchmarks.Benchmarks;

/// <summary>
/// 3. Priority isolation: customer messages arrive at a steady rate while a flood of statuses is written
/// as fast as the producer takes them. Messages' end-to-end latency (envelope receivedAt → stub receipt)
/// with and without the flood, for the pipeline's layout (own topic, own group, own worker per lane) and
/// for a single-topic baseline where both kinds go to one topic read by one worker.
/// </summary>
public sealed class PriorityIsolationBenchmark : IBenchmark
{
    private const double MessagesPerSecond = 50;

    /// <summary>Per lane, as in production (MESSAGES_PARTITIONS / STATUSES_PARTITIONS default).</summary>
    private const int Partitions = 12;
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    private static TimeSpan FloodWindow(BenchOptions options) => options.Seconds(30, 5);

    public string Name => "priority";

    public string Title => "3. Priority isolation: messages during a status flood";

    public TimeSpan Budget => TimeSpan.FromMinutes(3);

    private sealed record ModeResult(
        string Layout, bool Flood, Samples Latency, int Sent, int Delivered, double[] UndeliveredAges,
        int FloodSize, long FloodPruned, long FloodDelivered, double FloodProduceSeconds, double FloodSeconds, bool FloodDrained)
    {
        /// <summary>A percentile over every message sent, undelivered ones counting as later than any delivered.</summary>
        public object Percentile(double p)
        {
            if (Sent == 0)
            {
                return double.NaN;
            }

            var rank = (int)Math.Ceiling(p / 100.0 * Sent);
            // An undelivered message's latency is at least its age when the run ended: the k-th smallest
            // age bounds the k-th smallest of their latencies from below.
            return rank <= Delivered ? Latency.Percentile(100.0 * rank / Delivered) : $"> {UndeliveredAges[Math.Min(rank - Delivered, UndeliveredAges.Length) - 1]:0.#} s (undelivered)";
        }

        public string PercentileText(double p) => Percentile(p) is double d ? $"{d:#,0} ms" : (string)Percentile(p);
    }

    public async Task RunAsync(BenchReport report, BenchOptions options)
    {
        var floodSize = options.Size(200_000, 5_000);
        var table = report.Table($"Message latency, receivedAt → downstream receipt ({MessagesPerSecond:0} messages/s)",
            new Column("layout", "layout"), new Column("flood", "status flood"), new Column("messages", "messages", Format.Integer),
            new Column("p50", "p50 ms", Format.Millis), new Column("p99", "p99 ms", Format.Millis), new Column("max", "max ms", Format.Millis),
            new Column("floodProduce", "flood written in s", Format.Millis), new Column("floodDrain", "flood delivered in s", Format.Millis),
            new Column("statusRate", "statuses/s delivered", Format.Rate));

        var results = new List<ModeResult>();
        foreach (var (singleTopic, flood) in new[] { (false, false), (false, true), (true, false), (true, true) })
        {
            var r = await RunModeAsync(singleTopic, flood ? floodSize : 0, options);
            results.Add(r);
            table.Add(("layout", r.Layout), ("flood", flood ? $"{floodSize:#,0} statuses" : "none"),
                ("messages", r.Delivered == r.Sent ? r.Sent : $"{r.Delivered:#,0} of {r.Sent:#,0} delivered"),
                ("p50", r.Percentile(50)), ("p99", r.Percentile(99)), ("max", r.Delivered == r.Sent ? r.Latency.Max : r.Percentile(100)),
                ("floodProduce", flood ? r.FloodProduceSeconds : null),
                ("floodDrain", flood ? (r.FloodDrained ? r.FloodSeconds : $"{r.FloodDelivered:#,0} delivered in {r.FloodSeconds:0} s") : null),
                ("statusRate", flood && r.FloodSeconds > 0 ? r.FloodDelivered / r.FloodSeconds : null));
        }

        foreach (var r in results.Where(r => r.FloodPruned > 0))
        {
            report.Notes.Add($"{r.Layout}: the embedded broker dropped {r.FloodPruned:#,0} records of the statuses topic (it keeps ~5 MiB per partition), so the flood was smaller than intended.");
        }

        report.Headlines.Add($"own lanes: message p99 {results[0].PercentileText(99)} without the flood, {results[1].PercentileText(99)} with it; " +
            $"single topic: {results[2].PercentileText(99)} without, {results[3].PercentileText(99)} with it");
        report.Notes.Add("Load comes from a producer in this process (idempotent, acks=all, like the ingress), not through HTTP: the ingress cannot be told to write both kinds to one topic, and the same generator must feed every layout. receivedAt is stamped just before the produce call, as the ingress does on arrival.");
        report.Notes.Add("Own lanes: the messages and statuses workers (in this process) each read their own topic with their own group. Single topic: messages are written to the statuses topic and the one statuses worker delivers both, so messages queue behind the backlog of statuses.");
        report.Notes.Add($"The flood ({floodSize:#,0} delivery statuses, keys over 10,000 customers) is written as fast as the producer takes it, far faster than one worker delivers, so a backlog builds; messages keep coming at {MessagesPerSecond:0}/s until the flood has been delivered, for at most {FloodWindow(options).TotalSeconds:0} s; then messages get {Grace.TotalSeconds:0} s more. A message still undelivered counts as slower than every delivered one, so a percentile that falls among them reads '> N s (undelivered)', N being a lower bound from their ages when the run ended. Stub answers at once; {Partitions} partitions per lane topic, as in production.");
        var fetchWait = new Streaming.Worker.WorkerOptions().FetchWaitMs;
        report.Notes.Add($"Even without a flood, latency here is mostly the embedded broker's: it holds a fetch that finds no new data for the consumer's full fetch.wait.max.ms (the worker's WORKER_FETCH_WAIT_MS, {fetchWait} ms) instead of answering when data arrives, as a real broker does; so a lone message waits 0–{fetchWait} ms.");
        report.Notes.Add("On this 2-core machine the statuses worker draining the flood takes CPU from the messages worker, so part of the flood's effect on isolated messages is CPU contention that separate pods would not have.");
    }

    private static async Task<ModeResult> RunModeAsync(bool singleTopic, int floodSize, BenchOptions options)
    {
        var layout = singleTopic ? "single topic, one worker" : "own lanes (pipeline)";
        await using var cluster = await BenchCluster.StartAsync(mainPartitions: Partitions);
        await using var stub = await BenchStub.StartAsync();
        var workers = new List<WorkerHost>();
        try
        {
            if (!singleTopic)
            {
                workers.Add(await cluster.StartWorkerAsync(Lane.Messages, stub.LaneUrl(Lane.Messages)));
            }

            workers.Add(await cluster.StartWorkerAsync(Lane.Statuses, stub.LaneUrl(Lane.Statuses)));
            var messagesTopic = cluster.Topology[singleTopic ? Lane.Statuses : Lane.Messages].Main.Name;
            var statusesTopic = cluster.Topology[Lane.Statuses].Main.Name;
            using var producer = cluster.CreateProducer(lingerMs: 2);

            // Warm-up: both workers have joined their groups and delivered once.
            BenchCluster.ProduceAll(producer, [(messagesTopic, BenchCluster.LaneRecord(Lane.Messages, "warm-m", "warm", DateTimeOffset.UtcNow)),
                (statusesTopic, BenchCluster.LaneRecord(Lane.Statuses, "warm-s", "warm", DateTimeOffset.UtcNow))]);
            await stub.WaitForAsync(s => s.Succeeded >= 2, TimeSpan.FromSeconds(30));
            stub.Reset();
            stub.CountPrefix = "flood-";

            var sent = new ConcurrentDictionary<string, long>();
            using var stopMessages = new CancellationTokenSource();
            var messages = Task.Run(() => StreamMessages(producer, messagesTopic, sent, stopMessages.Token));
            var window = options.Seconds(8, 3);
            var clock = Stopwatch.StartNew();
            double produceSeconds = 0, floodSeconds = 0;
            long pruned = 0;
            var drained = true;
            if (floodSize > 0)
            {
                using var floodProducer = cluster.CreateProducer(lingerMs: 5);
                var now = DateTimeOffset.UtcNow;
                await Task.Run(() => BenchCluster.ProduceAll(floodProducer, Enumerable.Range(0, floodSize)
                    .Select(i => (statusesTopic, BenchCluster.LaneRecord(Lane.Statuses, $"flood-{i}", Webhooks.WaId(i % 10_000), now)))));
                produceSeconds = clock.Elapsed.TotalSeconds;
                var (written, kept) = cluster.Retention(statusesTopic);
                pruned = written - kept;
                drained = await stub.WaitForAsync(s => s.SucceededWithPrefix >= floodSize, FloodWindow(options) - clock.Elapsed);
                floodSeconds = clock.Elapsed.TotalSeconds;
            }

            if (clock.Elapsed < window)
            {
                await Task.Delay(window - clock.Elapsed);
            }

            await stopMessages.CancelAsync();
            await messages;
            await stub.WaitForAsync(s => s.Succeeded - s.SucceededWithPrefix >= sent.Count, Grace);
            var floodDelivered = stub.SucceededWithPrefix;
            var ended = DateTime.UtcNow.Ticks;

            var latency = new Samples();
            var delivered = 0;
            var seen = new HashSet<string>();
            foreach (var hit in stub.Hits.Where(h => h.Status == 200).GroupBy(h => h.EventId))
            {
                if (sent.TryGetValue(hit.Key, out var receivedAt))
                {
                    delivered++;
                    seen.Add(hit.Key);
                    latency.Add(TimeSpan.FromTicks(hit.Min(h => h.ArrivedTicks) - receivedAt).TotalMilliseconds);
                }
            }

            var undeliveredAges = sent.Where(kv => !seen.Contains(kv.Key)).Select(kv => TimeSpan.FromTicks(ended - kv.Value).TotalSeconds).Order().ToArray();
            return new ModeResult(layout, floodSize > 0, latency, sent.Count, delivered, undeliveredAges, floodSize, pruned, floodDelivered, produceSeconds, floodSeconds, drained);
        }
        finally
        {
            foreach (var worker in workers)
            {
                await worker.DisposeAsync();
            }
        }
    }

    /// <summary>Messages at a steady rate until cancelled; remembers each one's receivedAt.</summary>
    private static async Task StreamMessages(IProducer<string?, byte[]> producer, string topic, ConcurrentDictionary<string, long> sent, CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var due = TimeSpan.FromSeconds(n / MessagesPerSecond);
            if (due > clock.Elapsed)
            {
                try
                {
                    await Task.Delay(due - clock.Elapsed, stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            var id = $"msg-{n}";
            var receivedAt = DateTimeOffset.UtcNow;
            sent[id] = receivedAt.UtcTicks;
            BenchCluster.ProduceWaiting(producer, topic, BenchCluster.LaneRecord(Lane.Messages, id, $"c{n % 500}", receivedAt), _ => { });
        }

        producer.Flush(TimeSpan.FromSeconds(30));
    }
}
