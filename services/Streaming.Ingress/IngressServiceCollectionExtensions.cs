using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
        services.AddValidatedOptions<IngressOptions>(configuration, o => o.Validate());
        services.TryAddSingleton(TimeProvider.System);
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
