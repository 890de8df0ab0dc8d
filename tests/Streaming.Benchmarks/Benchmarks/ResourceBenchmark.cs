using System.Collections.Concurrent;
using System.Diagnostics;
using Streaming.Benchmarks.Infrastructure;
using Streaming.Benchmarks.Load;
using Streaming.Contracts;
using Streaming.Testing;

namespace Streaming.Benchmarks.Benchmarks;

/// <summary>
/// 6. Resource use of the services as separate processes (Streaming.Ingress.dll, Streaming.Worker.dll
/// from this output folder; broker, stub and load generator stay in this process): RSS and CPU at a
/// fixed load, and a worker's RSS with 0 vs many events waiting in the retry tiers.
/// </summary>
public sealed class ResourceBenchmark : IBenchmark
{
    private const int RetryPartitions = 8;
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(60);

    public string Name => "resources";

    public string Title => "6. Resource use (ingress and worker as separate processes)";

    public TimeSpan Budget => TimeSpan.FromMinutes(4);

    public async Task RunAsync(BenchReport report, BenchOptions options)
    {
        var table = report.Table("RSS and CPU at a fixed load",
            new Column("service", "service"), new Column("load", "offered load"), new Column("achieved", "achieved/s", Format.Rate),
            new Column("p50", "p50 ms", Format.Millis), new Column("p99", "p99 ms", Format.Millis), new Column("rssIdle", "RSS idle MiB", Format.MiB),
            new Column("rssMean", "RSS mean MiB", Format.MiB), new Column("rssMax", "RSS max MiB", Format.MiB), new Column("cpuIdle", "CPU idle", Format.Percent),
            new Column("cpu", "CPU under load", Format.Percent));
        int[] rates = options.Quick ? [200] : [500, 2000];
        var window = options.Seconds(8, 3);
        await MeasureIngressAsync(table, rates, window);
        await MeasureWorkerAsync(table, rates, window);
        report.Notes.Add($"Fixed loads: single-message webhooks paced by an open-loop .NET client (latency counted from when each request was due) for the ingress; events written at that rate to the messages lane for the worker (latency = receivedAt → stub, which answers at once). {window.TotalSeconds:0} s per load after a warm-up; /proc sampled every 250 ms.");
        report.Notes.Add("The worker's latency is mostly the embedded broker's 500 ms fetch wait (see benchmark 3), not work.");
        report.Notes.Add("CPU is the process's user+system time over the window in % of one core (the machine has two); 'idle' is 3 s without load after the warm-up. Both services run with Server GC as shipped.");

        var backlog = report.Table("Worker RSS with events waiting in the retry tiers (memory must not grow with the backlog)",
            new Column("waiting", "waiting in tiers", Format.Integer), new Column("retained", "held by the broker", Format.Integer),
            new Column("rssReady", "RSS after start MiB", Format.MiB), new Column("rssMean", "RSS under load mean MiB", Format.MiB),
            new Column("rssMax", "RSS under load max MiB", Format.MiB), new Column("cpu", "CPU %", Format.Percent), new Column("delivered", "main-lane delivered/s", Format.Rate));
        int[] sizes = options.Quick ? [0, 5_000] : [0, 50_000, 150_000];
        var rss = new List<double>();
        foreach (var waiting in sizes)
        {
            var (retained, ready, mean, max, cpu, delivered) = await MeasureBacklogAsync(waiting, options.Quick ? 50 : 200, options.Seconds(8, 3));
            backlog.Add(("waiting", waiting), ("retained", retained), ("rssReady", ready), ("rssMean", mean), ("rssMax", max), ("cpu", cpu), ("delivered", delivered));
            rss.Add(max);
        }

        report.Headlines.Add($"worker RSS (max under load) with {string.Join(" / ", sizes.Select(s => s.ToString("#,0", System.Globalization.CultureInfo.InvariantCulture)))} events waiting: " +
            string.Join(" / ", rss.Select(r => $"{r:0} MiB")));
        report.Notes.Add($"Waiting events are written straight into the messages lane's two tier topics ({RetryPartitions} partitions each) with a not-before 30 min ahead, before the worker starts; then it runs at a light main-lane load. A tier partition is paused at its head record, so its backlog stays in Kafka; librdkafka's prefetch is capped at 16 MiB by the worker's consumer settings.");
    }

    private static async Task MeasureIngressAsync(ResultTable table, int[] rates, TimeSpan window)
    {
        await using var cluster = await BenchCluster.StartAsync();
        var environment = cluster.ProcessEnvironment(cluster.Broker.Settings(cluster.HostSettings(
            ("WHATSAPP_APP_SECRET", IngressHost.AppSecret), ("WHATSAPP_VERIFY_TOKEN", IngressHost.VerifyToken))));
        using var ingress = ChildService.Start("Streaming.Ingress.dll", "INGRESS_PORT", environment);
        await ingress.WaitReadyAsync(Ready);
        var bodies = Webhooks.MessagePool("b6", 2000, 1);
        await DotnetLoad.PacedAsync(ingress.Address, bodies, rates[0], TimeSpan.FromSeconds(2));
        var (idle, cpuIdle) = await IdleAsync(ingress);
        foreach (var rate in rates)
        {
            await using var monitor = new ProcMonitor(ingress.Pid, TimeSpan.FromMilliseconds(250));
            var load = await DotnetLoad.PacedAsync(ingress.Address, bodies, rate, window);
            var (mean, max, _, cpu) = await monitor.StopAsync();
            table.Add(("service", "ingress"), ("load", $"{rate:#,0} webhooks/s"), ("achieved", load.Rate), ("p50", load.P50), ("p99", load.P99),
                ("rssIdle", idle), ("rssMean", mean), ("rssMax", max), ("cpuIdle", cpuIdle), ("cpu", cpu));
        }
    }

