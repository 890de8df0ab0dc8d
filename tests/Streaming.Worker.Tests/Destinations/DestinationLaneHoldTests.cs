using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Contracts;
using Streaming.Destinations;
using Streaming.Worker.Delivery;
using Streaming.Worker.Admission;
using Streaming.Worker.Destinations;
using Streaming.Worker.Processing;

namespace Streaming.Worker.Tests.Destinations;

/// <summary>
/// Per-destination circuits against endpoints that answer as scripted: one open destination is not
/// attempted and holds nothing else; the lane holds only when every destination with traffic is open.
/// </summary>
public sealed class DestinationLaneHoldTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly ScriptedClients _clients = new();

    private sealed class ScriptedClients : IHttpClientFactory
    {
        /// <summary>Hosts whose endpoint refuses connections; the others answer 200.</summary>
        public HashSet<string> Down { get; } = [];

        /// <summary>Hosts that answer 429 with Retry-After: 60.</summary>
        public HashSet<string> Throttled { get; } = [];

        public int Sent;

        public HttpClient CreateClient(string name) => new(new Handler(this), disposeHandler: true);

        private sealed class Handler(ScriptedClients owner) : HttpMessageHandler
        {
            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                Interlocked.Increment(ref owner.Sent);
                lock (owner.Down)
                {
                    if (owner.Down.Contains(request.RequestUri!.Host))
                    {
                        throw new HttpRequestException("Connection refused");
                    }

                    var response = new HttpResponseMessage(owner.Throttled.Contains(request.RequestUri.Host) ? HttpStatusCode.TooManyRequests : HttpStatusCode.OK);
                    if (response.StatusCode == HttpStatusCode.TooManyRequests)
                    {
                        response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(60));
                    }

                    return Task.FromResult(response);
                }
            }
        }
    }

    private static Destination Named(string name) => new()
    {
        Name = name, MessagesUrl = new Uri($"http://{name}.test/messages"), SecretSource = SecretSource.Inline,
        Signer = new StandardWebhooks("whsec_dGVzdC1kZXN0aW5hdGlvbi1zaWduaW5nLWtleS0zMmJ5dGVz"),
    };

    private (DestinationRuntimes Runtimes, DestinationLaneHold Hold) Create()
    {
        var worker = Options.Create(new WorkerOptions
        {
            LaneName = "messages", CircuitMinThroughput = 2, CircuitFailureRatio = 0.5, CircuitSamplingSeconds = 30, CircuitBreakSeconds = 1, DeliveryTimeoutMs = 2000,
        });
        var destinations = Options.Create(new DestinationsOptions { File = "in-memory" });
        var telemetry = new DestinationTelemetry(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), worker);
        var runtimes = new DestinationRuntimes(destinations, worker, _clients, telemetry, TimeProvider.System);
        return (runtimes, new DestinationLaneHold(runtimes, worker, TimeProvider.System, NullLogger<DestinationLaneHold>.Instance));
    }

    /// <summary>One turn as the admit and deliver steps take it: not now, or a slot and an attempt.</summary>
    private static async Task<Verdict> Deliver(DestinationRuntimes runtimes, Destination d)
    {
        var runtime = runtimes.For(d);
        if (runtime.NotNow() is { } refused)
        {
            return refused;
        }

        using var slot = await runtime.EnterAsync(CancellationToken.None);
        Assert.NotNull(slot);
        var (result, _) = await runtime.SendAsync(d.MessagesUrl!, d.Signer!, "wamid." + Guid.NewGuid().ToString("N"), "{}"u8.ToArray(), null, CancellationToken.None);
        return Verdict.From(result);
    }

    [Fact]
    public async Task One_open_destination_is_not_attempted_and_the_lane_holds_only_when_every_destination_with_traffic_is_open()
    {
        var (runtimes, hold) = Create();
        Destination acme = Named("acme"), beta = Named("beta"), idle = Named("idle");
        _ = runtimes.For(idle); // known, but no traffic: it must not keep the lane going
        Assert.False(hold.HoldAll);

        Assert.Equal(VerdictKind.Delivered, (await Deliver(runtimes, beta)).Kind);
        lock (_clients.Down)
        {
            _clients.Down.Add("acme.test");
        }

        for (var i = 0; i < 3 && !runtimes.For(acme).IsOpen; i++)
        {
            Assert.Equal(VerdictKind.Retryable, (await Deliver(runtimes, acme)).Kind);
        }

        Assert.True(runtimes.For(acme).IsOpen);
        var sent = _clients.Sent;
        var notAttempted = await Deliver(runtimes, acme);
        Assert.Equal("circuit open", notAttempted.Error);
        Assert.Equal(sent, _clients.Sent);
        Assert.False(hold.HeldNow);
        Assert.Equal(VerdictKind.Delivered, (await Deliver(runtimes, beta)).Kind);

        lock (_clients.Down)
        {
            _clients.Down.Add("beta.test");
        }

        for (var i = 0; i < 4 && !runtimes.For(beta).IsOpen; i++)
        {
            await Deliver(runtimes, beta);
        }

        Assert.True(runtimes.For(beta).IsOpen);
        Assert.True(hold.HeldNow); // HoldAll reads the same at most DestinationLaneHold.Refresh later

        // After the break the lane lets events in again, so that one can probe.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((hold.HoldAll || runtimes.For(beta).IsOpen) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.False(hold.HoldAll);
        Assert.False(runtimes.For(beta).IsOpen);
        lock (_clients.Down)
        {
            _clients.Down.Clear();
        }

        var probe = await Deliver(runtimes, beta);
        Assert.True(probe.Kind == VerdictKind.Delivered, probe.Error);
        Assert.False(runtimes.For(beta).IsOpen);
    }

    [Fact]
    public async Task A_retry_after_holds_that_destination_alone_and_halves_its_limit()
    {
        var (runtimes, _) = Create();
        Destination acme = Named("acme"), beta = Named("beta");
        lock (_clients.Down)
        {
            _clients.Throttled.Add("acme.test");
        }

        var throttled = await Deliver(runtimes, acme);
        Assert.Equal(429, throttled.StatusCode);
        Assert.Equal(AdaptiveLimit.Initial / 2, runtimes.For(acme).State.Limit);

        var sent = _clients.Sent;
        var held = await Deliver(runtimes, acme);
        Assert.Equal(VerdictKind.Held, held.Kind);
        Assert.Equal("held by the destination's Retry-After", held.Error);
        Assert.InRange(held.RetryAfter!.Value, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60));
        Assert.Equal(sent, _clients.Sent);

        Assert.Equal(VerdictKind.Delivered, (await Deliver(runtimes, beta)).Kind);
        Assert.Equal(AdaptiveLimit.Initial + 1, runtimes.For(beta).State.Limit);
    }

    public void Dispose() => _services.Dispose();
}
