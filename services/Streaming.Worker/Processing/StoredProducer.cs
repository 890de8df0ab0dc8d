using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streaming.Kafka.Acknowledgements;
using Streaming.Worker.Telemetry;

namespace Streaming.Worker.Processing;

/// <summary>
/// The worker's one way to write a record whose landing gates an offset commit (a move to a retry tier or
/// the DLQ, an ordering decision): produce until the broker itself confirms it. An error, or a report that
/// passes as Persisted without an offset (librdkafka's implicit acknowledgement, see <see cref="DeliveryRule"/>),
/// means the record may be on no partition, so it is produced again. The duplicate this can cause when the
/// inference was right is absorbed downstream by the event id (or, for ordering state, by its version).
/// </summary>
public sealed class StoredProducer(IProducer<string?, byte[]> producer, WorkerTelemetry telemetry, TimeProvider time, ILogger<StoredProducer> logger)
{
    public Task ProduceUntilStoredAsync(string topic, Message<string?, byte[]> message, CancellationToken ct) =>
        ProduceUntilStoredAsync(topic, c => producer.ProduceAsync(topic, message, c), ct);

    /// <summary>To one partition chosen by the caller (ordering state whose records must share a partition).</summary>
    public Task ProduceUntilStoredAsync(TopicPartition partition, Message<string?, byte[]> message, CancellationToken ct) =>
        ProduceUntilStoredAsync(partition.Topic, c => producer.ProduceAsync(partition, message, c), ct);

    private async Task ProduceUntilStoredAsync(string topic, Func<CancellationToken, Task<DeliveryResult<string?, byte[]>>> produce, CancellationToken ct)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                var result = await produce(ct);
                if (DeliveryRule.Judge(result) == DeliveryVerdict.Stored)
                {
                    return;
                }

                logger.UnverifiedAck(topic, result.Partition.Value, "produced again");
                telemetry.UnverifiedAck(topic, result.Partition.Value);
            }
            catch (ProduceException<string?, byte[]> e)
            {
                logger.ForwardFailed(topic, e.Error.Reason);
            }

            // Never give up: the source offset stays uncommitted until the record lands.
            await Task.Delay(backoff, time, ct);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
        }
    }
}
