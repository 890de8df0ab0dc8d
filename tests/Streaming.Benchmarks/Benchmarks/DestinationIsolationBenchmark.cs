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
/// 7. Destinations: one messages worker with a table. healthy answers at once; in "slow + dead" beside it
/// slow answers 200 after 2 s and dead 503 and then refuses connections; in "four 8 s" four destinations
/// answer 200 after 8 s. healthy's delivered rate and end-to-end p99 are compared with healthy alone
/// (same table, same settings, only healthy's traffic), measured in the same run; memory is sampled.
/// Then the cost of the table's size: a backlog drained through a 1-destination and a 1,000-destination table.
/// </summary>
public sealed class DestinationIsolationBenchmark : IBenchmark
{
    private const string Secret = "whsec_YmVuY2gtZGVzdGluYXRpb25zLXNpZ25pbmcta2V5LTE=";
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    public string Name => "destinations";

    public string Title => "7. Destinations: a healthy destination beside a slow and a dead one";

    public TimeSpan Budget => TimeSpan.FromMinutes(6);

    private enum Mode
    {
        Alone,
        SlowAndDead,
        FourSlow,
    }

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

        var alone = await RunPhaseAsync(Mode.Alone, window, healthyRate, otherRate);
        var mixed = await RunPhaseAsync(Mode.SlowAndDead, window, healthyRate, otherRate);
        var fourSlow = await RunPhaseAsync(Mode.FourSlow, window, healthyRate, otherRate);
        foreach (var r in new[] { alone, mixed, fourSlow })
        {
            table.Add(("mode", r.Mode), ("sent", r.Sent), ("delivered", r.Delivered), ("rate", r.Rate), ("p50", r.Latency.Percentile(50)), ("p99", r.Latency.Percentile(99)),
                ("others", r.OthersSent), ("slow", r.SlowDelivered), ("dead", r.DeadAttempts),
                ("heap", $"{r.HeapStartMiB:0} → {r.HeapMaxMiB:0} → {r.HeapEndMiB:0}"), ("ws", r.WorkingSetMaxMiB), ("waiting", r.DeadWaitingMax), ("slowInFlight", r.SlowInFlightMax));
        }

        foreach (var r in new[] { mixed, fourSlow })
        {
            report.Headlines.Add($"healthy beside {r.Mode[10..]}: throughput {r.Rate / alone.Rate:0.00}× of alone (goal ≥ 0.9), p99 {r.Latency.Percentile(99) / alone.Latency.Percentile(99):0.00}× (goal ≤ 1.5)");
        }

        var backlog = options.Size(20_000, 4_000);
        var scale = report.Table($"a backlog of {backlog} events to one destination, drained through a table of 1 or 1,000 destinations",
            new Column("table", "table"), new Column("delivered", "delivered", Format.Integer), new Column("seconds", "drain s", Format.Millis), new Column("rate", "delivered/s", Format.Rate));
        var one = await DrainAsync(1, backlog);
        var thousand = await DrainAsync(1000, backlog);
        foreach (var (size, (delivered, elapsed)) in new[] { (1, one), (1000, thousand) })
        {
            scale.Add(("table", $"{size} destination{(size == 1 ? "" : "s")}"), ("delivered", delivered), ("seconds", elapsed.TotalSeconds), ("rate", delivered / elapsed.TotalSeconds));
        }

