using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Streaming.Hosting;

public static class TelemetryExtensions
{
    /// <summary>
    /// Traces through OpenTelemetry (OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT is set); metrics are
    /// System.Diagnostics.Metrics instruments, which prometheus-net's meter adapter exports on /metrics.
    /// </summary>
    public static WebApplicationBuilder AddStreamingTelemetry(this WebApplicationBuilder builder, string serviceName, params string[] activitySources)
    {
        PrometheusExport.EnsureStarted();

        // Per-request framework logs would drown the pipeline's own; operators can lower these again.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.Warning);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName))
            .WithTracing(tracing =>
            {
                tracing.AddSource(activitySources)
                    .AddAspNetCoreInstrumentation(o => o.Filter = ctx => !IsOperationalPath(ctx.Request.Path))
                    .AddHttpClientInstrumentation();
                if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
                {
                    tracing.AddOtlpExporter();
                }
            });
        return builder;
    }

    internal static bool IsOperationalPath(string? path) => path is "/healthz" or "/readyz" or "/metrics";
}
