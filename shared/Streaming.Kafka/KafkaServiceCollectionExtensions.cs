using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Streaming.Kafka.Clients;

namespace Streaming.Kafka;

public static class KafkaServiceCollectionExtensions
{
    /// <summary>
    /// Binds <see cref="KafkaOptions"/> and <see cref="TopologyOptions"/> from the environment and validates them at start-up;
    /// registers the <see cref="KafkaClientFactory"/> every client is built with.
    /// </summary>
    public static IServiceCollection AddKafkaTopology(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<KafkaOptions>(configuration, o => o.Validate());
        services.AddValidatedOptions<TopologyOptions>(configuration, ValidateTopology);
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<TopologyOptions>>().Value.Build());
        services.AddSingleton<KafkaClientFactory>();
        return services;
    }

    private static IEnumerable<string> ValidateTopology(TopologyOptions options)
    {
        try
        {
            options.Build();
            return [];
        }
        catch (ArgumentException e)
        {
            return [e.Message];
        }
    }
}
