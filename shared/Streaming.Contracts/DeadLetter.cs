namespace Streaming.Contracts;

/// <summary>Why a record was dead-lettered: part of the operator contract.</summary>
public static class DeadLetterReasons
{
    public const string Terminal4xx = "terminal-4xx";
    public const string RetriesExhausted = "retries-exhausted";
    public const string Poison = "poison";

    /// <summary>Processing the record threw (a bug, not an outcome) on every one of a few attempts.</summary>
    public const string ProcessingError = "processing-error";

    /// <summary>ORDERING=key: the key already had ORDERING_MAX_BLOCKED events waiting behind a retrying head.</summary>
    public const string OrderBlocked = "order-blocked";

    /// <summary>No destination matches the event's phone number id or WABA id, and the lane has no default.</summary>
    public const string Unroutable = "unroutable";

    /// <summary>Its destination had too many events waiting for a slot on every tier of the journey.</summary>
    public const string DestinationSaturated = "destination-saturated";
}

/// <summary>
/// The value of a DLQ record. The original record's key is the DLQ record's key and its headers are
/// copied onto it; the original value is kept byte for byte (base64, since a poison value need not be JSON).
/// </summary>
public sealed record DeadLetter
{
    public int SchemaVersion { get; init; } = 1;
    public required string Reason { get; init; }
    public required string Lane { get; init; }
    public string? EventId { get; init; }
    public required string SourceTopic { get; init; }
    public required int SourcePartition { get; init; }
    public required long SourceOffset { get; init; }
    public required string OriginTopic { get; init; }
    public required int Attempts { get; init; }
    public DateTimeOffset? FirstFailedAt { get; init; }
    public required DateTimeOffset LastFailedAt { get; init; }
    public int? LastStatusCode { get; init; }
    public string? Error { get; init; }
    public string? Key { get; init; }

    /// <summary>The destination the event was routed to (null when unroutable or before destinations existed).</summary>
    public string? Destination { get; init; }
    public required byte[] OriginalValue { get; init; }
    public required Dictionary<string, string> OriginalHeaders { get; init; }
}
