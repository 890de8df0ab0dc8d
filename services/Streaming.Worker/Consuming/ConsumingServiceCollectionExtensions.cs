namespace Streaming.Worker.Consuming;

public static class ConsumingServiceCollectionExtensions
{
    /// <summary>The lane's consumers and what they share in the process.</summary>
    public static IServiceCollection AddLaneConsumers(this IServiceCollection services)
    {
        services.AddSingleton<AssignedPartitions>();
        services.AddSingleton<IPartitionListener>(sp => sp.GetRequiredService<AssignedPartitions>());
        services.AddSingleton<LaneSlots>();
        services.AddHostedService<LaneConsumers>();
        return services;
    }
}
