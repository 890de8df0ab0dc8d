using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Streaming.Hosting;
using Streaming.Ingress.Endpoints;
using Streaming.Contracts;
using Streaming.Ingress.Publishing;
using Streaming.Ingress.Telemetry;
using Streaming.Kafka;

namespace Streaming.Ingress;

public static class IngressServiceCollectionExtensions
{
    public static IServiceCollection AddIngress(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddKafkaTopology(configuration);
        services.AddOptions<IngressOptions>().Bind(configuration).ValidateOnStart();
        services.AddSingleton<IValidateOptions<IngressOptions>, IngressOptionsValidator>();
        services.TryAddTimeProvider();
        services.AddSingleton<AppSecretKey>();
        services.AddSingleton<ProducerPressure>();
        services.AddSingleton<IngressTelemetry>();
        services.AddSingleton(IngressProducer.Create);
        services.AddSingleton<EventPublisher>();
        services.AddHostedService<ProducerFlushOnShutdown>();
        services.AddSingleton(sp => new KafkaTopicsReadinessCheck(
            sp.GetRequiredService<IProducer<string, byte[]>>().Handle,
            LaneNames.All.Select(l => sp.GetRequiredService<Topology>()[l].Main.Name).ToArray()));
        services.AddHealthChecks().AddCheck<KafkaTopicsReadinessCheck>("kafka", tags: [OperationalEndpoints.ReadinessTag]);
        return services;
    }

    private static void TryAddTimeProvider(this IServiceCollection services)
    {
        if (services.All(d => d.ServiceType != typeof(TimeProvider)))
        {
            services.AddSingleton(TimeProvider.System);
        }
    }

    private sealed class IngressOptionsValidator : IValidateOptions<IngressOptions>
    {
        public ValidateOptionsResult Validate(string? name, IngressOptions options)
        {
            var failures = options.Validate().ToArray();
            return failures.Length == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }

    /// <summary>On shutdown, gives records already accepted a bounded chance to reach the cluster.</summary>
    private sealed class ProducerFlushOnShutdown(IProducer<string, byte[]> producer) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken)
        {
            producer.Flush(TimeSpan.FromSeconds(5));
            return Task.CompletedTask;
        }
    }
}
