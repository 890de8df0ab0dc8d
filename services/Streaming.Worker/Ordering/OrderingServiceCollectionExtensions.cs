using Microsoft.Extensions.DependencyInjection.Extensions;
using Streaming.Hosting;
using Streaming.Kafka;
using Streaming.Worker.Consuming;

namespace Streaming.Worker.Ordering;

public static class OrderingServiceCollectionExtensions
{
    /// <summary>ORDERING and status truth: the lane's record handler and the state it tails. Register before the consumer.</summary>
    public static IServiceCollection AddOrdering(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<OrderingOptions>(configuration, o => o.Validate());
        services.AddSingleton<OrderStateStore>();
        services.AddHostedService(sp =>
        {
            var store = sp.GetRequiredService<OrderStateStore>();
            var keys = sp.GetRequiredService<KeyOrder>();
            var logger = sp.GetRequiredService<ILogger<KeyOrder>>();
            store.ChainSettled = async key =>
            {
                try
                {
                    await keys.ReleaseIfSettledAsync(key, CancellationToken.None);
                }
                catch (Exception e)
                {
                    logger.ReleaseFailed(e);
                }
            };
            return store;
        });
        services.AddSingleton<OrderingMetrics>();
        services.AddSingleton<KeyOrder>();
        services.AddSingleton<StatusTruth>();
        services.AddSingleton<IPartitionListener>(sp => sp.GetRequiredService<OrderStateStore>());
        return services;
    }
}
