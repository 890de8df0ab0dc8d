using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Streaming.Kafka;

public static class KafkaServiceCollectionExtensions
{
    /// <summary>Binds <see cref="KafkaOptions"/> and <see cref="TopologyOptions"/> from the environment and validates them at start-up.</summary>
    public static IServiceCollection AddKafkaTopology(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<KafkaOptions>()
            .Bind(configuration)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<KafkaOptions>, KafkaOptionsValidator>();

        services.AddOptions<TopologyOptions>().Bind(configuration).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TopologyOptions>, TopologyOptionsValidator>();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<TopologyOptions>>().Value.Build());
        return services;
    }

    private sealed class KafkaOptionsValidator : IValidateOptions<KafkaOptions>
    {
        public ValidateOptionsResult Validate(string? name, KafkaOptions options)
        {
            var failures = options.Validate().ToArray();
            return failures.Length == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }

    private sealed class TopologyOptionsValidator : IValidateOptions<TopologyOptions>
    {
        public ValidateOptionsResult Validate(string? name, TopologyOptions options)
        {
            try
            {
                options.Build();
                return ValidateOptionsResult.Success;
            }
            catch (ArgumentException e)
            {
                return ValidateOptionsResult.Fail(e.Message);
            }
        }
    }
}
