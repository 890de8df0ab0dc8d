using Streaming.Benchmarks.Infrastructure;
using Streaming.Benchmarks.Load;
using Streaming.Contracts;

namespace Streaming.Benchmarks.Benchmarks;

/// <summary>
/// 1. Signed single-message webhooks at rising concurrency against (a) a bare Kestrel endpoint, (b) the
/// real ingress (acks=all on the embedded 3-broker cluster) and (c) a naive handler that calls a 20 ms
/// downstream before answering. The three servers run side by side and take turns at each concurrency,
/// so drift on the noisy machine spreads over all of them.
/// </summary>
public sealed class IngressHttpBenchmark : IBenchmark
{
    public string Name => "ingress-http";

    public string Title => "1. Ingress vs the HTTP ceiling (signed single-message webhooks)";

    public TimeSpan Budget => TimeSpan.FromMinutes(3);

    public async Task RunAsync(BenchReport report, BenchOptions options)
    {
        int[] levels = options.Quick ? [1, 8, 32] : [1, 8, 32, 64];
        var duration = options.Seconds(4, 1);
        var bodies = Webhooks.MessagePool("b1", options.Size(2000, 200), batch: 1);

        await using var cluster = await BenchCluster.StartAsync();
        await using var ingress = await cluster.StartIngressAsync();
        await using var stub = await BenchStub.StartAsync();
        stub.AnswerAfter(TimeSpan.FromMilliseconds(20));
        await using var bare = await ReferenceServer.StartBareAsync();
        await using var naive = await ReferenceServer.StartNaiveAsync(stub.LaneUrl(Lane.Messages));
        (string Name, Uri Url)[] servers = [("(a) bare Kestrel", bare.Address), ("(b) ingress, acks=all", ingress.Address), ("(c) naive, 20 ms downstream", naive.Address)];

        foreach (var (_, url) in servers)
        {
            await HttpLoad.ClosedLoopAsync(url, bodies, 8, options.Seconds(2, 1));
        }

        var table = report.Table("Requests/s and latency by concurrency",
            new Column("concurrency", "concurrency", Format.Integer), new Column("server", "server"),
            new Column("rps", "req/s", Format.Rate), new Column("p50", "p50 ms", Format.Millis), new Column("p99", "p99 ms", Format.Millis),
            new Column("p999", "p99.9 ms", Format.Millis), new Column("failed", "non-2xx/errors", Format.Integer));
        var ratios = report.Table("Ratios (same run, same load generator)",
            new Column("concurrency", "concurrency", Format.Integer), new Column("ingressOverBare", "(b)/(a) req/s", Format.Ratio),
            new Column("naiveOverBare", "(c)/(a) req/s", Format.Ratio), new Column("ingressOverNaive", "(b)/(c) req/s", Format.Ratio),
            new Column("ingressP99", "(b) p99 ms", Format.Millis));

        var headline = new List<string>();
        foreach (var c in levels)
        {
            var results = new List<LoadResult>();
            foreach (var (name, url) in servers)
            {
                var r = await HttpLoad.ClosedLoopAsync(url, bodies, c, duration);
                results.Add(r);
                table.Add(("concurrency", c), ("server", name), ("rps", r.Rate), ("p50", r.P50), ("p99", r.P99), ("p999", r.P999), ("failed", r.Failed));
            }

            ratios.Add(("concurrency", c), ("ingressOverBare", results[1].Rate / results[0].Rate), ("naiveOverBare", results[2].Rate / results[0].Rate),
                ("ingressOverNaive", results[1].Rate / results[2].Rate), ("ingressP99", results[1].P99));
            headline.Add($"c={c}: {results[1].Rate / results[0].Rate:0.00}");
        }

        report.Headlines.Add("(b)/(a), ingress over bare Kestrel: " + string.Join(", ", headline));
        report.Notes.Add($"{duration.TotalSeconds:0} s per point after a warm-up; closed loop (each connection sends its next webhook when the last is answered), so req/s = concurrency / latency.");
        report.Notes.Add("Each webhook carries one text message (about 0.6 KB, HMAC-SHA256 signed); the ingress answers only after the 3-broker embedded cluster acknowledged the record (idempotent producer, acks=all, linger 2 ms).");
        report.Notes.Add("(c) awaits its 20 ms downstream (no thread blocked): its ceiling is concurrency / 20 ms; a handler that blocks threads does worse.");
        report.Notes.Add("All servers, the embedded broker and the load generator share the machine's cores: (a) is the ceiling of this machine with this generator, not of Kestrel.");
    }
}
