using System.Diagnostics;
using System.Globalization;
using Streaming.Benchmarks.Infrastructure;
using Streaming.Contracts;
using Streaming.Testing;

namespace Streaming.Benchmarks.Benchmarks;

/// <summary>
/// 7. What a replica buys: one lane (12 partitions) delivered by 1, 2 and 3 worker processes (separate OS
/// processes, the same WORKER_MAX_IN_FLIGHT each) against an endpoint answering after 100 ms (latency-bound:
/// a replica adds slots, not CPU), each process's part of the backlog, and how long a joining replica takes
/// to hold its share of the main topic's partitions and to deliver its share of the lane's rate.
/// </summary>
public sealed class ReplicaScalingBenchmark : IBenchmark
{
    private const int Partitions = 12;
    private const int InFlight = 16;
    private const int EndpointMs = 100;
    private const Lane LaneUnderTest = Lane.Messages;

    /// <summary>What one replica can deliver at most: its slots over the endpoint's latency.</summary>
    private const double ReplicaCeiling = InFlight * 1000.0 / EndpointMs;

    public string Name => "replica-scaling";

    public string Title => "7. Horizontal scaling: 1, 2 and 3 worker processes on one lane";

    public TimeSpan Budget => TimeSpan.FromMinutes(8);

    public async Task RunAsync(BenchReport report, BenchOptions options)
    {
        var table = report.Table($"One lane, {Partitions} partitions, WORKER_MAX_IN_FLIGHT {InFlight} per replica, endpoint {EndpointMs} ms",
            new Column("replicas", "worker processes", Format.Integer), new Column("rate", "events/s", Format.Rate),
            new Column("ratio", "÷ 1 replica", Format.Ratio), new Column("ideal", "÷ ideal (replicas × 1-replica rate)", Format.Ratio),
            new Column("events", "backlog events", Format.Integer), new Column("complete", "all delivered"),
            new Column("partitions", "main-topic partitions per process"), new Column("parts", "backlog delivered per process"),
            new Column("fairest", "smallest part ÷ fair part", Format.Ratio));
        var join = report.Table("A joining replica (the 3rd, while 2 deliver a backlog)",
            new Column("ready", "start → /readyz", Format.Millis),
            new Column("partitions", $"start → its share of the main topic ({Partitions / 3} of {Partitions} partitions)", Format.Millis),
            new Column("first", "start → its first delivery", Format.Millis),
            new Column("share", "start → 80 % of its share (1/3 of the lane's rate, over 1 s)", Format.Millis));

        await using var stub = await BenchStub.StartAsync();
        stub.AnswerAfter(TimeSpan.FromMilliseconds(EndpointMs));
        await using var cluster = await BenchCluster.StartAsync(mainPartitions: Partitions);
        var workers = new List<ChildService>();
        try
        {
            double? single = null;
            for (var replicas = 1; replicas <= 3; replicas++)
            {
                if (replicas == 3)
                {
                    join.Add(await JoinAsync(cluster, stub, workers, options));
                }
                else
                {
                    workers.Add(await StartWorkerAsync(cluster, stub));
                }

                var share = await EvenShareAsync(cluster, workers, TimeSpan.FromSeconds(90));
                await SettleAsync(cluster, stub, workers, options, $"settle{replicas}");
                var events = (int)(replicas * ReplicaCeiling * options.Seconds(15, 4).TotalSeconds);
                var before = await Task.WhenAll(workers.Select(DeliveredAsync));
                var rate = await MeasureAsync(cluster, stub, events, options.Seconds(60, 25), $"r{replicas}");
                var after = await Task.WhenAll(workers.Select(DeliveredAsync));
                var parts = after.Zip(before, (a, b) => a - b).ToArray();
                single ??= rate.Rate;
                table.Add(("replicas", replicas), ("rate", rate.Rate), ("ratio", rate.Rate / single.Value), ("ideal", rate.Rate / (replicas * single.Value)),
                    ("events", events), ("complete", rate.CompleteText), ("partitions", (share.Even ? "" : "not even: ") + string.Join(" / ", share.Counts)),
                    ("parts", string.Join(" / ", parts)), ("fairest", parts.Min() / ((double)events / replicas)));
                report.Headlines.Add($"{replicas} replica(s): {rate.Rate:0} events/s, {rate.Rate / single.Value:0.00}× one replica");
            }
        }
        finally
        {
            foreach (var worker in workers)
            {
                worker.Dispose();
            }
        }

        report.Notes.Add($"Each replica is a Streaming.Worker process (WORKER_MAX_IN_FLIGHT={InFlight}), so one replica can deliver at most {ReplicaCeiling:0} events/s against a {EndpointMs} ms endpoint: the lane is bound by the endpoint's latency, which is what adding replicas relieves. " +
            "The backlog is produced after every replica has joined and delivered (group settled); events/s is measured between the 10th and 90th percentile delivery. Keys spread over 5,000 customers.");
        report.Notes.Add("Each row starts once every process holds an even share (±1) of the main topic's partitions (its /metrics whatsapp_worker_assigned_partitions) and has delivered. A process's part of the backlog is its own whatsapp_worker_delivered_total over the run; the fair part is the backlog ÷ processes, and keys (5,000 customers) hash unevenly over partitions, so a smallest part of 0.8-1.0 is what an even share of partitions gives.");
        report.Notes.Add("Join: the 3rd process starts while a backlog is being delivered by two; it holds its share of the main topic when its whatsapp_worker_assigned_partitions for the main topic reaches 4 of 12, and reaches its share of the rate when its own deliveries (its /metrics whatsapp_worker_delivered_total, polled every 250 ms) over the last second are at least 80 % of a third of the whole lane's rate at the stub. The times include the process start, the group join and the cooperative rebalance.");
        report.Notes.Add("On this shared 2-core machine the stub, the embedded 3-broker Kafka and all worker processes share the CPU, so the ratios understate what separate nodes give; numbers are noisy between runs.");
    }

