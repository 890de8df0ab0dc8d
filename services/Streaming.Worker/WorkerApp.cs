using Confluent.Kafka;
using Streaming.Hosting;
using Streaming.Worker.Destinations;
using Streaming.Worker.Telemetry;

namespace Streaming.Worker;

public static class WorkerApp
{
    /// <param name="configure">Lets tests add configuration or replace services before the app is built.</param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        configure?.Invoke(builder);

        var host = builder.Configuration["WORKER_HOST"] ?? "0.0.0.0";
        var port = builder.Configuration["WORKER_PORT"] ?? "8081";
        builder.WebHost.UseUrls($"http://{host}:{port}");
        builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        builder.Logging.AddFilter("Polly", LogLevel.Warning);
        // The host waits for the consumer to drain and commit before it gives up on it.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));

        builder.Services.AddWorker(builder.Configuration);
        builder.AddStreamingTelemetry($"whatsapp-worker-{builder.Configuration["WORKER_LANE"]}", WorkerTelemetry.Name);

        var app = builder.Build();
        _ = app.Services.GetRequiredService<WorkerTelemetry>();
        // Validates DESTINATIONS_FILE before anything talks to Kafka: a bad file is the one line printed.
        _ = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<DestinationsOptions>>().Value;
        _ = app.Services.GetRequiredService<IProducer<string?, byte[]>>();
        app.MapOperationalEndpoints();
        return app;
    }
}
