using Prometheus;
using Streaming.Hosting;
using Streaming.Ingress.Endpoints;
using Streaming.Ingress.Telemetry;

namespace Streaming.Ingress;

public static class IngressApp
{
    /// <param name="configure">Lets tests add configuration or replace services before the app is built.</param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        configure?.Invoke(builder);

        var host = builder.Configuration["INGRESS_HOST"] ?? "0.0.0.0";
        var port = builder.Configuration["INGRESS_PORT"] ?? "8080";
        builder.WebHost.UseUrls($"http://{host}:{port}");
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);

        builder.Services.AddIngress(builder.Configuration);
        builder.AddStreamingTelemetry("whatsapp-ingress", IngressTelemetry.Name);

        var app = builder.Build();
        _ = app.Services.GetRequiredService<IngressTelemetry>();
        app.UseHttpMetrics();
        app.MapWebhook();
        app.MapOperationalEndpoints();
        return app;
    }
}
