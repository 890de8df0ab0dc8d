using Streaming.Contracts;
using Streaming.Testing;
using Xunit.Abstractions;

namespace Streaming.Worker.Tests;

/// <summary>Workers stopped, killed, joined and starved of their endpoint: every event is delivered or dead-lettered.</summary>
[Collection(SharedKafkaContainer.Collection)]
public sealed class WorkerFaultTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(90);

    private static (string, string)[] Events(string prefix, int count, int keys) =>
        Enumerable.Range(0, count).Select(i => ($"{prefix}-{i:D5}", $"key-{i % keys}")).ToArray();

    private static int Duplicates(DownstreamStub stub) =>
        stub.Receipts.Count(r => r.Answered is >= 200 and < 300) - stub.Delivered.Count;

    [Fact]
    public async Task A_worker_stopped_mid_flight_and_restarted_delivers_everything_without_a_replay()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        scenario.Stub.Reply = (_, _) => new StubReply(200, TimeSpan.FromMilliseconds(20));
        var events = Events("stop", 400, keys: 50);
        scenario.Produce(Lane.Messages, events);

        var first = await scenario.StartWorkerAsync(Lane.Messages, ("WORKER_MAX_IN_FLIGHT", "16"));
        await Poll.UntilAsync(() => scenario.Stub.Delivered.Count >= 100, Settle, "100 deliveries");
        await first.StopAsync();
        var beforeRestart = scenario.Stub.Delivered.Count;
        await scenario.StartWorkerAsync(Lane.Messages, ("WORKER_MAX_IN_FLIGHT", "16"));

        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, events.Select(e => e.Item1).ToArray(), Settle));
        output.WriteLine($"delivered before stop: {beforeRestart}, duplicates after restart: {Duplicates(scenario.Stub)}");
        // A graceful stop drains and commits: at most the in-flight window comes again.
        Assert.True(Duplicates(scenario.Stub) <= 16, $"{Duplicates(scenario.Stub)} duplicates");
    }

    [Fact]
    public async Task A_worker_process_killed_mid_flight_loses_nothing()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        scenario.Stub.Reply = (_, _) => new StubReply(200, TimeSpan.FromMilliseconds(20));
        var events = Events("kill", 600, keys: 60);
        scenario.Produce(Lane.Messages, events);

        long committedAtKill;
        using (var process = ServiceProcess.Start("Streaming.Worker.dll", scenario.WorkerSettings(Lane.Messages, ("WORKER_MAX_IN_FLIGHT", "16"))))
        {
            // Killed once the group has committed some progress, with more delivered since.
            committedAtKill = await Poll.UntilAsync(() => Task.FromResult(process.HasExited ? -1 : scenario.Committed(Lane.Messages)),
                c => c != 0, Settle, "the worker process to commit progress");
            Assert.False(process.HasExited, process.Output);
            process.Kill();
        }

        var beforeKill = scenario.Stub.Delivered.Count;
        await scenario.StartWorkerAsync(Lane.Messages, ("WORKER_MAX_IN_FLIGHT", "16"));
        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, events.Select(e => e.Item1).ToArray(), Settle));

        var duplicates = Duplicates(scenario.Stub);
        output.WriteLine($"delivered before SIGKILL: {beforeKill}, committed then: {committedAtKill}, duplicates: {duplicates}");
        // Redelivered: what settled after the last commit, plus the in-flight window; never what was committed.
        Assert.True(duplicates <= beforeKill - committedAtKill + 16, $"{duplicates} duplicates; {beforeKill} delivered, {committedAtKill} committed before the kill");
    }

    [Fact]
    public async Task Two_replicas_share_the_lane_and_a_third_joining_rebalances_without_loss()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        // Slow enough (8 in flight x 20 ms ≈ 400/s per replica) that the run outlasts the rebalances.
        scenario.Stub.Reply = (_, _) => new StubReply(200, TimeSpan.FromMilliseconds(20));
        var events = Events("replica", 1500, keys: 300);
        scenario.Produce(Lane.Statuses, events);

        Uri Url(string replica) => new(scenario.Stub.LaneUrl(Lane.Statuses) + "?replica=" + replica);
        await scenario.StartWorkerAsync(Lane.Statuses, ("DELIVERY_URL", Url("a").ToString()), ("WORKER_MAX_IN_FLIGHT", "8"));
        await scenario.StartWorkerAsync(Lane.Statuses, ("DELIVERY_URL", Url("b").ToString()), ("WORKER_MAX_IN_FLIGHT", "8"));
        await Poll.UntilAsync(() => scenario.Stub.Delivered.Count >= 400, Settle, "400 deliveries");
        await scenario.StartWorkerAsync(Lane.Statuses, ("DELIVERY_URL", Url("c").ToString()), ("WORKER_MAX_IN_FLIGHT", "8"));

        Assert.Empty(await scenario.WaitSettledAsync(Lane.Statuses, events.Select(e => e.Item1).ToArray(), Settle));
        var byReplica = scenario.Stub.Receipts.GroupBy(r => r.Replica).ToDictionary(g => g.Key ?? "?", g => g.Count());
        output.WriteLine("deliveries by replica: " + string.Join(", ", byReplica.Select(kv => $"{kv.Key}={kv.Value}")) + $"; duplicates {Duplicates(scenario.Stub)}");
        Assert.True(byReplica.GetValueOrDefault("a") > 0 && byReplica.GetValueOrDefault("b") > 0, "both first replicas should own partitions");
        Assert.Empty(scenario.DeadLetters(Lane.Statuses));
    }

    [Fact]
    public async Task A_status_backlog_does_not_delay_customer_messages()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        scenario.Stub.Reply = (r, _) => r.Lane == LaneNames.Statuses ? new StubReply(200, TimeSpan.FromMilliseconds(2)) : StubReply.Ok;
        var statuses = Events("flood", 20_000, keys: 500);
        scenario.Produce(Lane.Statuses, statuses);
        await scenario.StartWorkerAsync(Lane.Statuses, ("WORKER_MAX_IN_FLIGHT", "8"));
        await scenario.StartWorkerAsync(Lane.Messages);

        var messages = new List<string>();
        for (var batch = 0; batch < 10; batch++)
        {
            var ids = Enumerable.Range(0, 10).Select(i => ($"wamid.vip-{batch}-{i}", $"cust-{i}")).ToArray();
            scenario.Produce(Lane.Messages, ids);
            messages.AddRange(ids.Select(i => i.Item1));
            await Task.Delay(50); // a steady arrival rate, not a synchronisation
        }

        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, messages, Settle));
        var statusesDone = scenario.Stub.Receipts.Count(r => r.Lane == LaneNames.Statuses);
        var latencies = scenario.Stub.Receipts.Where(r => r.Lane == LaneNames.Messages)
            .Select(r => (r.At - r.Envelope.GetProperty("receivedAt").GetDateTimeOffset()).TotalMilliseconds).Order().ToArray();
        var p50 = latencies[latencies.Length / 2];
        var p99 = latencies[(int)(latencies.Length * 0.99)];
        output.WriteLine($"messages end-to-end p50 {p50:0} ms, p99 {p99:0} ms; statuses delivered meanwhile {statusesDone} of {statuses.Length}");

        // The point: every message went through while the status backlog was still there.
        Assert.True(statusesDone < statuses.Length, "the status backlog drained before the messages: nothing was shown");
        Assert.True(p99 < 5000, $"messages p99 {p99:0} ms behind a status backlog (bound 5 s)");
    }

    [Fact]
    public async Task A_failing_endpoint_opens_the_circuit_instead_of_flooding_the_retry_tiers_and_it_closes_on_recovery()
    {
        await using var scenario = await PipelineScenario.StartAsync(retryDelays: "1s,2s,4s,8s");
        var down = true;
        scenario.Stub.Reply = (_, _) => Volatile.Read(ref down) ? new StubReply(503) : StubReply.Ok;
        var events = Events("outage", 300, keys: 60);
        scenario.Produce(Lane.Messages, events);
        var worker = await scenario.StartWorkerAsync(Lane.Messages,
            ("WORKER_MAX_IN_FLIGHT", "8"), ("CIRCUIT_MIN_THROUGHPUT", "10"), ("CIRCUIT_FAILURE_RATIO", "0.5"),
            ("CIRCUIT_SAMPLING_SECONDS", "2"), ("CIRCUIT_BREAK_SECONDS", "1"));

        async Task<double> CircuitState() =>
            MetricsText.Value(await worker.Client.GetStringAsync("/metrics"), "whatsapp_worker_circuit_state{lane=\"messages\"");
        await Poll.UntilAsync(CircuitState, s => s == 2, Settle, "the circuit to open");
        await Task.Delay(TimeSpan.FromSeconds(3)); // the outage lasts a while with the circuit open
        var forwardedDuringOutage = scenario.RetryRecords(Lane.Messages).Count;
        Volatile.Write(ref down, false);

        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, events.Select(e => e.Item1).ToArray(), Settle));
        await Poll.UntilAsync(CircuitState, s => s == 0, Settle, "the circuit to close");
        output.WriteLine($"forwarded to retry tiers during the outage: {forwardedDuringOutage} of {events.Length}; dead letters: {scenario.DeadLetters(Lane.Messages).Count}");
        Assert.Equal(events.Length, scenario.Stub.Delivered.Count);
        Assert.Empty(scenario.DeadLetters(Lane.Messages));
        Assert.True(forwardedDuringOutage < events.Length / 5, $"{forwardedDuringOutage} of {events.Length} went to the retry tiers");
    }
}
