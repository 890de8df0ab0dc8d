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
    public required byte[] OriginalValue { get; init; }
    public required Dictionary<string, string> OriginalHeaders { get; init; }
}
