using Confluent.Kafka;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Streaming.Contracts;
using Streaming.Kafka;

namespace Streaming.Ingress.Health;

/// <summary>Ready when the producer's connection can fetch metadata and every lane's main topic exists.</summary>
public sealed class KafkaReadinessCheck(IProducer<string, byte[]> producer, Topology topology) : IHealthCheck, IDisposable
{
    private readonly IAdminClient _admin = new DependentAdminClientBuilder(producer.Handle).Build();

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var metadata = _admin.GetMetadata(TimeSpan.FromSeconds(2));
            var present = metadata.Topics.Where(t => t.Error.Code == ErrorCode.NoError).Select(t => t.Topic).ToHashSet();
            var missing = LaneNames.All.Select(l => topology[l].Main.Name).Where(t => !present.Contains(t)).ToArray();
            return Task.FromResult(missing.Length == 0
                ? HealthCheckResult.Healthy($"{metadata.Brokers.Count} brokers")
                : HealthCheckResult.Unhealthy($"missing topics: {string.Join(", ", missing)}"));
        }
        catch (KafkaException e)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"Kafka unreachable: {e.Error.Reason}"));
        }
    }

    public void Dispose() => _admin.Dispose();
}
