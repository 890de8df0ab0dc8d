using Streaming.Kafka;
using Streaming.Worker.Consuming;
using Streaming.Worker.Telemetry;

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
        services.AddSingleton(sp =>
        {
            var runtimes = ActivatorUtilities.CreateInstance<DestinationRuntimes>(sp);
            sp.GetRequiredService<WorkerTelemetry>().ObserveLaneCircuit(() => runtimes.WorstCircuit);
            return runtimes;
        });
        services.AddSingleton<DestinationTableSource>();
        services.AddSingleton<DestinationLaneHold>();
        services.AddSingleton<ILaneHold>(sp => sp.GetRequiredService<DestinationLaneHold>());
        services.AddHostedService(sp => sp.GetRequiredService<DestinationTableSource>());

        return services;
    }
}
