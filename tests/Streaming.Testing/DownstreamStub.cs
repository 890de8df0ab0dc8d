using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Streaming.Contracts;

namespace Streaming.Testing;

/// <summary>One delivery as the business's endpoint saw it.</summary>
public sealed record Receipt(string Lane, string EventId, string? Key, DateTimeOffset At, bool SignatureValid, int Answered, JsonElement Envelope, string? Replica = null)
{
    /// <summary>The <c>after-dead-letter</c> header (ORDERING=key): an earlier event of the key was dead-lettered.</summary>
    public string? AfterDeadLetter { get; init; }
}

/// <summary>What the stub answers one delivery with; <paramref name="Until"/>: not before it completes (a slow endpoint the test releases).</summary>
public sealed record StubReply(int Status, TimeSpan Delay = default, string? RetryAfter = null, Task? Until = null)
{
    public static readonly StubReply Ok = new(200);
}

/// <summary>
/// The business's endpoint, in-process on a loopback port: verifies the Standard Webhooks signature,
/// records every attempt, and answers what the test scripts (default: 200).
/// </summary>
public sealed class DownstreamStub : IAsyncDisposable
{
    public const string SigningSecret = "whsec_dGVzdC1kZWxpdmVyeS1zaWduaW5nLWtleS0zMmJ5dGVz";

    private readonly WebApplication _app;
    private readonly StandardWebhooks _signer;
    private readonly ConcurrentQueue<Receipt> _receipts = new();
    private readonly ConcurrentDictionary<string, int> _attempts = new();
    private int _inFlight;
    private int _maxInFlight;
    private int _holding;

    private DownstreamStub(WebApplication app, string signingSecret)
    {
        _app = app;
        _signer = new StandardWebhooks(signingSecret);
    }

    /// <summary>Decides the answer for each attempt; may be replaced while the test runs.</summary>
    public Func<Receipt, int, StubReply> Reply { get; set; } = (_, _) => StubReply.Ok;

    public Uri Address => new(_app.Urls.First());

    public Uri LaneUrl(Lane lane) => new(Address, lane.ToName());

    public IReadOnlyList<Receipt> Receipts => _receipts.ToArray();

    public int MaxConcurrency => Volatile.Read(ref _maxInFlight);

    /// <summary>Requests held open right now by a reply's <see cref="StubReply.Until"/>.</summary>
    public int Holding => Volatile.Read(ref _holding);

    /// <summary>Event ids answered 2xx.</summary>
    public IReadOnlyCollection<string> Delivered => _receipts.Where(r => r.Answered is >= 200 and < 300).Select(r => r.EventId).ToHashSet();

    public int Attempts(string eventId) => _attempts.GetValueOrDefault(eventId);

    /// <param name="signingSecret">The secret deliveries must be signed with (a destination's own).</param>
    /// <param name="port">0 for any; a fixed port lets a test stop an endpoint (connection refused) and bring it back.</param>
    public static async Task<DownstreamStub> StartAsync(string signingSecret = SigningSecret, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var stub = new DownstreamStub(app, signingSecret);
        app.MapPost("/{lane}", stub.HandleAsync);
        await app.StartAsync();
        return stub;
    }

    private async Task<IResult> HandleAsync(string lane, HttpRequest request)
    {
        var concurrent = Interlocked.Increment(ref _inFlight);
        InterlockedMax(ref _maxInFlight, concurrent);
        try
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer);
            var body = buffer.ToArray();
            var id = request.Headers[StandardWebhooks.IdHeader].ToString();
            var timestamp = long.TryParse(request.Headers[StandardWebhooks.TimestampHeader], out var t) ? t : 0;
            var valid = _signer.Verify(id, timestamp, body, request.Headers[StandardWebhooks.SignatureHeader]);
            var envelope = JsonDocument.Parse(body).RootElement.Clone();
            var key = envelope.TryGetProperty("payload", out var p) && p.TryGetProperty("from", out var from) ? from.GetString()
                : p.ValueKind == JsonValueKind.Object && p.TryGetProperty("recipient_id", out var r) ? r.GetString() : null;
            var receipt = new Receipt(lane, id, key, DateTimeOffset.UtcNow, valid, 0, envelope, request.Query["replica"].FirstOrDefault())
            {
                AfterDeadLetter = request.Headers.TryGetValue(HeaderNames.AfterDeadLetter, out var dead) ? dead.ToString() : null,
            };
            var attempt = _attempts.AddOrUpdate(id, 1, (_, n) => n + 1);
            var reply = valid ? Reply(receipt, attempt) : new StubReply(401);
            if (reply.Delay > TimeSpan.Zero)
            {
                await Task.Delay(reply.Delay);
            }

            if (reply.Until is { } until)
            {
                Interlocked.Increment(ref _holding);
                try
                {
                    await until;
                }
                finally
                {
                    Interlocked.Decrement(ref _holding);
                }
            }

            _receipts.Enqueue(receipt with { Answered = reply.Status, At = DateTimeOffset.UtcNow });
            if (reply.RetryAfter is not null)
            {
                request.HttpContext.Response.Headers.RetryAfter = reply.RetryAfter;
            }

            return Results.StatusCode(reply.Status);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
