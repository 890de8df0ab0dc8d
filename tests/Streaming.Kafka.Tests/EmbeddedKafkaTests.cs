using Confluent.Kafka;
using Streaming.EmbeddedKafka;
using Streaming.Testing;

namespace Streaming.Kafka.Tests;

/// <summary>The embedded cluster itself: topics, a real client round trip, and each fault it injects.</summary>
public sealed class EmbeddedKafkaTests : IDisposable
{
    private readonly EmbeddedKafkaCluster _cluster = EmbeddedKafkaCluster.Start(3);

    public void Dispose() => _cluster.Dispose();

    private IProducer<string, string> Producer(int timeoutMs = 3000) => new ProducerBuilder<string, string>(new ProducerConfig
    {
        BootstrapServers = _cluster.BootstrapServers, EnableIdempotence = true, Acks = Acks.All, MessageTimeoutMs = timeoutMs,
    }).Build();

    [Fact]
    public void It_has_three_brokers_and_creates_the_topology()
    {
        var topology = new TopologyOptions { TopicPrefix = "emb" }.Build();
        _cluster.CreateTopics(topology);
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _cluster.BootstrapServers }).Build();
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));

        Assert.Equal(3, metadata.Brokers.Count);
        Assert.Equal(3, _cluster.BootstrapServers.Split(',').Length);
        foreach (var topic in topology.Topics)
        {
            Assert.Equal(topic.Partitions, metadata.Topics.Single(t => t.Topic == topic.Name).Partitions.Count);
        }

        var report = TopicProvisioner.Check(admin, topology, TimeSpan.FromSeconds(10));
        Assert.All(report, r => Assert.Equal(TopicState.Exists, r.State));
    }

    [Fact]
    public void Provisioning_reports_a_wrong_partition_count_and_missing_topics()
    {
        var topology = new TopologyOptions { TopicPrefix = "chk" }.Build();
        _cluster.CreateTopic("chk.messages", 5, 3);
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _cluster.BootstrapServers }).Build();
        var report = TopicProvisioner.Check(admin, topology, TimeSpan.FromSeconds(10));

        var main = report.Single(r => r.Topic.Name == "chk.messages");
        Assert.Equal(TopicState.WrongPartitionCount, main.State);
        Assert.Contains("has 5 partitions, the topology says 12", main.Detail);
        Assert.All(report.Where(r => r != main), r => Assert.Equal(TopicState.Missing, r.State));
    }

    [Fact]
    public async Task A_group_consumer_reads_what_an_idempotent_producer_wrote()
    {
        _cluster.CreateTopic("roundtrip", 3, 3);
        using (var producer = Producer())
        {
            for (var i = 0; i < 30; i++)
            {
                await producer.ProduceAsync("roundtrip", new Message<string, string> { Key = $"k{i % 5}", Value = $"v{i}" });
            }
        }

        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = _cluster.BootstrapServers, GroupId = "g", AutoOffsetReset = AutoOffsetReset.Earliest,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
        }).Build();
        consumer.Subscribe("roundtrip");
        var seen = new List<string>();
        await Poll.UntilAsync(() =>
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (r?.Message is not null)
            {
                seen.Add(r.Message.Value);
            }

            return seen.Count == 30;
        }, TimeSpan.FromSeconds(30), "30 records");
        Assert.Equal(Enumerable.Range(0, 30).Select(i => $"v{i}").Order(), seen.Order());
        consumer.Close();
    }

    [Fact]
    public async Task All_brokers_down_fails_produce_within_the_message_timeout_and_up_again_recovers()
    {
        _cluster.CreateTopic("outage", 1, 3);
        using var producer = Producer(timeoutMs: 1000);
        // Warm-up: a fresh topic's metadata may take longer than the short timeout on a loaded machine.
        await Poll.UntilAsync(() => TryProduceAsync(producer, "before"), s => s == PersistenceStatus.Persisted, TimeSpan.FromSeconds(30), "the warm-up produce");

        _cluster.SetAllBrokersDown();
        var e = await Assert.ThrowsAsync<ProduceException<string, string>>(() =>
            producer.ProduceAsync("outage", new Message<string, string> { Key = "k", Value = "during" }));
        Assert.Equal(ErrorCode.Local_MsgTimedOut, e.Error.Code);

        _cluster.SetAllBrokersUp();
        var ok = await Poll.UntilAsync(() => TryProduceAsync(producer, "after"), s => s == PersistenceStatus.Persisted, TimeSpan.FromSeconds(30), "produce to succeed after recovery");
        Assert.Equal(PersistenceStatus.Persisted, ok);
    }

    private static async Task<PersistenceStatus> TryProduceAsync(IProducer<string, string> producer, string value)
    {
        try
        {
            return (await producer.ProduceAsync("outage", new Message<string, string> { Key = "k", Value = value })).Status;
        }
        catch (ProduceException<string, string>)
        {
            return PersistenceStatus.NotPersisted;
        }
    }

    [Fact]
    public async Task Injected_request_errors_fail_the_next_requests()
    {
        _cluster.CreateTopic("errors", 1, 3);
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = _cluster.BootstrapServers, MessageTimeoutMs = 3000, Acks = Acks.All, MessageSendMaxRetries = 0,
        }).Build();
        await producer.ProduceAsync("errors", new Message<string, string> { Value = "warm-up" });

        _cluster.PushRequestErrors(KafkaApiKey.Produce, ErrorCode.InvalidRecord);
        var e = await Assert.ThrowsAsync<ProduceException<string, string>>(() => producer.ProduceAsync("errors", new Message<string, string> { Value = "x" }));
        Assert.Equal(ErrorCode.InvalidRecord, e.Error.Code);
        Assert.Equal(PersistenceStatus.Persisted, (await producer.ProduceAsync("errors", new Message<string, string> { Value = "y" })).Status);
    }

    [Fact]
    public async Task Broker_latency_slows_acknowledgements()
    {
        _cluster.CreateTopic("slow", 1, 3);
        using var producer = Producer();
        await producer.ProduceAsync("slow", new Message<string, string> { Value = "warm-up" });
        foreach (var id in _cluster.BrokerIds)
        {
            _cluster.SetBrokerLatency(id, TimeSpan.FromMilliseconds(300));
        }

        var watch = System.Diagnostics.Stopwatch.StartNew();
        await producer.ProduceAsync("slow", new Message<string, string> { Value = "slow" });
        // A lower bound only: it proves the latency was injected, and cannot flake on a slow machine.
        Assert.True(watch.ElapsedMilliseconds >= 250, $"{watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Moving_a_partition_leader_is_followed_by_clients()
    {
        _cluster.CreateTopic("leader", 1, 3);
        using var producer = Producer();
        await producer.ProduceAsync("leader", new Message<string, string> { Value = "a" });
        _cluster.SetPartitionLeader("leader", 0, 3);
        Assert.Equal(PersistenceStatus.Persisted, (await producer.ProduceAsync("leader", new Message<string, string> { Value = "b" })).Status);
        Assert.Equal(2, TopicReader.ReadAll(_cluster.BootstrapServers, "leader").Count);
    }

    [Fact]
    public void Bad_calls_raise_a_clear_error()
    {
        var e = Assert.Throws<KafkaException>(() => _cluster.SetBrokerDown(99));
        Assert.Contains("broker 99", e.Message);
    }
}
