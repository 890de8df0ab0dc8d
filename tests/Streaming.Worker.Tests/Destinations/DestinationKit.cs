using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Streaming.Contracts;
using Streaming.Testing;

namespace Streaming.Worker.Tests.Destinations;

/// <summary>What the destinations tests share: a table file on disk, events for a business number, per-destination metrics.</summary>
internal sealed class DestinationKit : IDisposable
{
    private readonly IProducer<string?, byte[]> _producer;
    private readonly PipelineScenario _scenario;

    public DestinationKit(PipelineScenario scenario)
    {
        _scenario = scenario;
        Directory = Path.Combine(Path.GetTempPath(), "destinations-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        _producer = new ProducerBuilder<string?, byte[]>(new ProducerConfig
        {
            BootstrapServers = scenario.Broker.BootstrapServers, EnableIdempotence = true, Acks = Acks.All, LingerMs = 5,
        }).Build();
    }

    public string Directory { get; }

    public string File => Path.Combine(Directory, "destinations.yaml");

    /// <summary>Writes the table as a ConfigMap update would: a new file renamed over the old one.</summary>
    public void Write(string yaml)
    {
        var temporary = File + ".tmp";
        System.IO.File.WriteAllText(temporary, yaml);
        System.IO.File.Move(temporary, File, overwrite: true);
    }

    public string WriteSecret(string name, string secret)
    {
        var path = Path.Combine(Directory, name);
        System.IO.File.WriteAllText(path, secret + "\n");
        return path;
    }

    /// <summary>Events of one business number on the messages lane, one key each (or all <paramref name="customer"/>'s), as the ingress writes them.</summary>
    public void Produce(string phoneNumberId, IEnumerable<string> eventIds, string wabaId = "waba-test", string? customer = null)
    {
        var failed = 0;
        foreach (var id in eventIds)
        {
            var key = customer ?? "49" + (uint)id.GetHashCode();
            var envelope = JsonSerializer.SerializeToUtf8Bytes(new EventEnvelope
            {
                EventId = id, Type = EventTypes.Message, Lane = LaneNames.Messages, WabaId = wabaId, PhoneNumberId = phoneNumberId,
                ReceivedAt = DateTimeOffset.UtcNow,
                Payload = JsonDocument.Parse($$$"""{"from":"{{{key}}}","id":"{{{id}}}","type":"text","text":{"body":"hi"}}""").RootElement,
            }, ContractsJsonContext.Default.EventEnvelope);
            _producer.Produce(_scenario.Topology[Lane.Messages].Main.Name, new Message<string?, byte[]>
            {
                Key = key, Value = envelope,
                Headers = new Headers { { HeaderNames.EventId, Encoding.UTF8.GetBytes(id) }, { HeaderNames.EventType, Encoding.UTF8.GetBytes(EventTypes.Message) } },
            }, r =>
            {
                if (r.Error.IsError)
                {
                    Interlocked.Increment(ref failed);
                }
            });
        }

        _producer.Flush(TimeSpan.FromSeconds(60));
        Assert.Equal(0, failed);
    }

    /// <summary>The ledger: waits until every id is delivered by one of the stubs or dead-lettered; returns those missing.</summary>
    public async Task<IReadOnlyCollection<string>> WaitSettledAsync(IReadOnlyCollection<string> ids, TimeSpan timeout, params DownstreamStub[] stubs)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var settled = stubs.SelectMany(s => s.Delivered).Concat(_scenario.DeadLetters(Lane.Messages).Select(d => d.Letter.EventId ?? "")).ToHashSet();
            var missing = ids.Where(id => !settled.Contains(id)).ToArray();
            if (missing.Length == 0 || DateTime.UtcNow > deadline)
            {
                return missing;
            }

            await Task.Delay(200);
        }
    }

    public static IReadOnlyList<string> Ids(string prefix, int count) => Enumerable.Range(0, count).Select(i => $"wamid.{prefix}.{i}").ToArray();

    /// <summary>A series' value for one destination (0 when absent), whatever the label order.</summary>
    public static double Metric(string metrics, string name, string destination, string? extraLabel = null) =>
        metrics.Split('\n')
            .Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) && l.Contains($"destination=\"{destination}\"", StringComparison.Ordinal)
                && (extraLabel is null || l.Contains(extraLabel, StringComparison.Ordinal)))
            .Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture))
            .Sum();

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        _producer.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
