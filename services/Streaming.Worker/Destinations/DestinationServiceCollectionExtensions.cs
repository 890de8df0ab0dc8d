using Streaming.Kafka;
using Streaming.Worker.Consuming;

namespace Streaming.Worker.Destinations;

public static class DestinationServiceCollectionExtensions
{
    /// <summary>
    /// The destinations table and per-destination isolation. Without DESTINATIONS_FILE only the
    /// <c>default</c> destination's metrics are added and the one endpoint behaves as before.
    /// </summary>
    public static IServiceCollection AddDestinations(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<DestinationsOptions>(configuration, o => o.Validate());
        services.AddSingleton<DestinationTelemetry>();
        services.AddSingleton<DestinationRuntimes>();
        services.AddSingleton<DestinationTableSource>();
        services.AddSingleton<DestinationDispatcher>();

        // No resilience handler here: each destination has its own pipeline (DestinationRuntime), so one
        // destination's failures never open a circuit that others share.
        services.AddHttpClient(DestinationRuntime.HttpClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) });

        if (!string.IsNullOrWhiteSpace(configuration["DESTINATIONS_FILE"]))
        {
            services.AddSingleton<ILaneHold, DestinationLaneHold>();
            services.AddHostedService(sp => sp.GetRequiredService<DestinationTableSource>());
        }

        return services;
    }
}
