using System.Diagnostics;
using System.Net.Http.Headers;
using Streaming.Benchmarks.Infrastructure;
using Streaming.Ingress.Security;

namespace Streaming.Benchmarks.Load;

/// <summary>
/// The .NET load client: a closed loop (fixed concurrency, wrk's model, used when wrk is missing) and a
/// paced open loop (fixed rate, for the resource benchmark). Latency of a paced request counts from
/// when it was due, not when it was sent, so a stalled server is not hidden (no coordinated omission).
/// </summary>
public static class DotnetLoad
{
    public static async Task<LoadResult> ClosedLoopAsync(Uri url, IReadOnlyList<SignedWebhook> bodies, int concurrency, TimeSpan duration)
    {
        using var client = Client(url, concurrency);
        var samples = new Samples();
        long ok = 0, failed = 0;
        var clock = Stopwatch.StartNew();
        var loops = Enumerable.Range(0, concurrency).Select(async worker =>
        {
            var i = worker * 7919;
            while (clock.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                var success = await SendAsync(client, bodies[i++ % bodies.Count]);
                samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                Interlocked.Increment(ref success ? ref ok : ref failed);
            }
        });
        await Task.WhenAll(loops);
        return Result(samples, ok, failed, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Sends <paramref name="rate"/> webhooks a second for <paramref name="duration"/>; requests due while <paramref name="maxInFlight"/> are under way count as failed.</summary>
    public static async Task<LoadResult> PacedAsync(Uri url, IReadOnlyList<SignedWebhook> bodies, double rate, TimeSpan duration, int maxInFlight = 256)
    {
        using var client = Client(url, maxInFlight);
        var samples = new Samples();
        long ok = 0, failed = 0, inFlight = 0, sent = 0;
        var pending = new List<Task>();
        var clock = Stopwatch.StartNew();
        var total = (long)(rate * duration.TotalSeconds);
        while (sent < total)
        {
            var due = TimeSpan.FromSeconds(sent / rate);
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait);
                continue;
            }

            var body = bodies[(int)(sent++ % bodies.Count)];
            if (Interlocked.Read(ref inFlight) >= maxInFlight)
            {
                Interlocked.Increment(ref failed);
                continue;
            }

            Interlocked.Increment(ref inFlight);
            pending.Add(Task.Run(async () =>
            {
                var success = await SendAsync(client, body);
                samples.Add((clock.Elapsed - due).TotalMilliseconds);
                Interlocked.Increment(ref success ? ref ok : ref failed);
                Interlocked.Decrement(ref inFlight);
            }));
        }

        await Task.WhenAll(pending);
        return Result(samples, ok, failed, duration.TotalSeconds);
    }

    private static HttpClient Client(Uri url, int connections) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            BaseAddress = url,
            Timeout = TimeSpan.FromSeconds(10),
        };

    private static async Task<bool> SendAsync(HttpClient client, SignedWebhook body)
    {
        using var content = new ByteArrayContent(body.Body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhook") { Content = content };
        request.Headers.TryAddWithoutValidation(WebhookSignature.HeaderName, body.Signature);
        try
        {
            using var response = await client.SendAsync(request);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private static LoadResult Result(Samples samples, long ok, long failed, double seconds) =>
        new(ok, failed, seconds, samples.Percentile(50), samples.Percentile(99), samples.Percentile(99.9), samples.Max, ".NET");
}