        report.Headlines.Add($"1,000-destination table: throughput {(thousand.Delivered / thousand.Elapsed.TotalSeconds) / (one.Delivered / one.Elapsed.TotalSeconds):0.00}× of a 1-destination table (goal ≥ 0.9)");
        report.Notes.Add("One messages worker in this process, default settings (WORKER_MAX_IN_FLIGHT 64, WORKER_DESTINATION_MAX_IN_FLIGHT 16), RETRY_DELAYS 1s,2s, 4 partitions; events carry their business number's phone_number_id; each destination's events spread over its own 5,000 keys (customers), since per-key order would otherwise make healthy's events of a customer shared with slow wait behind slow's answers. Latency is the envelope's receivedAt (stamped before the produce) to the stub's receipt, so it includes the embedded broker's fetch wait.");
        report.Notes.Add("healthy answers 200 at once; slow answers 200 after 2 s (a slow 2xx never grows its limit, and slow destinations share three quarters of the budget); dead answers 503 to its first 5 attempts, then its port is closed (connection refused) until the end. Its events cycle through the retry tiers (circuit open) into the DLQ with destination dead. In \"four 8 s\" four destinations answer 200 after 8 s, each sent the slow rate over 60 customers of its own.");
        report.Notes.Add("Table size: the same worker settings; the backlog is produced before the worker starts and every event goes to one destination; the 1,000-destination table has 999 more entries (all pointing at the same stub, never routed to). Drain time is from the first delivery to the last.");
        report.Notes.Add("Memory: the process's managed heap (GC.GetTotalMemory) and working set, sampled every 500 ms; they include the embedded broker, the three stubs and the load generator, not the worker alone. Max dead waiting / slow in flight are the worker's own gauges (whatsapp_worker_destination_waiting / _in_flight), sampled likewise.");
    }

    private static async Task<PhaseResult> RunPhaseAsync(Mode mode, TimeSpan window, int healthyRate, int otherRate)
    {
        var mixed = mode != Mode.Alone;
        await using var cluster = await BenchCluster.StartAsync();
        await using var healthy = await BenchStub.StartAsync();
        await using var slow = await BenchStub.StartAsync();
        slow.AnswerAfter(TimeSpan.FromSeconds(mode == Mode.FourSlow ? 8 : 2));
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
                """ + string.Concat(Enumerable.Range(1, 4).Select(i => $"""

                  - name: slow-{i}
                    phoneNumberIds: ["600{i}"]
                    messagesUrl: {slow.LaneUrl(Lane.Messages)}
                    signingSecret: {Secret}
                """)));
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
                if (mode == Mode.SlowAndDead && n % Math.Max(1, healthyRate / otherRate) == 0)
                {
                    BenchCluster.ProduceWaiting(producer, topic, Record($"s-{n}", "5002", Key(2, n), now), _ => { });
                    BenchCluster.ProduceWaiting(producer, topic, Record($"d-{n}", "5003", Key(3, n), now), _ => { });
                    others += 2;
                }
                else if (mode == Mode.FourSlow && n % Math.Max(1, healthyRate / otherRate) == 0)
                {
                    for (var i = 1; i <= 4; i++)
                    {
                        // 60 customers each: a conversation's events wait for each other, as the issue's operators saw.
                        BenchCluster.ProduceWaiting(producer, topic, Record($"s{i}-{n}", $"600{i}", $"49{3 + i}{n % 60:D5}", now), _ => { });
                    }

                    others += 4;
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

            return new PhaseResult(mode switch { Mode.Alone => "healthy alone", Mode.SlowAndDead => "healthy + slow + dead", _ => "healthy + four 8 s" }, sent.Count, delivered, inWindow / window.TotalSeconds, latency, others,
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

    private static async Task<(int Delivered, TimeSpan Elapsed)> DrainAsync(int tableSize, int backlog)
    {
        await using var cluster = await BenchCluster.StartAsync();
        await using var stub = await BenchStub.StartAsync();
        var directory = Path.Combine(Path.GetTempPath(), "bench-table-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var file = Path.Combine(directory, "destinations.yaml");
            await File.WriteAllTextAsync(file, "destinations:\n" + string.Concat(Enumerable.Range(0, tableSize).Select(i => $"""
                  - name: d-{i}
                    phoneNumberIds: ["{7000000 + i}"]
                    messagesUrl: {stub.LaneUrl(Lane.Messages)}
                    signingSecret: {Secret}
                    maxConcurrency: 64

                """)));
            var topic = cluster.Topology[Lane.Messages].Main.Name;
            using (var producer = cluster.CreateProducer(lingerMs: 5))
            {
                var now = DateTimeOffset.UtcNow;
                BenchCluster.ProduceAll(producer, Enumerable.Range(0, backlog).Select(n => (topic, Record($"t-{n}", "7000000", Key(1, n), now))));
            }

            await using var worker = await cluster.StartWorkerAsync(Lane.Messages, stub.LaneUrl(Lane.Messages),
                ("DESTINATIONS_FILE", file), ("DELIVERY_URL", ""), ("DELIVERY_SIGNING_SECRET", ""));
            await stub.WaitForAsync(s => s.Succeeded >= backlog, TimeSpan.FromMinutes(2));
            var arrivals = stub.Hits.Where(h => h.Status == 200).Select(h => h.ArrivedTicks).ToArray();
            return (arrivals.Length, arrivals.Length < 2 ? TimeSpan.FromSeconds(1) : TimeSpan.FromTicks(arrivals.Max() - arrivals.Min()));
        }
        finally
        {
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
