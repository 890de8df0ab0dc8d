using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Streaming.Benchmarks.Infrastructure;
using Streaming.Contracts;
using Streaming.Testing;

namespace Streaming.Benchmarks.Benchmarks;

/// <summary>
/// 7. Destinations: one messages worker with a three-destination table. healthy answers at once, slow
/// after 2 s, dead 503 and then refuses connections for the whole run. healthy's delivered rate and
/// end-to-end p99 are compared with healthy alone (same table, same worker settings, only healthy's
/// traffic), measured in the same run; memory is sampled while dead stays dead.
/// </summary>
public sealed class DestinationIsolationBenchmark : IBenchmark
{
    private const string Secret = "whsec_YmVuY2gtZGVzdGluYXRpb25zLXNpZ25pbmcta2V5LTE=";
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    public string Name => "destinations";

    public string Title => "7. Destinations: a healthy destination beside a slow and a dead one";

    public TimeSpan Budget => TimeSpan.FromMinutes(3);

    private sealed record PhaseResult(string Mode, int Sent, int Delivered, double Rate, Samples Latency, long OthersSent,
        long SlowDelivered, long DeadAttempts, double HeapStartMiB, double HeapMaxMiB, double HeapEndMiB, double WorkingSetMaxMiB, double DeadWaitingMax, double SlowInFlightMax);

    public async Task RunAsync(BenchReport report, BenchOptions options)
    {
        var window = options.Seconds(20, 6);
        var healthyRate = options.Size(400, 150);
        var otherRate = options.Size(40, 15);
        var table = report.Table($"healthy at {healthyRate}/s for {window.TotalSeconds:0} s; slow and dead at {otherRate}/s each in the mixed run",
            new Column("mode", "run"), new Column("sent", "healthy sent", Format.Integer), new Column("delivered", "healthy delivered", Format.Integer),
            new Column("rate", "healthy delivered/s", Format.Rate), new Column("p50", "healthy p50 ms", Format.Millis), new Column("p99", "healthy p99 ms", Format.Millis),
            new Column("others", "slow+dead sent", Format.Integer), new Column("slow", "slow delivered", Format.Integer), new Column("dead", "dead attempts", Format.Integer),
            new Column("heap", "managed heap start→max→end MiB"), new Column("ws", "working set max MiB", Format.MiB),
            new Column("waiting", "max dead waiting", Format.Integer), new Column("slowInFlight", "max slow in flight", Format.Integer));

        var alone = await RunPhaseAsync(false, window, healthyRate, otherRate);
        var mixed = await RunPhaseAsync(true, window, healthyRate, otherRate);
        foreach (var r in new[] { alone, mixed })
        {
            table.Add(("mode", r.Mode), ("sent", r.Sent), ("delivered", r.Delivered), ("rate", r.Rate), ("p50", r.Latency.Percentile(50)), ("p99", r.Latency.Percentile(99)),
                ("others", r.OthersSent), ("slow", r.SlowDelivered), ("dead", r.DeadAttempts),
                ("heap", $"{r.HeapStartMiB:0} → {r.HeapMaxMiB:0} → {r.HeapEndMiB:0}"), ("ws", r.WorkingSetMaxMiB), ("waiting", r.DeadWaitingMax), ("slowInFlight", r.SlowInFlightMax));
        }

        var throughput = mixed.Rate / alone.Rate;
        var p99 = mixed.Latency.Percentile(99) / alone.Latency.Percentile(99);
        report.Headlines.Add($"healthy beside slow and dead: throughput {throughput:0.00}× of alone (goal ≥ 0.9), p99 {p99:0.00}× (goal ≤ 1.5)");
        report.Notes.Add("One messages worker in this process, default settings (WORKER_MAX_IN_FLIGHT 64, WORKER_DESTINATION_MAX_IN_FLIGHT 16), RETRY_DELAYS 1s,2s, 4 partitions; events carry their business number's phone_number_id; each destination's events spread over its own 5,000 keys (customers), since per-key order would otherwise make healthy's events of a customer shared with slow wait behind slow's answers. Latency is the envelope's receivedAt (stamped before the produce) to the stub's receipt, so it includes the embedded broker's fetch wait.");
        report.Notes.Add("healthy answers 200 at once; slow answers 200 after 2 s (its limit stays at 16: slow is not an error); dead answers 503 to its first 5 attempts, then its port is closed (connection refused) until the end. Its events cycle through the retry tiers (circuit open) into the DLQ with destination dead.");
        report.Notes.Add("Memory: the process's managed heap (GC.GetTotalMemory) and working set, sampled every 500 ms; they include the embedded broker, the three stubs and the load generator, not the worker alone. Max dead waiting / slow in flight are the worker's own gauges (whatsapp_worker_destination_waiting / _in_flight), sampled likewise.");
    }

