using Streaming.Contracts;

namespace Streaming.Worker.Ordering;

/// <summary>ORDERING: whether a key's later events wait behind its event in a retry tier.</summary>
public sealed class OrderingOptions
{
    public const string Key = "key";
    public const string None = "none";

    /// <summary><c>key</c> or <c>none</c>; unset: <c>key</c> on the messages lane, <c>none</c> on statuses.</summary>
    [ConfigurationKeyName("ORDERING")]
    public string? Mode { get; set; }

    /// <summary>How many events of one key may wait behind its retrying head; more go to the DLQ as order-blocked.</summary>
    [ConfigurationKeyName("ORDERING_MAX_BLOCKED")]
    public int MaxBlocked { get; set; } = 1000;

    [ConfigurationKeyName("WORKER_LANE")]
    public string LaneName { get; set; } = "";

    public bool ByKey => (Mode?.Trim().ToLowerInvariant() ?? (LaneNames.TryParse(LaneName, out var lane) && lane == Lane.Messages ? Key : None)) == Key;

    public IEnumerable<string> Validate()
    {
        if (Mode is not null && Mode.Trim().ToLowerInvariant() is not (Key or None))
        {
            yield return $"ORDERING must be '{Key}' or '{None}' (got '{Mode}')";
        }

        if (MaxBlocked is < 1 or > 1_000_000)
        {
            yield return "ORDERING_MAX_BLOCKED must be between 1 and 1000000";
        }
    }
}
