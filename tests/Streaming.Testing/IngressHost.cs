using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Streaming.Ingress;
using Streaming.Ingress.Security;

namespace Streaming.Testing;

/// <summary>The real ingress (Kestrel on a loopback port) against a test broker.</summary>
public sealed class IngressHost : IAsyncDisposable
{
    public const string AppSecret = "test-app-secret";
    public const string VerifyToken = "test-verify-token";

    private readonly WebApplication _app;

    private IngressHost(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri Address { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<IngressHost> StartAsync(KafkaBroker broker, params (string Key, string? Value)[] settings)
    {
        var config = broker.Settings(
            [("WHATSAPP_APP_SECRET", AppSecret), ("WHATSAPP_VERIFY_TOKEN", VerifyToken), ("INGRESS_HOST", "127.0.0.1"), ("INGRESS_PORT", "0"),
                .. SchemaRegistryStub.Unset, .. settings]);
        var app = IngressApp.Build([], b => b.Configuration.AddInMemoryCollection(config));
        await app.StartAsync();
        return new IngressHost(app, new Uri(app.Urls.First()));
    }

    public Task<HttpResponseMessage> PostSignedAsync(byte[] body, string? signature = null, string contentType = "application/json")
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhook") { Content = content };
        request.Headers.TryAddWithoutValidation(WebhookSignature.HeaderName, signature ?? WebhookSignature.Compute(body, AppSecret));
        return Client.SendAsync(request);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
