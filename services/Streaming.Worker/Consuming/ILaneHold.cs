namespace Streaming.Worker.Consuming;

/// <summary>
/// Whether the whole lane must stop fetching for now, so that events wait in Kafka rather than in memory
/// or the retry tiers: with one endpoint, while its circuit is open; with destinations, only while every
/// destination that has traffic is open.
/// </summary>
public interface ILaneHold
{
    bool HoldAll { get; }
}