    private static async Task<ChildService> StartWorkerAsync(BenchCluster cluster, BenchStub stub)
    {
        var settings = WorkerHost.Settings(cluster.Broker, LaneUnderTest, stub.LaneUrl(LaneUnderTest),
            cluster.HostSettings(("WORKER_MAX_IN_FLIGHT", InFlight.ToString(CultureInfo.InvariantCulture))));
        var worker = ChildService.Start("Streaming.Worker.dll", "WORKER_PORT", cluster.ProcessEnvironment(settings));
        await worker.WaitReadyAsync(TimeSpan.FromSeconds(60));
        return worker;
    }

    /// <summary>Until every replica delivers: a trickle of events, until each process has delivered one (the group is settled).</summary>
    private static async Task SettleAsync(BenchCluster cluster, BenchStub stub, IReadOnlyList<ChildService> workers, BenchOptions options, string run)
    {
        var topic = cluster.Topology[LaneUnderTest].Main.Name;
        using var producer = cluster.CreateProducer();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        var n = 0;
        var workersDelivering = 0;
        while (DateTime.UtcNow < deadline)
        {
            BenchCluster.ProduceAll(producer, Enumerable.Range(n, 48).Select(i => (topic, BenchCluster.LaneRecord(LaneUnderTest, $"{run}-{i}", Webhooks.WaId(i % 5000), DateTimeOffset.UtcNow))));
            n += 48;
            await Task.Delay(500);
            workersDelivering = await CountDeliveringAsync();
            if (workersDelivering >= workers.Count)
            {
                break;
            }
        }

        await stub.WaitForAsync(s => s.Succeeded >= n, TimeSpan.FromSeconds(30));
        await Task.Delay(options.Seconds(2, 1));
        stub.Reset();

        async Task<int> CountDeliveringAsync()
        {
            // Every replica delivered something since start: each one has partitions.
            var counts = await Task.WhenAll(workers.Select(DeliveredAsync));
            return counts.Count(c => c > 0);
        }
    }

    private static async Task<WorkerRate> MeasureAsync(BenchCluster cluster, BenchStub stub, int events, TimeSpan window, string run)
    {
        stub.Reset();
        var topic = cluster.Topology[LaneUnderTest].Main.Name;
        using (var producer = cluster.CreateProducer())
        {
            var now = DateTimeOffset.UtcNow;
            BenchCluster.ProduceAll(producer, Enumerable.Range(0, events).Select(i => (topic, BenchCluster.LaneRecord(LaneUnderTest, $"{run}-{i}", Webhooks.WaId(i % 5000), now))));
        }

        var complete = await stub.WaitForAsync(s => s.Succeeded >= events, window);
        var prefix = run + "-";
        return WorkerRun.Rate(stub.Hits.Where(h => h.Status is >= 200 and < 300 && h.EventId.StartsWith(prefix, StringComparison.Ordinal)).Select(h => h.ArrivedTicks), events, complete);
    }

