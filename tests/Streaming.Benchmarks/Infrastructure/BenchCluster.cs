using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Streaming.Contracts;
using Streaming.Kafka;
using Streaming.Testing;

namespace Streaming.Benchmarks.Infrastructure;

/// <summary>
/// One benchmark's Kafka: a fresh <see cref="KafkaBroker"/> (the embedded 3-broker cluster unless
/// KAFKA_BOOTSTRAP_SERVERS is set), its topics provisioned with the partition counts chosen here, and
/// the settings that make the in-process hosts and the service processes agree with that topology.
/// </summary>
public sealed class BenchCluster : IAsyncDisposable
{
    private readonly (string Key, string? Value)[] _topologySettings;

    private BenchCluster(KafkaBroker broker, Topology topology, (string Key, string? Value)[] topologySettings)
    {
        Broker = broker;
        Topology = topology;
        _topologySettings = topologySettings;
    }

    public KafkaBroker Broker { get; }

    public Topology Topology { get; }

    public string BootstrapServers => Broker.BootstrapServers;

    public static async Task<BenchCluster> StartAsync(string retryDelays = "1s,2s", int mainPartitions = 4, int retryPartitions = 4)
    {
        var broker = await KafkaBroker.StartAsync();
        var options = new TopologyOptions
        {
            TopicPrefix = broker.TopicPrefix,
            RetryDelays = retryDelays,
            MessagesPartitions = mainPartitions,
            StatusesPartitions = mainPartitions,
            RetryPartitions = retryPartitions,
            DlqPartitions = 1,
        };
        var topology = options.Build();
        await broker.ProvisionAsync(topology);
        return new BenchCluster(broker, topology,
        [
            ("MESSAGES_PARTITIONS", Text(mainPartitions)), ("STATUSES_PARTITIONS", Text(mainPartitions)),
            ("RETRY_PARTITIONS", Text(retryPartitions)), ("DLQ_PARTITIONS", "1"), ("RETRY_DELAYS", retryDelays),
            // Per-event warnings (retries) on the console would cost more than the work measured.
            ("Logging:LogLevel:Default", "Error"),
        ]);
    }

    /// <summary>Settings for an in-process host: the topology's, then <paramref name="extra"/>.</summary>
    public (string Key, string? Value)[] HostSettings(params (string Key, string? Value)[] extra) => [.. _topologySettings, .. extra];

    public Task<IngressHost> StartIngressAsync(params (string Key, string? Value)[] extra) => IngressHost.StartAsync(Broker, HostSettings(extra));

    public Task<WorkerHost> StartWorkerAsync(Lane lane, Uri deliveryUrl, params (string Key, string? Value)[] extra) =>
        WorkerHost.StartAsync(Broker, lane, deliveryUrl, HostSettings(extra));

    /// <summary>Environment of a service process: the same settings with configuration keys as variables.</summary>
    public Dictionary<string, string?> ProcessEnvironment(IReadOnlyDictionary<string, string?> settings) =>
        settings.ToDictionary(kv => kv.Key.Replace(":", "__", StringComparison.Ordinal), kv => kv.Value);

    /// <summary>A producer configured like the ingress's: idempotent, acks=all, lz4, murmur2.</summary>
    public IProducer<string?, byte[]> CreateProducer(int lingerMs = 5) =>
        new ProducerBuilder<string?, byte[]>(new ProducerConfig
        {
            BootstrapServers = BootstrapServers,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = lingerMs,
            CompressionType = CompressionType.Lz4,
            Partitioner = Partitioner.Murmur2Random,
            QueueBufferingMaxMessages = 100_000,
            DeliveryReportFields = "status",
        }).Build();

    /// <summary>A lane record as the ingress writes it.</summary>
    public static Message<string?, byte[]> LaneRecord(Lane lane, string eventId, string key, DateTimeOffset receivedAt) => new()
    {
        Key = key,
        Value = PipelineScenario.Envelope(lane, eventId, key, receivedAt),
        Headers = new Headers
        {
            { HeaderNames.EventId, Encoding.UTF8.GetBytes(eventId) },
            { HeaderNames.EventType, Encoding.UTF8.GetBytes(lane == Lane.Messages ? EventTypes.Message : EventTypes.Status) },
            { HeaderNames.ReceivedAt, Encoding.UTF8.GetBytes(receivedAt.ToString("O", CultureInfo.InvariantCulture)) },
        },
    };

    /// <summary>A record waiting in a retry tier, headers as the worker's FailureRouter writes them.</summary>
    public Message<string?, byte[]> TierRecord(Lane lane, string eventId, string key, DateTimeOffset notBefore)
    {
        var record = LaneRecord(lane, eventId, key, DateTimeOffset.UtcNow);
        var now = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        record.Headers.Add(HeaderNames.Attempt, "1"u8.ToArray());
        record.Headers.Add(HeaderNames.FirstFailedAt, Encoding.UTF8.GetBytes(now));
        record.Headers.Add(HeaderNames.LastError, "HTTP 503 Service Unavailable"u8.ToArray());
        record.Headers.Add(HeaderNames.LastStatusCode, "503"u8.ToArray());
        record.Headers.Add(HeaderNames.NotBefore, Encoding.UTF8.GetBytes(notBefore.ToString("O", CultureInfo.InvariantCulture)));
        record.Headers.Add(HeaderNames.OriginTopic, Encoding.UTF8.GetBytes(Topology[lane].Main.Name));
        return record;
    }

    /// <summary>Produces as fast as the producer takes them (waiting out a full queue), then flushes; returns the records that failed.</summary>
    public static int ProduceAll(IProducer<string?, byte[]> producer, IEnumerable<(string Topic, Message<string?, byte[]> Message)> records)
    {
        var failed = 0;
        Action<DeliveryReport<string?, byte[]>> report = r =>
        {
            if (r.Error.IsError)
            {
                Interlocked.Increment(ref failed);
            }
        };
        foreach (var (topic, message) in records)
        {
            ProduceWaiting(producer, topic, message, report);
        }

        producer.Flush(TimeSpan.FromSeconds(60));
        return failed;
    }

    /// <summary>Produce, and when the local queue is full, let it drain a little and try again.</summary>
    public static void ProduceWaiting(IProducer<string?, byte[]> producer, string topic, Message<string?, byte[]> message, Action<DeliveryReport<string?, byte[]>> report)
    {
        while (true)
        {
            try
            {
                producer.Produce(topic, message, report);
                return;
            }
            catch (ProduceException<string?, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                Thread.Sleep(1);
            }
        }
    }

    /// <summary>Records the cluster still holds in these topics (end minus start offsets): shows whether the embedded broker pruned any.</summary>
    public (long Written, long Retained) Retention(params string[] topics)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = BootstrapServers, GroupId = "bench-watermarks" }).Build();
        long written = 0, retained = 0;
        foreach (var topic in topics)
        {
            var partitions = Topology.Find(topic)?.Partitions ?? 1;
            for (var p = 0; p < partitions; p++)
            {
                var w = consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10));
                written += w.High.Value;
                retained += w.High.Value - w.Low.Value;
            }
        }

        return (written, retained);
    }

    public ValueTask DisposeAsync() => Broker.DisposeAsync();

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
