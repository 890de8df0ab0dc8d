namespace Streaming.Contracts;

/// <summary>A priority lane: each has its own topics, consumer group and workers.</summary>
public enum Lane
{
    /// <summary>High priority: customer messages.</summary>
    Messages,

    /// <summary>Low priority: delivery statuses and every other change Meta sends.</summary>
    Statuses,
}

public static class LaneNames
{
    public const string Messages = "messages";
    public const string Statuses = "statuses";

    public static IReadOnlyList<Lane> All { get; } = [Lane.Messages, Lane.Statuses];

    public static string ToName(this Lane lane) => lane switch
    {
        Lane.Messages => Messages,
        Lane.Statuses => Statuses,
        _ => throw new ArgumentOutOfRangeException(nameof(lane), lane, "unknown lane"),
    };

    public static bool TryParse(string? value, out Lane lane)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case Messages: lane = Lane.Messages; return true;
            case Statuses: lane = Lane.Statuses; return true;
            default: lane = default; return false;
        }
    }
}
