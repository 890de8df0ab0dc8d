using Streaming.Kafka;
using Streaming.Worker.Consuming;

namespace Streaming.Worker.Destinations;

public static class DestinationServiceCollectionExtensions
{
    /// <summary>
    /// The destinations table and per-destination isolation. Without DESTINATIONS_FILE the table is the
    /// one destination <c>default</c> (DELIVERY_URL), through the same path.
    /// </summary>
    public static IServiceCollection AddDestinations(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<DestinationsOptions>(configuration, o => o.Validate());
        services.AddSingleton<DestinationTelemetry>();
        services.AddSingleton<DestinationRuntimes>();
        services.AddSingleton<DestinationTableSource>();
        services.AddSingleton<DestinationLaneHold>();
        services.AddSingleton<ILaneHold>(sp => sp.GetRequiredService<DestinationLaneHold>());
        services.AddHostedService(sp => sp.GetRequiredService<DestinationTableSource>());

        return services;
    }
}
