using Microsoft.Extensions.Configuration;
using Streaming.Destinations;

namespace Streaming.Worker.Destinations;

/// <summary>The destinations table and the per-destination isolation limits; every name is in docs/configuration.md.</summary>
public sealed class DestinationsOptions
{
    /// <summary>The YAML routing table (docs/design.md, "Destinations"). Unset: one endpoint, DELIVERY_URL, as before.</summary>
    [ConfigurationKeyName("DESTINATIONS_FILE")]
    public string? File { get; set; }

    /// <summary>A destination's concurrency ceiling when its entry gives no maxConcurrency.</summary>
    [ConfigurationKeyName("WORKER_DESTINATION_MAX_IN_FLIGHT")]
    public int MaxInFlight { get; set; } = 16;

    /// <summary>
    /// Events of one destination allowed to wait in memory for a slot; past it they go to a retry tier.
    /// Unset: WORKER_MAX_BUFFERED, so a destination that keeps up never saturates in a burst; the
    /// expected wait (below) is what stops a slow one from filling the lane's buffer. Waiting holds no slot.
    /// </summary>
    [ConfigurationKeyName("WORKER_DESTINATION_MAX_WAITING")]
    public int? MaxWaiting { get; set; }

    /// <summary>
    /// How long one event may wait for its destination's slot. An event whose expected wait (events
    /// ahead of it × the destination's recent latency / its limit) is longer does not wait at all.
    /// </summary>
    [ConfigurationKeyName("WORKER_DESTINATION_MAX_WAIT_MS")]
    public int MaxWaitMs { get; set; } = 2000;

    /// <summary>
    /// A 2xx slower than this does not grow a destination's concurrency limit: a destination that takes
    /// seconds to answer is never granted more of the lane's budget for answering 200.
    /// </summary>
    [ConfigurationKeyName("WORKER_DESTINATION_LATENCY_TARGET_MS")]
    public int LatencyTargetMs { get; set; } = 1000;

    /// <summary>How often the file (and its secret files) are read for changes.</summary>
    [ConfigurationKeyName("DESTINATIONS_RELOAD_SECONDS")]
    public double ReloadSeconds { get; set; } = 2;

    public bool Enabled => !string.IsNullOrWhiteSpace(File);

    public IEnumerable<string> Validate()
    {
        if (MaxInFlight is < 1 or > DestinationFile.MaxConcurrencyLimit)
        {
            yield return $"WORKER_DESTINATION_MAX_IN_FLIGHT must be between 1 and {DestinationFile.MaxConcurrencyLimit}";
        }

        if (MaxWaiting is { } waiting && waiting is < 0 or > 100_000)
        {
            yield return "WORKER_DESTINATION_MAX_WAITING must be between 0 and 100000";
        }

        if (MaxWaitMs is < 0 or > 60_000)
        {
            yield return "WORKER_DESTINATION_MAX_WAIT_MS must be between 0 and 60000";
        }

        if (LatencyTargetMs is < 1 or > 600_000)
        {
            yield return "WORKER_DESTINATION_LATENCY_TARGET_MS must be between 1 and 600000";
        }

        if (ReloadSeconds is < 0.05 or > 10)
        {
            yield return "DESTINATIONS_RELOAD_SECONDS must be between 0.05 and 10 (a change is in force within 10 s)";
        }

        if (Enabled && DestinationFile.Load(File!) is { IsValid: false } result)
        {
            // One line naming the problem; never a secret (the parser's messages carry none).
            yield return $"DESTINATIONS_FILE {File}: {result.Summary}";
        }
    }
}
