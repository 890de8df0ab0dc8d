using Streaming.Contracts;

namespace Streaming.Benchmarks.Infrastructure;

/// <summary>
/// A lane worker's delivery rate over a backlog: events/s between the 10th and the 90th percentile
/// delivery (steady state, no start-up or tail). <see cref="Complete"/> is false when the time window
/// ended first; the rate is then over what was delivered in it.
/// </summary>
public sealed record WorkerRate(int Events, int Delivered, double Rate, double Seconds, bool Complete)
{
    public string CompleteText => Complete ? "yes" : $"no: {Delivered:#,0} in the {Seconds:0} s window";
}

/// <summary>Puts a backlog of lane records in Kafka, starts a worker in this process and times its deliveries at the stub.</summary>
public static class WorkerRun
{
    /// <param name="window">How long after its first delivery the worker gets for the backlog: the run is bounded whatever the rate.</param>
    public static Task<WorkerRate> MeasureAsync(
        BenchCluster cluster, BenchStub stub, Lane lane, int events, TimeSpan window, string run, params (string Key, string? Value)[] workerSettings) =>
        MeasureAsync(cluster, stub, lane, events, window, run, keys: 5000, workerSettings);

    /// <param name="keys">How many distinct keys (conversations) the backlog spreads over.</param>
    public static async Task<WorkerRate> MeasureAsync(
        BenchCluster cluster, BenchStub stub, Lane lane, int events, TimeSpan window, string run, int keys, params (string Key, string? Value)[] workerSettings)
    {
        stub.Reset();
        var topic = cluster.Topology[lane].Main.Name;
        using (var producer = cluster.CreateProducer())
        {
            var now = DateTimeOffset.UtcNow;
            var failed = BenchCluster.ProduceAll(producer, Enumerable.Range(0, events)
                .Select(i => (topic, BenchCluster.LaneRecord(lane, $"{run}-{i}", Webhooks.WaId(i % keys), now))));
            if (failed > 0)
            {
                throw new InvalidOperationException($"{failed} backlog records were not produced");
            }
        }

        var prefix = run + "-";
        await using var worker = await cluster.StartWorkerAsync(lane, stub.LaneUrl(lane), workerSettings);
        if (!await stub.WaitForAsync(s => s.Succeeded >= 1, TimeSpan.FromSeconds(60)))
        {
            throw new TimeoutException($"the {lane.ToName()} worker delivered nothing within a minute");
        }

        var complete = await stub.WaitForAsync(s => s.Succeeded >= events, window);
        var rate = Rate(stub.Hits.Where(h => h.Status is >= 200 and < 300 && h.EventId.StartsWith(prefix, StringComparison.Ordinal)).Select(h => h.ArrivedTicks), events, complete);
        return complete ? rate : rate with { Seconds = window.TotalSeconds };
    }

    /// <summary>Steady-state rate from delivery times: the middle 80 % of deliveries over the time they took.</summary>
    public static WorkerRate Rate(IEnumerable<long> arrivedTicks, int events, bool complete)
    {
        var times = arrivedTicks.Order().ToArray();
        if (times.Length < 10)
        {
            return new WorkerRate(events, times.Length, double.NaN, double.NaN, complete);
        }

        var from = times.Length / 10;
        var to = times.Length - 1 - (times.Length / 10);
        var seconds = TimeSpan.FromTicks(times[to] - times[from]).TotalSeconds;
        var total = TimeSpan.FromTicks(times[^1] - times[0]).TotalSeconds;
        return new WorkerRate(events, times.Length, seconds > 0 ? (to - from) / seconds : double.NaN, total, complete);
    }
}
