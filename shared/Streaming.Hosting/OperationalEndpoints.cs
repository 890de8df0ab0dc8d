using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Routing;
using Prometheus;

namespace Streaming.Hosting;

public static class OperationalEndpoints
{
    /// <summary>Health checks tagged with this take part in /readyz; /healthz runs none (no Kafka call).</summary>
    public const string ReadinessTag = "ready";

    public static IEndpointRouteBuilder MapOperationalEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadinessTag) });
        app.MapMetrics("/metrics");
        return app;
    }
}
