using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Streaming.Contracts;
using Streaming.Kafka;
using Streaming.Kafka.Clients;
using Streaming.Testing;
using Streaming.Worker.Consuming;
using Streaming.Worker.Telemetry;
using Xunit.Abstractions;

namespace Streaming.Worker.Tests;

/// <summary>whatsapp_worker_consumer_lag comes from the broker, so it keeps rising while the lane is paused.</summary>
[Collection(SharedKafkaContainer.Collection)]
public sealed class BrokerLagTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(90);

    private static (string, string)[] Events(string prefix, int count) =>
        Enumerable.Range(0, count).Select(i => ($"{prefix}-{i:D5}", $"key-{i % 40}")).ToArray();

    /// <summary>The lane's lag on its main topic, summed over the partitions this process exports.</summary>
    private static double MainLag(string metrics, string mainTopic) => metrics.Split('\n')
        .Where(l => l.StartsWith("whatsapp_worker_consumer_lag{", StringComparison.Ordinal) && l.Contains($"topic=\"{mainTopic}\"", StringComparison.Ordinal))
        .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    [Fact]
    public async Task Lag_keeps_rising_while_an_open_circuit_pauses_the_lane()
    {
        await using var scenario = await PipelineScenario.StartAsync(retryDelays: "30s");
        scenario.Stub.Reply = (_, _) => new StubReply(503);
        var main = scenario.Topology[Lane.Messages].Main.Name;
        scenario.Produce(Lane.Messages, Events("before", 60));
        // A long break: the lane stays paused for the whole test once the circuit opens.
        var worker = await scenario.StartWorkerAsync(Lane.Messages,
            ("WORKER_MAX_IN_FLIGHT", "4"), ("CIRCUIT_MIN_THROUGHPUT", "4"), ("CIRCUIT_FAILURE_RATIO", "0.5"),
            ("CIRCUIT_SAMPLING_SECONDS", "5"), ("CIRCUIT_BREAK_SECONDS", "300"));

        async Task<string> Metrics() => await worker.Client.GetStringAsync("/metrics");
        await Poll.UntilAsync(async () => MetricsText.Value(await Metrics(), "whatsapp_worker_circuit_state{lane=\"messages\""),
            s => s == 2, Settle, "the circuit to open");
        // The lane is paused now: what it reports from here on must come from the broker, not from fetches.
        var before = await Poll.UntilAsync(async () => MainLag(await Metrics(), main), l => l > 0, Settle, "a lag on the paused lane");

        scenario.Produce(Lane.Messages, Events("during", 200));
        var after = await Poll.UntilAsync(async () => MainLag(await Metrics(), main), l => l >= before + 200, Settle,
            $"the lag to rise by the 200 records produced while paused (it was {before})");

        output.WriteLine($"lag while paused: {before} -> {after}; delivered: {scenario.Stub.Delivered.Count}");
        Assert.Equal(2, MetricsText.Value(await Metrics(), "whatsapp_worker_circuit_state{lane=\"messages\""));
        Assert.True(after >= before + 200, $"lag {before} -> {after}");
    }

    /// <summary>
    /// A partition assigned while the lane is held is never fetched, so its position is unknown: its lag counts
    /// from the group's committed offset, or from the start of the log when nothing is committed. A partition
    /// let go reads 0 from then on.
    /// </summary>
    [Fact]
    public async Task An_unfetched_partition_counts_from_the_committed_offset_and_a_forgotten_one_reads_zero()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        var main = scenario.Topology[Lane.Messages].Main;
        scenario.Produce(Lane.Messages, Events("lag", 200));
        var group = scenario.Topology.ConsumerGroup(Lane.Messages);
        var p0 = new TopicPartition(main.Name, 0);
        var p1 = new TopicPartition(main.Name, 1);
        long high0, high1;
        using (var committer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = scenario.Broker.BootstrapServers, GroupId = group, EnableAutoCommit = false,
        }).Build())
        {
            high0 = committer.QueryWatermarkOffsets(p0, TimeSpan.FromSeconds(10)).High.Value;
            high1 = committer.QueryWatermarkOffsets(p1, TimeSpan.FromSeconds(10)).High.Value;
            Assert.True(high0 > 10 && high1 > 0, $"records on partitions 0 and 1: {high0}, {high1}");
            committer.Commit([new TopicPartitionOffset(p0, 10)]);
        }

        await using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        using var telemetry = new WorkerTelemetry(meters, Options.Create(new WorkerOptions { LaneName = "messages" }), scenario.Topology);
        var lag = new ConcurrentDictionary<int, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == meters && instrument.Name == "consumer_lag")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "partition")
                {
                    lag[(int)tag.Value!] = value;
                }
            }
        });
        listener.Start();
        IReadOnlyDictionary<int, long> Observe()
        {
            lag.Clear();
            listener.RecordObservableInstruments();
            return new Dictionary<int, long>(lag);
        }

        var clients = new KafkaClientFactory(new KafkaOptions { BootstrapServers = scenario.Broker.BootstrapServers }, NullLogger.Instance);
        using var brokerLag = new BrokerLag(clients, group, telemetry, TimeProvider.System, TimeSpan.FromMilliseconds(200), NullLogger<BrokerLag>.Instance);
        brokerLag.Track([p0, p1], _ => Offset.Unset);
        await brokerLag.StartAsync(CancellationToken.None);
        try
        {
            var seen = await Poll.UntilAsync(() => Task.FromResult(Observe()), l => l.Count == 2, Settle, "lag of both partitions");
            Assert.Equal(high0 - 10, seen[0]);
            Assert.Equal(high1, seen[1]);

            brokerLag.Forget([p0]);
            Assert.Equal(0, Observe()[0]);
            // Later rounds ask the broker for partition 1 only: partition 0 stays at 0.
            scenario.Produce(Lane.Messages, Events("more", 200));
            var rising = await Poll.UntilAsync(() => Task.FromResult(Observe()), l => l[1] > high1, Settle, "partition 1's lag to follow the broker");
            Assert.Equal(0, rising[0]);
        }
        finally
        {
            await brokerLag.StopAsync(CancellationToken.None);
        }
    }
}