    /// <summary>Two replicas deliver a backlog; a third starts: when does it deliver, and when its share.</summary>
    private static async Task<(string, object?)[]> JoinAsync(BenchCluster cluster, BenchStub stub, List<ChildService> workers, BenchOptions options)
    {
        stub.Reset();
        var topic = cluster.Topology[LaneUnderTest].Main.Name;
        // Long enough that two replicas are still busy well after a rebalance (seconds on the embedded broker).
        var events = (int)(3 * ReplicaCeiling * options.Seconds(30, 20).TotalSeconds);
        using (var producer = cluster.CreateProducer())
        {
            var now = DateTimeOffset.UtcNow;
            BenchCluster.ProduceAll(producer, Enumerable.Range(0, events).Select(i => (topic, BenchCluster.LaneRecord(LaneUnderTest, $"join-{i}", Webhooks.WaId(i % 5000), now))));
        }

        await stub.WaitForAsync(s => s.Succeeded >= 200, TimeSpan.FromSeconds(30));
        var clock = Stopwatch.StartNew();
        var settings = WorkerHost.Settings(cluster.Broker, LaneUnderTest, stub.LaneUrl(LaneUnderTest),
            cluster.HostSettings(("WORKER_MAX_IN_FLIGHT", InFlight.ToString(CultureInfo.InvariantCulture))));
        var joiner = ChildService.Start("Streaming.Worker.dll", "WORKER_PORT", cluster.ProcessEnvironment(settings));
        workers.Add(joiner);
        await joiner.WaitReadyAsync(TimeSpan.FromSeconds(60));
        var ready = clock.Elapsed.TotalMilliseconds;
        double? first = null, share = null, partitions = null;
        var history = new Queue<(double At, long Mine, long All)>();
        while (clock.Elapsed < options.Seconds(60, 40) && stub.Succeeded < events)
        {
            var mine = await DeliveredAsync(joiner);
            var all = stub.Succeeded;
            var at = clock.Elapsed.TotalMilliseconds;
            if (partitions is null && await MainPartitionsAsync(joiner, topic) >= Partitions / 3)
            {
                partitions = at;
            }

            if (mine > 0 && first is null)
            {
                first = at;
            }

            history.Enqueue((at, mine, all));
            while (history.Count > 0 && at - history.Peek().At > 1000)
            {
                var (pastAt, pastMine, pastAll) = history.Dequeue();
                if (at - pastAt >= 900 && share is null && pastAll < all && (mine - pastMine) >= 0.8 * (all - pastAll) / 3.0)
                {
                    share = at;
                }
            }

            if (share is not null && partitions is not null)
            {
                break;
            }

            await Task.Delay(250);
        }

        await stub.WaitForAsync(s => s.Succeeded >= events, TimeSpan.FromSeconds(60));
        return [("ready", ready), ("partitions", partitions), ("first", first), ("share", share)];
    }

    /// <summary>
    /// Until every process holds ⌊n/r⌋ or ⌈n/r⌉ of the main topic's partitions and they add up to all of them
    /// (bounded: a layout that never gets even is reported, not waited on forever).
    /// </summary>
    private static async Task<(bool Even, int[] Counts)> EvenShareAsync(BenchCluster cluster, IReadOnlyList<ChildService> workers, TimeSpan timeout)
    {
        var topic = cluster.Topology[LaneUnderTest].Main.Name;
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var counts = await Task.WhenAll(workers.Select(w => MainPartitionsAsync(w, topic)));
            var even = counts.Sum() == Partitions && counts.All(c => c >= Partitions / workers.Count && c <= (Partitions + workers.Count - 1) / workers.Count);
            if (even || DateTime.UtcNow > deadline)
            {
                return (even, counts);
            }

            await Task.Delay(250);
        }
    }

    /// <summary>How many of the main topic's partitions the process holds, from its /metrics (0 while it does not answer).</summary>
    private static async Task<int> MainPartitionsAsync(ChildService worker, string topic)
    {
        using var client = new HttpClient { BaseAddress = worker.Address, Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            var text = await client.GetStringAsync("/metrics");
            return (int)text.Split('\n')
                .Where(l => l.StartsWith("whatsapp_worker_assigned_partitions{", StringComparison.Ordinal) && l.Contains($"topic=\"{topic}\"", StringComparison.Ordinal))
                .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or FormatException)
        {
            return 0;
        }
    }

    /// <summary>The process's own delivered count, from its /metrics.</summary>
    private static async Task<long> DeliveredAsync(ChildService worker)
    {
        using var client = new HttpClient { BaseAddress = worker.Address, Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            var text = await client.GetStringAsync("/metrics");
            return (long)text.Split('\n')
                .Where(l => l.StartsWith("whatsapp_worker_delivered_total", StringComparison.Ordinal))
                .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or FormatException)
        {
            return 0;
        }
    }
}
