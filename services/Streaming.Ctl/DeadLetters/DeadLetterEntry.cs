using System.Text.Json;
using Confluent.Kafka;
using Streaming.Contracts;

namespace Streaming.Ctl.DeadLetters;

/// <summary>A DLQ record with where it sits, and whether it was already replayed.</summary>
public sealed record DeadLetterEntry(int Partition, long Offset, DateTimeOffset Timestamp, DeadLetter? Letter, string? ParseError, DateTimeOffset? ReplayedAt)
{
    /// <summary>The ledger key and the replayed-from header: unique per DLQ record.</summary>
    public string Position => $"{Partition}:{Offset}";

    public static DeadLetterEntry From(ConsumeResult<string?, byte[]> record, IReadOnlyDictionary<string, DateTimeOffset> ledger)
    {
        DeadLetter? letter = null;
        string? error = null;
        try
        {
            letter = JsonSerializer.Deserialize(record.Message.Value, ContractsJsonContext.Default.DeadLetter);
        }
        catch (JsonException e)
        {
            error = e.Message;
        }

        var position = $"{record.Partition.Value}:{record.Offset.Value}";
        return new DeadLetterEntry(record.Partition.Value, record.Offset.Value, record.Message.Timestamp.UtcDateTime,
            letter, letter is null ? error ?? "empty value" : null, ledger.TryGetValue(position, out var at) ? at : null);
    }
}
