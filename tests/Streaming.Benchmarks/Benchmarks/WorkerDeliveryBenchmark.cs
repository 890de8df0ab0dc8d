using Streaming.Benchmarks.Infrastructure;
using Streaming.Benchmarks.Load;
using Streaming.Contracts;

namespace Streaming.Benchmarks.Benchmarks;

/// <summary>
/// 4. A lane worker's delivery rate over a backlog against a stub answering after 0, 20 and 100 ms,
/// as a share of a raw HttpClient loop with the worker's concurrency (WORKER_MAX_IN_FLIGHT = 64)
/// against the same stub.
/// </summary>
public sealed class WorkerDeliveryBenchmark : IBenchmark
{
    private const int Concurrency = 64;

    private static TimeSpan Window(BenchOptions options) => options.Seconds(6, 2);

    private static string Text(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public string Name => "worker-delivery";

    public string Title => "4. Worker delivery vs a raw HttpClient loop";

    public TimeSpan Budget => TimeSpan.FromMinutes(4);

    public async Task RunAsync(BenchReport report, BenchOptions options)
    {
        var table = report.Table($"Events/s per lane (concurrency {Concurrency} for both)",
            new Column("lane", "lane"), new Column("stubMs", "stub latency ms", Format.Integer), new Column("inFlight", "WORKER_MAX_IN_FLIGHT", Format.Integer),
            new Column("raw", "raw HttpClient loop ev/s", Format.Rate),
            new Column("worker", "worker ev/s", Format.Rate), new Column("ratio", "worker / raw", Format.Ratio), new Column("events", "backlog events", Format.Integer),
            new Column("complete", "all delivered"));
        await using var stub = await BenchStub.StartAsync();
        var headline = new List<string>();
        (Lane Lane, int DelayMs)[] runs = options.Quick
            ? [(Lane.Messages, 0), (Lane.Statuses, 20)]
            : [(Lane.Messages, 0), (Lane.Messages, 20), (Lane.Messages, 100), (Lane.Statuses, 0), (Lane.Statuses, 20), (Lane.Statuses, 100)];
        foreach (var (lane, delayMs) in runs)
        {
            stub.Reset();
            stub.AnswerAfter(TimeSpan.FromMilliseconds(delayMs));
            var raw = await RawDeliveryLoop.RunAsync(stub.LaneUrl(lane), lane, Concurrency, options.Seconds(2, 1));

            // A backlog the worker needs about 5 s for if it matched the raw loop.
            var events = (int)Math.Clamp(raw * options.Seconds(5, 1.5).TotalSeconds, options.Size(1000, 200), options.Size(30_000, 3_000));
            await using var cluster = await BenchCluster.StartAsync();
            var worker = await WorkerRun.MeasureAsync(cluster, stub, lane, events, Window(options), $"b4{lane}{delayMs}", ("WORKER_MAX_IN_FLIGHT", Text(Concurrency)));
            table.Add(("lane", lane.ToName()), ("stubMs", delayMs), ("inFlight", Concurrency), ("raw", raw), ("worker", worker.Rate), ("ratio", worker.Rate / raw),
                ("events", events), ("complete", worker.CompleteText));
            headline.Add($"{lane.ToName()} {delayMs} ms: {worker.Rate / raw:0.00}");
        }

        report.Headlines.Add("worker ÷ raw loop: " + string.Join(", ", headline));
        report.Notes.Add("Worker rate: the backlog is produced first, then the worker (in this process, default settings but WORKER_MAX_IN_FLIGHT) delivers it; events/s is measured between its 10th and 90th percentile delivery, so group join and tail are left out. " +
            $"The backlog is sized for about 5 s at the raw loop's rate; the worker gets at most {Window(options).TotalSeconds:0} s after its first delivery, and when that ends first its rate is over what it delivered ('all delivered: no').");
        report.Notes.Add("Raw loop: 64 HttpClient loops POSTing the same envelope to the same stub, measured for 2 s after a warm-up; it does no Kafka, no signing, no offset bookkeeping.");
        report.Notes.Add("Keys spread over 5,000 customers, so per-key ordering seldom holds a slot back; 4 partitions per lane. At 0 ms everything shares the CPU with the stub and the embedded broker, so the ratio is the worker's per-event cost; at 20/100 ms it shows whether the worker keeps its slots busy.");
    }
}