    private static async Task<PhaseResult> RunPhaseAsync(bool mixed, TimeSpan window, int healthyRate, int otherRate)
    {
        await using var cluster = await BenchCluster.StartAsync();
        await using var healthy = await BenchStub.StartAsync();
        await using var slow = await BenchStub.StartAsync();
        slow.AnswerAfter(TimeSpan.FromSeconds(2));
        var dead = await BenchStub.StartAsync();
        dead.Reply = (_, _) => new StubReply(503);
        var deadDisposed = false;
        var directory = Path.Combine(Path.GetTempPath(), "bench-destinations-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var file = Path.Combine(directory, "destinations.yaml");
            await File.WriteAllTextAsync(file, $"""
                destinations:
                  - name: healthy
                    phoneNumberIds: ["5001"]
                    messagesUrl: {healthy.LaneUrl(Lane.Messages)}
                    signingSecret: {Secret}
                  - name: slow
                    phoneNumberIds: ["5002"]
                    messagesUrl: {slow.LaneUrl(Lane.Messages)}
                    signingSecret: {Secret}
                  - name: dead
                    phoneNumberIds: ["5003"]
                    messagesUrl: {dead.LaneUrl(Lane.Messages)}
                    signingSecret: {Secret}
                """);
            await using var worker = await cluster.StartWorkerAsync(Lane.Messages, healthy.LaneUrl(Lane.Messages),
                ("DESTINATIONS_FILE", file), ("DELIVERY_URL", ""), ("DELIVERY_SIGNING_SECRET", ""));
            var topic = cluster.Topology[Lane.Messages].Main.Name;
            using var producer = cluster.CreateProducer(lingerMs: 2);

            BenchCluster.ProduceAll(producer, [(topic, Record("warm", "5001", "warm", DateTimeOffset.UtcNow))]);
            await healthy.WaitForAsync(s => s.Succeeded >= 1, TimeSpan.FromSeconds(60));
            healthy.Reset();

            var sent = new ConcurrentDictionary<string, long>();
            long others = 0;
            double heapStart = Heap(), heapMax = heapStart, wsMax = 0, waitingMax = 0, slowInFlightMax = 0;
            using var stop = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    heapMax = Math.Max(heapMax, Heap());
                    wsMax = Math.Max(wsMax, Environment.WorkingSet / 1048576.0);
                    try
                    {
                        var metrics = await worker.Client.GetStringAsync("/metrics");
                        waitingMax = Math.Max(waitingMax, Gauge(metrics, "whatsapp_worker_destination_waiting", "dead"));
                        slowInFlightMax = Math.Max(slowInFlightMax, Gauge(metrics, "whatsapp_worker_destination_in_flight", "slow"));
                    }
                    catch (HttpRequestException)
                    {
                    }

                    try
                    {
                        await Task.Delay(500, stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
            });

            var clock = Stopwatch.StartNew();
            var started = DateTime.UtcNow.Ticks;
            for (var n = 0; clock.Elapsed < window; n++)
            {
                var due = TimeSpan.FromSeconds(n / (double)healthyRate);
                if (due > clock.Elapsed)
                {
                    await Task.Delay(due - clock.Elapsed);
                }

                var now = DateTimeOffset.UtcNow;
                var id = $"h-{n}";
                sent[id] = now.UtcTicks;
                BenchCluster.ProduceWaiting(producer, topic, Record(id, "5001", Key(1, n), now), _ => { });
                if (mixed && n % Math.Max(1, healthyRate / otherRate) == 0)
                {
                    BenchCluster.ProduceWaiting(producer, topic, Record($"s-{n}", "5002", Key(2, n), now), _ => { });
                    BenchCluster.ProduceWaiting(producer, topic, Record($"d-{n}", "5003", Key(3, n), now), _ => { });
                    others += 2;
                }

                if (mixed && !deadDisposed && dead.Received >= 5)
                {
                    deadDisposed = true;
                    await dead.DisposeAsync();
                }
            }

            producer.Flush(TimeSpan.FromSeconds(30));
            await healthy.WaitForAsync(s => s.Succeeded >= sent.Count, Grace);
            await stop.CancelAsync();
            await sampler;

            var end = started + window.Ticks;
            var latency = new Samples();
            var delivered = 0;
            var inWindow = 0;
            foreach (var hit in healthy.Hits.Where(h => h.Status == 200).GroupBy(h => h.EventId))
            {
                if (sent.TryGetValue(hit.Key, out var receivedAt))
                {
                    var first = hit.Min(h => h.ArrivedTicks);
                    delivered++;
                    inWindow += first <= end ? 1 : 0;
                    latency.Add(TimeSpan.FromTicks(first - receivedAt).TotalMilliseconds);
                }
            }

            // Undelivered healthy events count as slower than any delivered one.
            foreach (var _ in Enumerable.Range(0, sent.Count - delivered))
            {
                latency.Add(double.PositiveInfinity);
            }

            return new PhaseResult(mixed ? "healthy + slow + dead" : "healthy alone", sent.Count, delivered, inWindow / window.TotalSeconds, latency, others,
                slow.Succeeded, dead.Received, heapStart, heapMax, Heap(), wsMax, waitingMax, slowInFlightMax);
        }
        finally
        {
            if (!deadDisposed)
            {
                await dead.DisposeAsync();
            }

            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>
    /// Each destination's customers are its own: the worker keeps per-key order (wa_id), so a customer
    /// shared by healthy and slow would wait behind slow's 2 s answers whatever the isolation.
    /// </summary>
    private static string Key(int destination, int n) => $"49{destination}{n % 5000:D5}";

    private static double Heap() => GC.GetTotalMemory(false) / 1048576.0;

    private static double Gauge(string metrics, string name, string destination) =>
        metrics.Split('\n').Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) && l.Contains($"destination=\"{destination}\"", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Sum();

    private static Message<string?, byte[]> Record(string eventId, string phoneNumberId, string key, DateTimeOffset receivedAt) => new()
    {
        Key = key,
        Value = JsonSerializer.SerializeToUtf8Bytes(new EventEnvelope
        {
            EventId = eventId, Type = EventTypes.Message, Lane = LaneNames.Messages, WabaId = "bench-waba", PhoneNumberId = phoneNumberId, ReceivedAt = receivedAt,
            Payload = JsonDocument.Parse($$$"""{"from":"{{{key}}}","id":"{{{eventId}}}","type":"text","text":{"body":"hi"}}""").RootElement,
        }, ContractsJsonContext.Default.EventEnvelope),
        Headers = new Headers
        {
            { HeaderNames.EventId, Encoding.UTF8.GetBytes(eventId) },
            { HeaderNames.EventType, Encoding.UTF8.GetBytes(EventTypes.Message) },
            { HeaderNames.ReceivedAt, Encoding.UTF8.GetBytes(receivedAt.ToString("O", CultureInfo.InvariantCulture)) },
        },
    };
}
