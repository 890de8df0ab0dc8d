using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Streaming.Ingress.Endpoints;
using Streaming.Testing;

namespace Streaming.Ingress.Tests;

/// <summary>Meta's verification handshake logs under its own category, not under the options or the event path.</summary>
[Collection(SharedKafkaContainer.Collection)]
public sealed class VerificationLogTests
{
    [Fact]
    public async Task The_verify_handshake_logs_under_its_own_category()
    {
        await using var broker = await KafkaBroker.StartAsync();
        var lines = new ConcurrentQueue<(string Category, string Message)>();
        var settings = broker.Settings(
            ("WHATSAPP_APP_SECRET", IngressHost.AppSecret), ("WHATSAPP_VERIFY_TOKEN", IngressHost.VerifyToken), ("INGRESS_HOST", "127.0.0.1"), ("INGRESS_PORT", "0"));
        await using var app = IngressApp.Build([], b =>
        {
            b.Configuration.AddInMemoryCollection(settings);
            b.Services.AddSingleton<ILoggerProvider>(new CaptureProvider(lines));
        });
        await app.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        Assert.Equal("42", await client.GetStringAsync($"/webhook?hub.mode=subscribe&hub.verify_token={IngressHost.VerifyToken}&hub.challenge=42"));
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/webhook?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1")).StatusCode);
        await app.StopAsync();

        Assert.Equal("Streaming.Ingress.Endpoints.WebhookVerification", WebhookVerification.Category);
        var handshake = lines.Where(l => l.Message.StartsWith("Verification handshake", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, handshake.Length);
        Assert.All(handshake, l => Assert.Equal(WebhookVerification.Category, l.Category));
        Assert.DoesNotContain(lines, l => l.Message.Contains(IngressHost.VerifyToken, StringComparison.Ordinal));
    }

    private sealed class CaptureProvider(ConcurrentQueue<(string, string)> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Capture(categoryName, lines);

        public void Dispose()
        {
        }
    }

    private sealed class Capture(string category, ConcurrentQueue<(string, string)> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue((category, formatter(state, exception)));
    }
}
