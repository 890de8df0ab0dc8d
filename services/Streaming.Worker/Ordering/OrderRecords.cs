using System.Text.Json.Serialization;

namespace Streaming.Worker.Ordering;

/// <summary>
/// A blocked conversation: its chain (named by the head's event id) and how many of its events were handed
/// into the chain (head = 1). Written only by the owner of the conversation's main-topic partition, under
/// that owner's <see cref="Epoch"/> (see <see cref="OwnerClaim"/>): a write of an earlier owner that lands
/// late is fenced. <see cref="LastOffset"/> is the main-topic offset of the last event handed in, so that
/// reading it again after a crash (before its offset was committed) is recognised and not forwarded twice.
/// <see cref="Destination"/>: where the head was routed, stamped on the chain's order-blocked dead letters.
/// </summary>
public sealed record ChainBlock(
    string Chain, int Seq, int MainPartition, string Tier, DateTimeOffset NotBefore, long Epoch = 0, long LastOffset = -1, string? Destination = null);

/// <summary>
/// An owner of a main partition, claimed by the replica it is assigned to before it decides anything there:
/// epochs only grow, so blocks written under a lower epoch after the claim are a previous owner's late writes.
/// </summary>
public sealed record OwnerClaim(int MainPartition, long Epoch);

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
[JsonSerializable(typeof(OwnerClaim))]
internal sealed partial class OrderingJsonContext : JsonSerializerContext;
