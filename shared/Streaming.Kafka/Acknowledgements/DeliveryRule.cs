using Confluent.Kafka;

namespace Streaming.Kafka.Acknowledgements;

/// <summary>
/// The one rule every producer path uses before it answers 200, stores a source offset or commits a
/// replay: a record counts as stored only with no error, status Persisted AND an offset of 0 or more.
/// Why the offset: when an idempotent producer's request R1 fails with an uncertain error and a later
/// request R2 for the same partition succeeds, librdkafka reasons that R1 must have been written (a real
/// broker would have refused R2 as out of sequence) and reports R1's records as Persisted with no error
/// and offset -1001 (Offset.Unset). The inference fails on librdkafka's mock cluster, which does not
/// check sequences for non-transactional producers, and on brokers with producer-state bugs
/// (KAFKA-15591). A report with an offset is the broker's own word.
/// </summary>
public static class DeliveryRule
{
    public static DeliveryVerdict Judge(Error? error, PersistenceStatus status, Offset offset)
    {
        if (error is { IsError: true } || status != PersistenceStatus.Persisted)
        {
            return DeliveryVerdict.Failed;
        }

        return offset.Value >= 0 ? DeliveryVerdict.Stored : DeliveryVerdict.Unverified;
    }

    /// <summary>A report handed to a Produce callback.</summary>
    public static DeliveryVerdict Judge<TKey, TValue>(DeliveryReport<TKey, TValue> report) =>
        Judge(report.Error, report.Status, report.Offset);

    /// <summary>The result of ProduceAsync, which throws on an error, so only status and offset are left to judge.</summary>
    public static DeliveryVerdict Judge<TKey, TValue>(DeliveryResult<TKey, TValue> result) =>
        result is DeliveryReport<TKey, TValue> report ? Judge(report) : Judge(null, result.Status, result.Offset);
}
