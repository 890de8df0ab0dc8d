using System.Globalization;
using Streaming.Contracts;
using Streaming.Testing;
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
}
