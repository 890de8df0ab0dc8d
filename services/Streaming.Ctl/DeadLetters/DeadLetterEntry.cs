using Confluent.Kafka;
using Streaming.Contracts;
using Streaming.SchemaRegistry;

namespace Streaming.Ctl.DeadLetters;

/// <summary>A DLQ record with where it sits, and whether it was already replayed.</summary>
public sealed record DeadLetterEntry(int Partition, long Offset, DateTimeOffset Timestamp, DeadLetter? Letter, string? ParseError, DateTimeOffset? ReplayedAt)
{
    /// <summary>The ledger key and the replayed-from header: unique per DLQ record.</summary>
    public string Position => $"{Partition}:{Offset}";

    public static DeadLetterEntry From(ConsumeResult<string?, byte[]> record, IReadOnlyDictionary<string, DateTimeOffset> ledger)
    {
        // Plain JSON or framed (magic byte + schema id): the workers write either, a topic may hold both.
        var read = RecordValueReader.ReadDeadLetter(record.Message.Value);
        var (letter, error) = (read.Value, read.Error);

        var position = $"{record.Partition.Value}:{record.Offset.Value}";
        return new DeadLetterEntry(record.Partition.Value, record.Offset.Value, record.Message.Timestamp.UtcDateTime,
            letter, letter is null ? error ?? "empty value" : null, ledger.TryGetValue(position, out var at) ? at : null);
    }
}
