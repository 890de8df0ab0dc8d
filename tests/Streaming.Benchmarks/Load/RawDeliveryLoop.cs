using System.Diagnostics;
using System.Net.Http.Headers;
using Streaming.Contracts;
using Streaming.Testing;

namespace Streaming.Benchmarks.Load;

/// <summary>
/// The delivery ceiling: <c>concurrency</c> loops POSTing an event envelope to the stub with a plain
/// HttpClient (SocketsHttpHandler, as the worker's), nothing else: no Kafka, no signature, no retry logic.
/// </summary>
public static class RawDeliveryLoop
{
    public static async Task<double> RunAsync(Uri url, Lane lane, int concurrency, TimeSpan duration)
    {
        var body = PipelineScenario.Envelope(lane, "raw", Infrastructure.Webhooks.WaId(1));
        using var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) }) { Timeout = TimeSpan.FromSeconds(10) };
        long ok = 0, sequence = 0;
        var measuring = false;
        var clock = Stopwatch.StartNew();
        var warmUp = TimeSpan.FromSeconds(Math.Min(1, duration.TotalSeconds / 3));
        var measuredFrom = TimeSpan.Zero;

        async Task LoopAsync()
        {
            while (clock.Elapsed < warmUp + duration)
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
                request.Headers.Add(StandardWebhooks.IdHeader, $"raw-{Interlocked.Increment(ref sequence)}");
                using var response = await client.SendAsync(request);
                if (Volatile.Read(ref measuring) && response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref ok);
                }
            }
        }

        var loops = Enumerable.Range(0, concurrency).Select(_ => Task.Run(LoopAsync)).ToArray();
        await Task.Delay(warmUp);
        measuredFrom = clock.Elapsed;
        Volatile.Write(ref measuring, true);
        await Task.WhenAll(loops);
        return Interlocked.Read(ref ok) / (clock.Elapsed - measuredFrom).TotalSeconds;
    }
}
