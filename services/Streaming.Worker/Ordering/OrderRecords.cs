using System.Text.Json.Serialization;

namespace Streaming.Worker.Ordering;

/// <summary>
/// A blocked key: its chain (named by the head's event id) and how many of its events were handed into the
/// chain (head = 1). Written only by the owner of the key's main-topic partition, so it has one writer.
/// </summary>
public sealed record ChainBlock(string Chain, int Seq, int MainPartition, string Tier, DateTimeOffset NotBefore);

/// <summary>
/// How far a chain got, written by whichever replica holds the chain's current retry partition: every event
/// up to <see cref="Done"/> is settled, the next one waits in <see cref="Tier"/> until <see cref="NotBefore"/>.
/// Versions only grow along the chain (each move carries its version in a header), so a late copy never
/// overwrites a newer one.
/// </summary>
public sealed record ChainProgress(string Chain, long Version, int Done, string Tier, DateTimeOffset NotBefore, string? AfterDeadLetter);

/// <summary>The highest status rank of a message id delivered or waiting in a retry tier.</summary>
public sealed record StatusMark(int Rank, DateTimeOffset At);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ChainBlock))]
[JsonSerializable(typeof(ChainProgress))]
[JsonSerializable(typeof(StatusMark))]
internal sealed partial class OrderingJsonContext : JsonSerializerContext;
