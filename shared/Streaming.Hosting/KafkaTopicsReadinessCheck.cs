using Confluent.Kafka;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Streaming.Hosting;

/// <summary>Ready when the client's connection can fetch metadata and the topics the service needs exist.</summary>
public sealed class KafkaTopicsReadinessCheck(Handle clientHandle, IReadOnlyCollection<string> topics) : IHealthCheck, IDisposable
{
    private readonly IAdminClient _admin = new DependentAdminClientBuilder(clientHandle).Build();

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var metadata = _admin.GetMetadata(TimeSpan.FromSeconds(2));
            var present = metadata.Topics.Where(t => t.Error.Code == ErrorCode.NoError).Select(t => t.Topic).ToHashSet();
            var missing = topics.Where(t => !present.Contains(t)).ToArray();
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
