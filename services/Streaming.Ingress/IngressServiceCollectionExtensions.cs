using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Streaming.Hosting;
using Streaming.Ingress.Endpoints;
using Streaming.Contracts;
using Streaming.Ingress.Publishing;
using Streaming.Ingress.Serialization;
using Streaming.Ingress.Telemetry;
using Streaming.Kafka;
using Streaming.SchemaRegistry;

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
        services.AddEnvelopeValues(configuration);
        services.AddSingleton<EventPublisher>();
        services.AddHostedService<ProducerFlushOnShutdown>();
        services.AddSingleton(sp => new KafkaTopicsReadinessCheck(
            sp.GetRequiredService<IProducer<string, byte[]>>().Handle,
            LaneNames.All.Select(l => sp.GetRequiredService<Topology>()[l].Main.Name).ToArray()));
        services.AddHealthChecks().AddCheck<KafkaTopicsReadinessCheck>("kafka", tags: [OperationalEndpoints.ReadinessTag]);
        return services;
    }

    /// <summary>Plain JSON values, or framed ones through the Schema Registry (not ready until the lanes' subjects are registered).</summary>
    private static void AddEnvelopeValues(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSchemaRegistry(configuration);
        services.AddRecordValueWriter(RegistrySchemas.EventEnvelope, ContractsJsonContext.Default.EventEnvelope,
            sp => LaneNames.All.Select(l => sp.GetRequiredService<Topology>()[l].Main.Name), OperationalEndpoints.ReadinessTag);
        services.AddSingleton<EnvelopeValues>();
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
