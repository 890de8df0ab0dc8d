using Confluent.SchemaRegistry;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Streaming.SchemaRegistry;

/// <summary>
/// Registers (or finds, when already registered) a service's schemas at start-up, in the background,
/// retrying until the registry answers. Until every subject has its id the service is not ready
/// (/readyz); afterwards the ids sit in the client's cache and an outage no longer matters to writers.
/// </summary>
public sealed class SchemaRegistration(
    SchemaRegistryConnection registry, IReadOnlyList<(string Topic, Schema Schema)> subjects, ILogger<SchemaRegistration> logger, TimeProvider time)
    : BackgroundService, IHealthCheck
{
    public const string HealthCheckName = "schema-registry";

    private readonly HashSet<string> _pending = subjects.Select(s => s.Topic).ToHashSet();
    private readonly Lock _gate = new();
    private string? _lastError;

    public bool Done
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count == 0;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (registry.Client is not { } client)
        {
            lock (_gate)
            {
                _pending.Clear();
            }

            return;
        }

        var backoff = TimeSpan.FromMilliseconds(500);
        while (!Done && !stoppingToken.IsCancellationRequested)
        {
            foreach (var (topic, schema) in subjects)
            {
                lock (_gate)
                {
                    if (!_pending.Contains(topic))
                    {
                        continue;
                    }
                }

                var subject = RegistrySchemas.ValueSubject(topic);
                try
                {
                    // The very call Confluent's serializer makes (auto.register.schemas), so its own first
                    // call is answered from the client's cache.
                    var registered = await client.RegisterSchemaWithResponseAsync(subject, schema, normalize: false).WaitAsync(stoppingToken);
                    logger.Registered(subject, registered.Id);
                    lock (_gate)
                    {
                        _pending.Remove(topic);
                    }
                }
                catch (Exception e) when (SchemaRegistryConnection.IsRegistryError(e) && !stoppingToken.IsCancellationRequested)
                {
                    lock (_gate)
                    {
                        _lastError = $"{subject}: {e.Message}";
                    }

                    logger.RegistrationFailed(subject, (long)backoff.TotalMilliseconds, e.Message);
                }
            }

            if (!Done)
            {
                await Task.Delay(backoff, time, stoppingToken);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_pending.Count == 0
                ? HealthCheckResult.Healthy("schemas registered")
                : HealthCheckResult.Unhealthy($"schemas not registered yet ({string.Join(", ", _pending.Select(RegistrySchemas.ValueSubject))}): {_lastError ?? "trying"}"));
        }
    }
}
