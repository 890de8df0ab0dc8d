using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Streaming.Contracts;
using Streaming.Kafka;

namespace Streaming.Testing;

/// <summary>
/// One isolated pipeline for a test: its own broker (or topic prefix), topics, downstream stub and
/// workers. Events can be produced straight to a lane, as the ingress would have written them.
/// </summary>
public sealed class PipelineScenario : IAsyncDisposable
{
    private readonly List<WorkerHost> _workers = [];
    private readonly IProducer<string?, byte[]> _producer;
    private readonly (string, string?)[] _partitionSettings;

    private PipelineScenario(KafkaBroker broker, Topology topology, DownstreamStub stub, string retryDelays, (string, string?)[] partitionSettings)
    {
        _partitionSettings = partitionSettings;
        Broker = broker;
        Topology = topology;
        Stub = stub;
        RetryDelays = retryDelays;
        _producer = new ProducerBuilder<string?, byte[]>(new ProducerConfig
        {
            BootstrapServers = broker.BootstrapServers, EnableIdempotence = true, Acks = Acks.All, LingerMs = 5,
            Partitioner = Partitioner.Murmur2Random,
        }).Build();
    }

    public KafkaBroker Broker { get; }

    public Topology Topology { get; }

    public DownstreamStub Stub { get; }

    public string RetryDelays { get; }

    /// <summary>
    /// A fresh pipeline. Partition counts default to the broker's small test ones; a test of how replicas share
    /// a lane asks for more (its workers are told the same counts).
    /// </summary>
    public static async Task<PipelineScenario> StartAsync(string retryDelays = "1s,2s", int lanePartitions = 4, int retryPartitions = 2)
    {
        var broker = await KafkaBroker.StartAsync();
        var topology = broker.Topology(retryDelays, lanePartitions, retryPartitions);
        await broker.ProvisionAsync(topology);
        var counts = lanePartitions.ToString(System.Globalization.CultureInfo.InvariantCulture);
        (string, string?)[] partitionSettings =
            [("MESSAGES_PARTITIONS", counts), ("STATUSES_PARTITIONS", counts), ("RETRY_PARTITIONS", retryPartitions.ToString(System.Globalization.CultureInfo.InvariantCulture))];
        return new PipelineScenario(broker, topology, await DownstreamStub.StartAsync(), retryDelays, partitionSettings);
    }

    public async Task<WorkerHost> StartWorkerAsync(Lane lane, params (string Key, string? Value)[] settings)
    {
        var worker = await WorkerHost.StartAsync(Broker, lane, Stub.LaneUrl(lane), [("RETRY_DELAYS", RetryDelays), .. _partitionSettings, .. settings]);
        _workers.Add(worker);
        return worker;
    }

    public Dictionary<string, string?> WorkerSettings(Lane lane, params (string Key, string? Value)[] settings) =>
        WorkerHost.Settings(Broker, lane, Stub.LaneUrl(lane), [("RETRY_DELAYS", RetryDelays), .. _partitionSettings, .. settings]);

    public static byte[] Envelope(Lane lane, string eventId, string key, DateTimeOffset? receivedAt = null) =>
        JsonSerializer.SerializeToUtf8Bytes(new EventEnvelope
        {
            EventId = eventId,
            Type = lane == Lane.Messages ? EventTypes.Message : EventTypes.Status,
            Lane = lane.ToName(),
            WabaId = "waba-test",
            ReceivedAt = receivedAt ?? DateTimeOffset.UtcNow,
            Payload = JsonDocument.Parse(lane == Lane.Messages
                ? $$$"""{"from":"{{{key}}}","id":"{{{eventId}}}","type":"text","text":{"body":"hi"}}"""
                : $$$"""{"recipient_id":"{{{key}}}","id":"{{{eventId}}}","status":"delivered"}""").RootElement,
        }, ContractsJsonContext.Default.EventEnvelope);

