using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Streaming.Contracts;
using Streaming.Testing;

namespace Streaming.Benchmarks.Infrastructure;

/// <summary>One request as the stub saw it: when it arrived (UTC ticks, before any scripted delay), which attempt, what it answered.</summary>
public readonly record struct Hit(string EventId, int Attempt, long ArrivedTicks, int Status);

/// <summary>
/// The business's endpoint for benchmarks (Kestrel on a loopback port). Unlike the tests'
/// <see cref="DownstreamStub"/>, whose per-request attempt count scans every receipt so far (quadratic
/// over 100k deliveries), it counts attempts in a dictionary, does not parse or verify the body, and
/// keeps only a compact log. The answer's delay is a Task.Delay, like a slow endpoint's.
/// </summary>
public sealed class BenchStub : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _attempts = new();
    private readonly ConcurrentQueue<Hit> _hits = new();
    private long _received;
    private long _succeeded;
    private long _succeededWithPrefix;

    private BenchStub(WebApplication app) => _app = app;

    /// <summary>What each attempt is answered (default: 200 at once). May be replaced while a benchmark runs.</summary>
    public Func<string, int, StubReply> Reply { get; set; } = (_, _) => StubReply.Ok;

    public Uri Address => new(_app.Urls.First());

    public Uri LaneUrl(Lane lane) => new(Address, lane.ToName());

    public long Received => Interlocked.Read(ref _received);

    public long Succeeded => Interlocked.Read(ref _succeeded);

    /// <summary>Event ids starting with this are counted apart (e.g. a flood's), see <see cref="SucceededWithPrefix"/>.</summary>
    public string? CountPrefix { get; set; }

    public long SucceededWithPrefix => Interlocked.Read(ref _succeededWithPrefix);

    public IReadOnlyList<Hit> Hits => _hits.ToArray();

    public static async Task<BenchStub> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var stub = new BenchStub(app);
        app.MapPost("/{lane}", stub.HandleAsync);
        await app.StartAsync();
        return stub;
    }

    /// <summary>Replies with a fixed delay to every attempt.</summary>
    public void AnswerAfter(TimeSpan delay) => Reply = delay <= TimeSpan.Zero ? (_, _) => StubReply.Ok : (_, _) => new StubReply(200, delay);

    /// <summary>Forgets every hit and attempt count (between phases of one benchmark).</summary>
    public void Reset()
    {
        _hits.Clear();
        _attempts.Clear();
        Interlocked.Exchange(ref _received, 0);
        Interlocked.Exchange(ref _succeeded, 0);
        Interlocked.Exchange(ref _succeededWithPrefix, 0);
    }

    public async Task<bool> WaitForAsync(Func<BenchStub, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!done(this))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(20);
        }

        return true;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var arrived = DateTime.UtcNow.Ticks;
        await context.Request.Body.CopyToAsync(Stream.Null);
        var id = context.Request.Headers[StandardWebhooks.IdHeader].ToString();
        var attempt = _attempts.AddOrUpdate(id, 1, static (_, n) => n + 1);
        Interlocked.Increment(ref _received);
        var reply = Reply(id, attempt);
        if (reply.Delay > TimeSpan.Zero)
        {
            await Task.Delay(reply.Delay);
        }

        if (reply.Status is >= 200 and < 300)
        {
            Interlocked.Increment(ref _succeeded);
            if (CountPrefix is { } prefix && id.StartsWith(prefix, StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _succeededWithPrefix);
            }
        }

        _hits.Enqueue(new Hit(id, attempt, arrived, reply.Status));
        if (reply.RetryAfter is not null)
        {
            context.Response.Headers.RetryAfter = reply.RetryAfter;
        }

        context.Response.StatusCode = reply.Status;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
