using Microsoft.Extensions.Configuration;
using Streaming.Contracts;

namespace Streaming.Worker;

/// <summary>One lane's worker settings, bound from the environment; every name is in docs/configuration.md.</summary>
public sealed class WorkerOptions
{
    [ConfigurationKeyName("WORKER_LANE")]
    public string LaneName { get; set; } = "";

    /// <summary>The business's endpoint for this lane's events.</summary>
    [ConfigurationKeyName("DELIVERY_URL")]
    public string DeliveryUrl { get; set; } = "";

    /// <summary>With it, DELIVERY_URL is optional: it becomes the destination <c>default</c> (see Destinations/).</summary>
    [ConfigurationKeyName("DESTINATIONS_FILE")]
    public string? DestinationsFile { get; set; }

    /// <summary><c>whsec_</c> + base64 key: signs every delivery (Standard Webhooks). Never logged.</summary>
    [ConfigurationKeyName("DELIVERY_SIGNING_SECRET")]
    public string SigningSecret { get; set; } = "";

    [ConfigurationKeyName("WORKER_HOST")]
    public string Host { get; set; } = "0.0.0.0";

    /// <summary>Serves /healthz, /readyz and /metrics.</summary>
    [ConfigurationKeyName("WORKER_PORT")]
    public int Port { get; set; } = 8081;

    /// <summary>Deliveries under way at once in this process, across its partitions.</summary>
    [ConfigurationKeyName("WORKER_MAX_IN_FLIGHT")]
    public int MaxInFlight { get; set; } = 64;

    [ConfigurationKeyName("DELIVERY_TIMEOUT_MS")]
    public int DeliveryTimeoutMs { get; set; } = 10_000;

    /// <summary>Each tier's delay is spread by ± this fraction so a failed burst does not come back as one.</summary>
    [ConfigurationKeyName("RETRY_JITTER")]
    public double RetryJitter { get; set; } = 0.2;

    [ConfigurationKeyName("CIRCUIT_FAILURE_RATIO")]
    public double CircuitFailureRatio { get; set; } = 0.5;

    [ConfigurationKeyName("CIRCUIT_MIN_THROUGHPUT")]
    public int CircuitMinThroughput { get; set; } = 10;

    [ConfigurationKeyName("CIRCUIT_SAMPLING_SECONDS")]
    public double CircuitSamplingSeconds { get; set; } = 10;

    [ConfigurationKeyName("CIRCUIT_BREAK_SECONDS")]
    public double CircuitBreakSeconds { get; set; } = 15;

    /// <summary>
    /// Records taken from Kafka and not yet settled, in this process: the memory bound. Waiting for a
    /// destination, a rate limit or a key's previous event holds one of these, never a delivery slot.
    /// Unset: four times WORKER_MAX_IN_FLIGHT.
    /// </summary>
    [ConfigurationKeyName("WORKER_MAX_BUFFERED")]
    public int? MaxBufferedSetting { get; set; }

    public int MaxBuffered => MaxBufferedSetting ?? (4 * MaxInFlight);

    /// <summary>A Retry-After longer than this is capped to it (and counted): neither a tier nor a hold waits longer.</summary>
    [ConfigurationKeyName("WORKER_RETRY_AFTER_MAX_SECONDS")]
    public double RetryAfterMaxSeconds { get; set; } = 3600;

    /// <summary>How long shutdown and partition revocation wait for deliveries under way.</summary>
    [ConfigurationKeyName("WORKER_DRAIN_TIMEOUT_MS")]
    public int DrainTimeoutMs { get; set; } = 10_000;

    /// <summary>How soon the group notices a dead worker and hands its partitions to the others.</summary>
    [ConfigurationKeyName("WORKER_SESSION_TIMEOUT_MS")]
    public int SessionTimeoutMs { get; set; } = 15_000;

    /// <summary>
    /// How long a fetch may wait for data. Lower than librdkafka's 500 ms: a retry-tier partition that
    /// falls due is fetched on the same broker connection, behind a fetch held on idle partitions.
    /// </summary>
    [ConfigurationKeyName("WORKER_FETCH_WAIT_MS")]
    public int FetchWaitMs { get; set; } = 100;

    /// <summary>How often something that waits in place (an open circuit, an unresolved schema) looks again: a quarter of the break.</summary>
    public TimeSpan WaitProbe => TimeSpan.FromSeconds(Math.Max(0.1, CircuitBreakSeconds / 4));

    public Lane Lane => LaneNames.TryParse(LaneName, out var lane) ? lane : throw new InvalidOperationException("WORKER_LANE was not validated");

    public IEnumerable<string> Validate()
    {
        if (!LaneNames.TryParse(LaneName, out _))
        {
            yield return $"WORKER_LANE must be '{LaneNames.Messages}' or '{LaneNames.Statuses}' (got '{LaneName}')";
        }

        // With a destinations table the default destination is optional; without, it is the only one.
        var hasDefault = !string.IsNullOrEmpty(DeliveryUrl) || string.IsNullOrWhiteSpace(DestinationsFile);
        if (hasDefault && (!Uri.TryCreate(DeliveryUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https")))
        {
            yield return $"DELIVERY_URL must be an absolute http(s) URL (got '{DeliveryUrl}')";
        }

        if (hasDefault && !StandardWebhooks.TryParseSecret(SigningSecret, out _, out var error))
        {
            yield return $"DELIVERY_SIGNING_SECRET: {error}";
        }

        if (Port is < 0 or > 65535)
        {
            yield return $"WORKER_PORT {Port} is not a TCP port";
        }

        if (MaxInFlight is < 1 or > 10_000)
        {
            yield return "WORKER_MAX_IN_FLIGHT must be between 1 and 10000";
        }

        if (MaxBufferedSetting is { } buffered && (buffered < MaxInFlight || buffered > 100_000))
        {
            yield return "WORKER_MAX_BUFFERED must be between WORKER_MAX_IN_FLIGHT and 100000";
        }

        if (RetryAfterMaxSeconds is < 1 or > 86_400)
        {
            yield return "WORKER_RETRY_AFTER_MAX_SECONDS must be between 1 and 86400";
        }

        if (FetchWaitMs is < 1 or > 5000)
        {
            yield return "WORKER_FETCH_WAIT_MS must be between 1 and 5000";
        }

        if (DeliveryTimeoutMs < 100)
        {
            yield return "DELIVERY_TIMEOUT_MS must be at least 100";
        }

        if (RetryJitter is < 0 or >= 1)
        {
            yield return "RETRY_JITTER must be in [0, 1)";
        }

        if (CircuitFailureRatio is <= 0 or > 1 || CircuitMinThroughput < 2 || CircuitSamplingSeconds < 0.5 || CircuitBreakSeconds < 0.5)
        {
            yield return "CIRCUIT_FAILURE_RATIO must be in (0, 1], CIRCUIT_MIN_THROUGHPUT at least 2, CIRCUIT_SAMPLING_SECONDS and CIRCUIT_BREAK_SECONDS at least 0.5";
        }
    }
}