    /// <summary>Writes events to the lane's main topic as the ingress would, and waits for the acks.</summary>
    public void Produce(Lane lane, IEnumerable<(string EventId, string Key)> events)
    {
        var failed = 0;
        foreach (var (eventId, key) in events)
        {
            _producer.Produce(Topology[lane].Main.Name, new Message<string?, byte[]>
            {
                Key = key,
                Value = Envelope(lane, eventId, key),
                Headers = new Headers
                {
                    { HeaderNames.EventId, Encoding.UTF8.GetBytes(eventId) },
                    { HeaderNames.EventType, Encoding.UTF8.GetBytes(lane == Lane.Messages ? EventTypes.Message : EventTypes.Status) },
                },
            }, r =>
            {
                if (r.Error.IsError)
                {
                    Interlocked.Increment(ref failed);
                }
            });
        }

        _producer.Flush(TimeSpan.FromSeconds(60));
        if (failed > 0)
        {
            throw new InvalidOperationException($"{failed} test records were not produced");
        }
    }

    /// <summary>One event with its envelope as given (e.g. a status other than delivered), with the ingress's headers.</summary>
    public void ProduceEnvelope(Lane lane, string eventId, string key, byte[] envelope)
    {
        _producer.Produce(Topology[lane].Main.Name, new Message<string?, byte[]>
        {
            Key = key,
            Value = envelope,
            Headers = new Headers
            {
                { HeaderNames.EventId, Encoding.UTF8.GetBytes(eventId) },
                { HeaderNames.EventType, Encoding.UTF8.GetBytes(lane == Lane.Messages ? EventTypes.Message : EventTypes.Status) },
            },
        });
        _producer.Flush(TimeSpan.FromSeconds(30));
    }

    public void ProduceRaw(string topic, string? key, byte[] value)
    {
        _producer.Produce(topic, new Message<string?, byte[]> { Key = key, Value = value });
        _producer.Flush(TimeSpan.FromSeconds(30));
    }

    public IReadOnlyList<(ReadRecord Record, DeadLetter Letter)> DeadLetters(Lane lane) =>
        TopicReader.ReadAll(Broker.BootstrapServers, Topology[lane].DeadLetter.Name)
            .Select(r => (r, Streaming.SchemaRegistry.RecordValueReader.ReadDeadLetter(r.Value).Value!)) // plain or framed
            .ToArray();

    public IReadOnlyList<ReadRecord> RetryRecords(Lane lane) =>
        TopicReader.ReadAll(Broker.BootstrapServers, Topology[lane].RetryTiers.Select(t => t.Name).ToArray());

    /// <summary>How many records of the lane's main topic its consumer group has committed.</summary>
    public long Committed(Lane lane)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = Broker.BootstrapServers, GroupId = Topology.ConsumerGroup(lane), EnableAutoCommit = false,
        }).Build();
        var main = Topology[lane].Main;
        var partitions = Enumerable.Range(0, main.Partitions).Select(p => new TopicPartition(main.Name, p));
        return consumer.Committed(partitions, TimeSpan.FromSeconds(10)).Where(o => o.Offset.Value > 0).Sum(o => o.Offset.Value);
    }

    /// <summary>Waits until every id is delivered or dead-lettered; returns the ids still missing (empty on success).</summary>
    public async Task<IReadOnlyCollection<string>> WaitSettledAsync(Lane lane, IReadOnlyCollection<string> ids, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var settled = Stub.Delivered.Concat(DeadLetters(lane).Select(d => d.Letter.EventId ?? "")).ToHashSet();
            var missing = ids.Where(id => !settled.Contains(id)).ToArray();
            if (missing.Length == 0 || DateTime.UtcNow > deadline)
            {
                return missing;
            }

            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in _workers)
        {
            await worker.DisposeAsync();
        }

        _producer.Dispose();
        await Stub.DisposeAsync();
        await Broker.DisposeAsync();
    }
}