    private static async Task MeasureWorkerAsync(ResultTable table, int[] rates, TimeSpan window)
    {
        await using var cluster = await BenchCluster.StartAsync();
        await using var stub = await BenchStub.StartAsync();
        using var worker = StartWorker(cluster, stub);
        await worker.WaitReadyAsync(Ready);
        var topic = cluster.Topology[Lane.Messages].Main.Name;
        using var producer = cluster.CreateProducer(lingerMs: 2);
        await WarmUpAsync(producer, topic, stub);
        await ProducePacedAsync(producer, topic, rates[0], TimeSpan.FromSeconds(2), "warm", null);
        await stub.WaitForAsync(s => s.Succeeded >= 2 * rates[0], TimeSpan.FromSeconds(10));
        var (idle, cpuIdle) = await IdleAsync(worker);
        foreach (var rate in rates)
        {
            stub.Reset();
            var sent = new ConcurrentDictionary<string, long>();
            await using var monitor = new ProcMonitor(worker.Pid, TimeSpan.FromMilliseconds(250));
            await ProducePacedAsync(producer, topic, rate, window, $"load{rate}", sent);
            var (mean, max, _, cpu) = await monitor.StopAsync();
            await stub.WaitForAsync(s => s.Succeeded >= sent.Count, TimeSpan.FromSeconds(10));
            var latency = new Samples(stub.Hits.Where(h => sent.ContainsKey(h.EventId)).Select(h => TimeSpan.FromTicks(h.ArrivedTicks - sent[h.EventId]).TotalMilliseconds));
            table.Add(("service", "worker (messages lane)"), ("load", $"{rate:#,0} events/s"), ("achieved", latency.Count / window.TotalSeconds), ("p50", latency.Percentile(50)),
                ("p99", latency.Percentile(99)), ("rssIdle", idle), ("rssMean", mean), ("rssMax", max), ("cpuIdle", cpuIdle), ("cpu", cpu));
        }
    }

    private static async Task<(long Retained, double Ready, double Mean, double Max, double Cpu, double Delivered)> MeasureBacklogAsync(int waiting, int rate, TimeSpan window)
    {
        await using var cluster = await BenchCluster.StartAsync(retryPartitions: RetryPartitions);
        var retained = waiting > 0 ? RetryBenchmark.ProduceWaiting(cluster, Lane.Messages, waiting, "b6wait") : 0;
        await using var stub = await BenchStub.StartAsync();
        using var worker = StartWorker(cluster, stub);
        await worker.WaitReadyAsync(Ready);
        var topic = cluster.Topology[Lane.Messages].Main.Name;
        using var producer = cluster.CreateProducer(lingerMs: 2);
        await WarmUpAsync(producer, topic, stub);
        await Task.Delay(2000);
        var ready = worker.Sample().RssMiB;
        stub.Reset();
        await using var monitor = new ProcMonitor(worker.Pid, TimeSpan.FromMilliseconds(250));
        await ProducePacedAsync(producer, topic, rate, window, "load", null);
        var (mean, max, _, cpu) = await monitor.StopAsync();
        return (retained, ready, mean, max, cpu, stub.Succeeded / window.TotalSeconds);
    }

    /// <summary>RSS and CPU over 3 s without load.</summary>
    private static async Task<(double RssMiB, double CpuPercent)> IdleAsync(ChildService service)
    {
        await Task.Delay(1000);
        var from = service.Sample();
        await Task.Delay(3000);
        var to = service.Sample();
        return (to.RssMiB, ProcSample.CpuPercent(from, to));
    }

    private static ChildService StartWorker(BenchCluster cluster, BenchStub stub)
    {
        var settings = WorkerHost.Settings(cluster.Broker, Lane.Messages, stub.LaneUrl(Lane.Messages), cluster.HostSettings());
        return ChildService.Start("Streaming.Worker.dll", "WORKER_PORT", cluster.ProcessEnvironment(settings));
    }

    /// <summary>One event through: the worker has joined its group and delivers.</summary>
    private static async Task WarmUpAsync(Confluent.Kafka.IProducer<string?, byte[]> producer, string topic, BenchStub stub)
    {
        BenchCluster.ProduceAll(producer, [(topic, BenchCluster.LaneRecord(Lane.Messages, "warm", "warm", DateTimeOffset.UtcNow))]);
        if (!await stub.WaitForAsync(s => s.Succeeded >= 1, Ready))
        {
            throw new TimeoutException("the worker process delivered nothing within a minute");
        }

        stub.Reset();
    }

    private static async Task ProducePacedAsync(Confluent.Kafka.IProducer<string?, byte[]> producer, string topic, int rate, TimeSpan window, string run, ConcurrentDictionary<string, long>? sent)
    {
        var clock = Stopwatch.StartNew();
        var total = (int)(rate * window.TotalSeconds);
        for (var n = 0; n < total; n++)
        {
            var due = TimeSpan.FromSeconds((double)n / rate);
            if (due - clock.Elapsed > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(due - clock.Elapsed);
            }

            var id = $"{run}-{n}";
            var receivedAt = DateTimeOffset.UtcNow;
            sent?.TryAdd(id, receivedAt.UtcTicks);
            BenchCluster.ProduceWaiting(producer, topic, BenchCluster.LaneRecord(Lane.Messages, id, Webhooks.WaId(n % 5000), receivedAt), _ => { });
        }

        producer.Flush(TimeSpan.FromSeconds(30));
    }
}
