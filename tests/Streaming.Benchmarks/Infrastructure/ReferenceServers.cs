using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Streaming.Contracts;
using Streaming.Ingress.Endpoints;
using Streaming.Ingress.Security;
using Streaming.Testing;

namespace Streaming.Benchmarks.Infrastructure;

/// <summary>The HTTP servers the ingress is compared with, on Kestrel at 127.0.0.1, configured like the ingress (slim builder, no logging).</summary>
public sealed class ReferenceServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient? _downstream;

    private ReferenceServer(WebApplication app, HttpClient? downstream)
    {
        _app = app;
        _downstream = downstream;
    }

    public Uri Address => new(_app.Urls.First());

    /// <summary>The HTTP ceiling: POST /webhook answers 200 and does nothing else.</summary>
    public static Task<ReferenceServer> StartBareAsync() => StartAsync(null, app => app.MapPost(WebhookEndpoints.Path, () => Results.Ok()));

    /// <summary>
    /// The anti-pattern: checks the signature, then calls the business's endpoint and answers only once
    /// it answered. Awaited, not blocking a thread: the kindest version of it.
    /// </summary>
    public static Task<ReferenceServer> StartNaiveAsync(Uri downstream)
    {
        var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) }) { Timeout = TimeSpan.FromSeconds(10) };
        var secret = System.Text.Encoding.UTF8.GetBytes(IngressHost.AppSecret);
        long counter = 0;
        return StartAsync(client, app => app.MapPost(WebhookEndpoints.Path, async (HttpContext context) =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            var body = buffer.ToArray();
            if (!WebhookSignature.IsValid(body, context.Request.Headers[WebhookSignature.HeaderName], secret))
            {
                return Results.StatusCode(StatusCodes.Status401Unauthorized);
            }

            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, downstream) { Content = content };
            request.Headers.Add(StandardWebhooks.IdHeader, $"naive-{Interlocked.Increment(ref counter)}");
            using var response = await client.SendAsync(request);
            return response.IsSuccessStatusCode ? Results.Ok() : Results.StatusCode(StatusCodes.Status502BadGateway);
        }));
    }

    private static async Task<ReferenceServer> StartAsync(HttpClient? downstream, Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return new ReferenceServer(app, downstream);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _downstream?.Dispose();
    }
}
