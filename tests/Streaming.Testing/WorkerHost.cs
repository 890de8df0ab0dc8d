using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Streaming.Contracts;
using Streaming.Worker;

namespace Streaming.Testing;

/// <summary>A lane worker in this process, against a test broker and the downstream stub.</summary>
public sealed class WorkerHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private bool _stopped;

    private WorkerHost(WebApplication app, Uri address)
    {
        _app = app;
        Client = new HttpClient { BaseAddress = address };
    }

    public HttpClient Client { get; }

    /// <summary>The worker's services, for a test that looks at its state (e.g. which partitions it holds).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Test defaults: short tiers, no jitter, a quick session timeout.</summary>
    public static Dictionary<string, string?> Settings(KafkaBroker broker, Lane lane, Uri deliveryUrl, params (string Key, string? Value)[] settings)
    {
        var config = broker.Settings(
            [
                ("WORKER_LANE", lane.ToName()), ("DELIVERY_URL", deliveryUrl.ToString()), ("DELIVERY_SIGNING_SECRET", DownstreamStub.SigningSecret),
                ("WORKER_HOST", "127.0.0.1"), ("WORKER_PORT", "0"), ("RETRY_DELAYS", "1s,2s"), ("RETRY_JITTER", "0"),
                ("WORKER_SESSION_TIMEOUT_MS", "6000"), ("DELIVERY_TIMEOUT_MS", "2000"),
                .. SchemaRegistryStub.Unset, .. settings,
            ]);
        return config;
    }

    public static async Task<WorkerHost> StartAsync(KafkaBroker broker, Lane lane, Uri deliveryUrl, params (string Key, string? Value)[] settings)
    {
        var config = Settings(broker, lane, deliveryUrl, settings);
        var app = WorkerApp.Build([], b => b.Configuration.AddInMemoryCollection(config));
        await app.StartAsync();
        return new WorkerHost(app, new Uri(app.Urls.First()));
    }

    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await _app.StopAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await StopAsync();
        await _app.DisposeAsync();
    }
}
