using Confluent.Kafka;
using Streaming.EmbeddedKafka;
using Streaming.Kafka;
using Testcontainers.Kafka;

namespace Streaming.Testing;

public enum BrokerKind
{
    /// <summary>KAFKA_BOOTSTRAP_SERVERS was set.</summary>
    External,

    /// <summary>Testcontainers.Kafka, because a Docker engine answered.</summary>
    Testcontainers,

    /// <summary>librdkafka's mock cluster, in this process.</summary>
    Embedded,
}

/// <summary>
/// The broker a test class runs against, chosen as the design says: KAFKA_BOOTSTRAP_SERVERS if set,
/// Testcontainers.Kafka when a Docker engine answers, the embedded cluster otherwise
/// (TEST_KAFKA=embedded forces the last). Each instance gets its own topic prefix, so tests never see
/// each other's records; embedded instances also get their own cluster, so faults stay local.
/// </summary>
public sealed class KafkaBroker : IAsyncDisposable
{
    private static readonly SemaphoreSlim ContainerGate = new(1, 1);
    private static KafkaContainer? _container;

    private KafkaBroker(BrokerKind kind, string bootstrapServers, EmbeddedKafkaCluster? embedded)
    {
        Kind = kind;
        BootstrapServers = bootstrapServers;
        Embedded = embedded;
        TopicPrefix = $"t{Guid.NewGuid():N}"[..13];
    }

    public BrokerKind Kind { get; }

    public string BootstrapServers { get; }

    /// <summary>The fault-injection handle; only the embedded cluster has one.</summary>
    public EmbeddedKafkaCluster? Embedded { get; }

    public string TopicPrefix { get; }

    /// <summary>What the embedded-only tests check at discovery, so their skip is visible and says why.</summary>
    public static BrokerKind ExpectedKind =>
        Environment.GetEnvironmentVariable("TEST_KAFKA") == "embedded" ? BrokerKind.Embedded
        : !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("KAFKA_BOOTSTRAP_SERVERS")) ? BrokerKind.External
        : DockerLooksAvailable() ? BrokerKind.Testcontainers
        : BrokerKind.Embedded;

    public static async Task<KafkaBroker> StartAsync()
    {
        switch (ExpectedKind)
        {
            case BrokerKind.External:
                return new KafkaBroker(BrokerKind.External, Environment.GetEnvironmentVariable("KAFKA_BOOTSTRAP_SERVERS")!, null);
            case BrokerKind.Testcontainers:
                var bootstrap = await StartContainerAsync();
                if (bootstrap is not null)
                {
                    return new KafkaBroker(BrokerKind.Testcontainers, bootstrap, null);
                }

                break;
        }

        var cluster = EmbeddedKafkaCluster.Start(3);
        return new KafkaBroker(BrokerKind.Embedded, cluster.BootstrapServers, cluster);
    }

    public Dictionary<string, string?> Settings(params (string Key, string? Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["KAFKA_BOOTSTRAP_SERVERS"] = BootstrapServers,
            ["TOPIC_PREFIX"] = TopicPrefix,
            // Small partition counts keep per-test topics cheap on a shared broker.
            ["MESSAGES_PARTITIONS"] = "4",
            ["STATUSES_PARTITIONS"] = "4",
            ["RETRY_PARTITIONS"] = "2",
            ["DLQ_PARTITIONS"] = "1",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>The test topology; a lane's main topics get <paramref name="lanePartitions"/>, each tier <paramref name="retryPartitions"/>.</summary>
    public Topology Topology(string retryDelays = "5s,30s,5m,30m", int lanePartitions = 4, int retryPartitions = 2) => new TopologyOptions
    {
        TopicPrefix = TopicPrefix,
        RetryDelays = retryDelays,
        MessagesPartitions = lanePartitions,
        StatusesPartitions = lanePartitions,
        RetryPartitions = retryPartitions,
        DlqPartitions = 1,
    }.Build();

    /// <summary>Creates the topology's topics: through the mock API on the embedded cluster, CreateTopics elsewhere.</summary>
    public async Task ProvisionAsync(Topology topology)
    {
        if (Embedded is not null)
        {
            Embedded.CreateTopics(topology);
            return;
        }

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = BootstrapServers }).Build();
        var reports = await TopicProvisioner.EnsureAsync(admin, topology, TimeSpan.FromSeconds(30));
        var bad = reports.Where(r => !r.IsHealthy).ToArray();
        if (bad.Length > 0)
        {
            throw new InvalidOperationException("provisioning failed: " + string.Join("; ", bad.Select(b => $"{b.Topic.Name} {b.State} {b.Detail}")));
        }
    }

    public IAdminClient CreateAdmin() => new AdminClientBuilder(new AdminClientConfig { BootstrapServers = BootstrapServers }).Build();

    public ValueTask DisposeAsync()
    {
        Embedded?.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Stops the shared Testcontainers broker if one was started (see <see cref="SharedKafkaContainer"/>).
    /// A later <see cref="StartAsync"/> starts a new one.
    /// </summary>
    public static async Task DisposeSharedContainerAsync()
    {
        await ContainerGate.WaitAsync();
        try
        {
            if (_container is { } container)
            {
                _container = null;
                await container.DisposeAsync();
            }
        }
        finally
        {
            ContainerGate.Release();
        }
    }

    private static bool DockerLooksAvailable() =>
        !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("DOCKER_HOST")) || File.Exists("/var/run/docker.sock");

    private static async Task<string?> StartContainerAsync()
    {
        await ContainerGate.WaitAsync();
        try
        {
            if (_container is null)
            {
                var container = new KafkaBuilder("confluentinc/cp-kafka:7.9.0").Build();
                try
                {
                    await container.StartAsync();
                }
                catch (Exception e)
                {
                    await Console.Error.WriteLineAsync($"Testcontainers.Kafka did not start ({e.Message}); using the embedded cluster");
                    return null;
                }

                _container = container;
            }

            return _container.GetBootstrapAddress();
        }
        finally
        {
            ContainerGate.Release();
        }
    }
}
