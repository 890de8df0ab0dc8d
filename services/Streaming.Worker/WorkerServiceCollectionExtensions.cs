using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Streaming.Contracts;
using Streaming.Hosting;
using Streaming.Kafka;
using Streaming.Kafka.Clients;
using Streaming.SchemaRegistry;
using Streaming.Worker.Consuming;
using Streaming.Worker.Delivery;
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

        // DELIVERY_SIGNING_SECRET may be unset only with DESTINATIONS_FILE and no default destination: then
        // nothing signs with this one, and a throwaway key stands in.
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<WorkerOptions>>().Value.SigningSecret is var secret && StandardWebhooks.TryParseSecret(secret, out _, out _)
            ? new StandardWebhooks(secret)
            : new StandardWebhooks("whsec_" + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))));
        services.AddSingleton<CircuitBreakerStateProvider>();
        services.TryAddSingleton<ILaneHold, LaneCircuitHold>();
        services.AddSingleton<WorkerTelemetry>();
        services.AddDelivery();
        services.AddSingleton(CreateProducer);
        services.AddSchemaRegistry(configuration);
        services.AddRecordValueWriter(RegistrySchemas.DeadLetter, ContractsJsonContext.Default.DeadLetter,
            sp => [sp.GetRequiredService<Topology>()[sp.GetRequiredService<IOptions<WorkerOptions>>().Value.Lane].DeadLetter.Name],
            OperationalEndpoints.ReadinessTag);
        services.AddSingleton<StoredProducer>();
        services.AddSingleton<FailureRouter>();
        services.AddSingleton<EventProcessor>();
        services.AddOrdering(configuration);
        services.AddDestinations(configuration);
        services.AddLaneConsumers();
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

    /// <summary>
    /// The endpoint's HttpClient: a per-attempt timeout and a circuit breaker (Polly through
    /// Microsoft.Extensions.Http.Resilience). No HTTP-level retries: retries are Kafka retry tiers
    /// (the one exception: a request a closed keep-alive connection never carried, see
    /// <see cref="NonPersistentConnectionHandler"/>).
    /// </summary>
    private static void AddDelivery(this IServiceCollection services)
    {
        services.AddSingleton<DeliveryClient>();
        services.AddHttpClient(DeliveryClient.HttpClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(DeliveryConnections.Pooled)
            .AddResilienceHandler("delivery", (pipeline, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<IOptions<WorkerOptions>>().Value;
                pipeline.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
                {
                    FailureRatio = options.CircuitFailureRatio,
                    MinimumThroughput = options.CircuitMinThroughput,
                    SamplingDuration = TimeSpan.FromSeconds(options.CircuitSamplingSeconds),
                    BreakDuration = TimeSpan.FromSeconds(options.CircuitBreakSeconds),
                    StateProvider = context.ServiceProvider.GetRequiredService<CircuitBreakerStateProvider>(),
                });
                pipeline.AddTimeout(TimeSpan.FromMilliseconds(options.DeliveryTimeoutMs));
            });
        services.AddNonPersistentConnections(DeliveryClient.HttpClientName);
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
