using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Streaming.Contracts;
using Streaming.Hosting;
using Streaming.Kafka;
using Streaming.Kafka.Clients;
using Streaming.SchemaRegistry;
using Streaming.Worker.Consuming;
using Streaming.Worker.Delivery;
using Streaming.Worker.Envelopes;
using Streaming.Worker.Pipeline;
using Streaming.Worker.Settling;
using Streaming.Worker.Tracing;
using Streaming.Worker.Ordering;
using Streaming.Worker.Destinations;
using Streaming.Worker.Processing;
using Streaming.Worker.Telemetry;

namespace Streaming.Worker;

public static class WorkerServiceCollectionExtensions
{
    public static IServiceCollection AddWorker(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddKafkaTopology(configuration);
        services.AddValidatedOptions<WorkerOptions>(configuration, o => o.Validate());
        services.TryAddSingleton(TimeProvider.System);

        services.AddSingleton<WorkerTelemetry>();
        services.AddDeliveryClient();
        services.AddSingleton(CreateProducer);
        services.AddSchemaRegistry(configuration);
        services.AddRecordValueWriter(RegistrySchemas.DeadLetter, ContractsJsonContext.Default.DeadLetter,
            sp => [sp.GetRequiredService<Topology>()[sp.GetRequiredService<IOptions<WorkerOptions>>().Value.Lane].DeadLetter.Name],
            OperationalEndpoints.ReadinessTag);
        services.AddSingleton<StoredProducer>();
        services.AddSingleton<FailureRouter>();
        services.AddSingleton(CreateSettlePolicy);
        services.AddOrdering(configuration);
        services.AddDestinations(configuration);

        // The one delivery path, every step in its order. DELIVERY_URL is the destination `default`.
        services.AddRecordPipeline(steps => steps
            .Use<TraceStep>()
            .Use<EnvelopeStep>()
            .Use<KeyOrderStep>()
            .Use<StatusTruthStep>()
            .Use<SettleStep>()
            .Use<RouteStep>()
            .Use<AdmitStep>()
            .Use<DeliverStep>());
        services.AddLaneConsumers();
        services.AddSingleton<BrokerLag>();
        services.AddHostedService(sp => sp.GetRequiredService<BrokerLag>());
        services.AddSingleton(sp =>
        {
            var lane = sp.GetRequiredService<Topology>()[sp.GetRequiredService<IOptions<WorkerOptions>>().Value.Lane];
            return new KafkaTopicsReadinessCheck(
                sp.GetRequiredService<IProducer<string?, byte[]>>().Handle,
                [lane.Main.Name, .. lane.RetryTiers.Select(t => t.Name), lane.DeadLetter.Name, lane.Order.Name]);
        });
        services.AddHealthChecks().AddCheck<KafkaTopicsReadinessCheck>("kafka", tags: [OperationalEndpoints.ReadinessTag]);
        return services;
    }

    private static SettlePolicy CreateSettlePolicy(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<WorkerOptions>>().Value;
        var lane = services.GetRequiredService<Topology>()[options.Lane];
        return new SettlePolicy([.. lane.RetryTiers.Select(t => t.RetryDelay!.Value)], options.RetryJitter, TimeSpan.FromSeconds(options.RetryAfterMaxSeconds));
    }

    private static IProducer<string?, byte[]> CreateProducer(IServiceProvider services)
    {
        var lane = services.GetRequiredService<IOptions<WorkerOptions>>().Value.LaneName;
        return services.GetRequiredService<KafkaClientFactory>().Producer<string?, byte[]>(new ProducerConfig
        {
            ClientId = $"whatsapp-{lane}-worker",
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 5,
            Partitioner = Partitioner.Murmur2Random,
            // A move that cannot land in this long is tried again by the router.
            MessageTimeoutMs = 30_000,
            CompressionType = CompressionType.Lz4,
        }).Build();
    }
}
