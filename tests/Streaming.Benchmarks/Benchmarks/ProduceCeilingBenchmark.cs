using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Streaming.Benchmarks.Infrastructure;
using Streaming.Benchmarks.Load;
using Streaming.Contracts;
using Streaming.Ingress.Webhooks;

namespace Streaming.Benchmarks.Benchmarks;

/// <summary>
/// 2. The produce ceiling: Confluent.Kafka producing the ingress's own records (split by its own
/// splitter, same headers, same producer settings) as fast as it takes them, vs events/s through the
/// ingress with webhooks of 1, 10 and 100 events, on the same cluster in the same run.
/// </summary>
public sealed class ProduceCeilingBenchmark : IBenchmark
{
    private const int Concurrency = 32;

    public string Name => "ingress-produce";

    public string Title => "2. Ingress vs the produce ceiling";

    public TimeSpan Budget => TimeSpan.FromMinutes(2);

    public async Task RunAsync(BenchReport report, BenchOptions options)
    {
        var duration = options.Seconds(5, 1);
        await using var cluster = await BenchCluster.StartAsync();
        var raw = ProduceRaw(cluster, duration);

        await using var ingress = await cluster.StartIngressAsync();
        var table = report.Table($"Events/s: raw producer vs ingress ({Concurrency} concurrent webhooks)",
            new Column("path", "path"), new Column("batch", "events/webhook", Format.Integer), new Column("webhooksPerSecond", "webhooks/s", Format.Rate),
            new Column("eventsPerSecond", "events/s", Format.Rate), new Column("p50", "p50 ms", Format.Millis), new Column("p99", "p99 ms", Format.Millis),
            new Column("ofCeiling", "of raw produce", Format.Percent), new Column("failed", "non-2xx/errors", Format.Integer));
        table.Add(("path", "raw Confluent.Kafka produce (idempotent, acks=all)"), ("batch", null), ("webhooksPerSecond", null), ("eventsPerSecond", raw.Rate),
            ("p50", null), ("p99", null), ("ofCeiling", 100.0), ("failed", raw.Failed));

        var headline = new List<string>();
        foreach (var batch in new[] { 1, 10, 100 })
        {
            var webhooks = Math.Max(50, options.Size(2000, 200) / batch);
            var bodies = Webhooks.MessagePool($"b2x{batch}", webhooks, batch);
            await HttpLoad.ClosedLoopAsync(ingress.Address, bodies, Concurrency, TimeSpan.FromSeconds(1));
            var r = await HttpLoad.ClosedLoopAsync(ingress.Address, bodies, Concurrency, duration);
            var events = r.Rate * batch;
            table.Add(("path", "ingress"), ("batch", batch), ("webhooksPerSecond", r.Rate), ("eventsPerSecond", events), ("p50", r.P50), ("p99", r.P99),
                ("ofCeiling", 100 * events / raw.Rate), ("failed", r.Failed));
            headline.Add($"{batch}/webhook: {events / raw.Rate:0.00}");
        }

        report.Headlines.Add($"raw produce ceiling {raw.Rate:#,0} events/s; ingress events/s ÷ ceiling: " + string.Join(", ", headline));
        report.Notes.Add($"Raw: one thread hands the records to one producer as fast as it takes them (waiting when its 100k queue is full) for {duration.TotalSeconds:0} s, then flushes; rate = acknowledged / time including the flush. " +
            "Same records as the ingress writes (its splitter's envelopes, keys and headers) and the same producer settings (idempotent, acks=all, lz4, linger 2 ms).");
        report.Notes.Add("The ingress waits for every record of a webhook to be acknowledged before answering, so at a fixed concurrency its events/s grows with the batch size; the raw producer pipelines without waiting.");
        report.Notes.Add("Every event is a text message (messages lane, 4 partitions, replication 3 on the embedded cluster), keys spread over 10,000 customers.");
    }

    private static LoadResult ProduceRaw(BenchCluster cluster, TimeSpan duration)
    {
        var receivedAt = DateTimeOffset.UtcNow;
        var receivedAtHeader = Encoding.UTF8.GetBytes(receivedAt.ToString("O", CultureInfo.InvariantCulture));
        var records = Webhooks.MessagePool("b2raw", 2000, 1)
            .SelectMany(w =>
            {
                using var document = JsonDocument.Parse(w.Body);
                return WebhookSplitter.Split(document.RootElement, receivedAt).Events;
            })
            .Select(e => new Message<string, byte[]>
            {
                Key = e.Key,
                Value = e.Value,
                Headers = new Headers
                {
                    { HeaderNames.EventId, Encoding.UTF8.GetBytes(e.EventId) },
                    { HeaderNames.EventType, Encoding.UTF8.GetBytes(e.Type) },
                    { HeaderNames.ReceivedAt, receivedAtHeader },
                    { HeaderNames.TraceParent, Encoding.UTF8.GetBytes($"00-{Guid.NewGuid():N}-{Guid.NewGuid():N}"[..52] + "-01") },
                },
            })
            .ToArray();
        var topic = cluster.Topology[Lane.Messages].Main.Name;

        // The ingress's producer settings (services/Streaming.Ingress/Publishing/IngressProducer.cs).
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            EnableIdempotence = true,
            Acks = Acks.All,
            MessageTimeoutMs = 3000,
            LingerMs = 2,
            QueueBufferingMaxMessages = 100_000,
            Partitioner = Partitioner.Murmur2Random,
            DeliveryReportFields = "status",
            CompressionType = CompressionType.Lz4,
        }).Build();
        long acked = 0, failed = 0;
        Action<DeliveryReport<string, byte[]>> report = r =>
        {
            if (r.Error.IsError)
            {
                Interlocked.Increment(ref failed);
            }
            else
            {
                Interlocked.Increment(ref acked);
            }
        };

        // Warm-up: connections, idempotent producer id, JIT.
        foreach (var record in records.Take(1000))
        {
            producer.Produce(topic, record, report);
        }

        producer.Flush(TimeSpan.FromSeconds(30));
        Interlocked.Exchange(ref acked, 0);
        var clock = Stopwatch.StartNew();
        var i = 0;
        while (clock.Elapsed < duration)
        {
            try
            {
                producer.Produce(topic, records[i++ % records.Length], report);
            }
            catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                Thread.Sleep(1);
            }
        }

        producer.Flush(TimeSpan.FromSeconds(30));
        var seconds = clock.Elapsed.TotalSeconds;
        return new LoadResult(Interlocked.Read(ref acked), Interlocked.Read(ref failed), seconds, double.NaN, double.NaN, double.NaN, double.NaN, "Confluent.Kafka");
    }
}
