using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Streaming.Contracts;
using Streaming.Kafka;
using Streaming.Worker.Processing;

namespace Streaming.Worker.Ordering;

/// <summary>
/// Statuses lane: a status never reaches the business after a higher-ranked status of the same message id
/// (sent &lt; delivered &lt; read; failed is terminal and ranks above them all). The highest rank delivered or
/// in flight (attempted now, or waiting in a retry tier) is written per message id before the attempt
/// (<see cref="OrderStateStore"/>, kept for the sum of the retry delays plus a minute), so a replica that
/// takes the partition over, or the same one after a restart, knows it; a status below it is dropped,
/// counted and logged at debug. Only <c>sent</c> is never written: nothing ranks below it.
/// </summary>
public sealed class StatusTruth(OrderStateStore store, OrderingMetrics metrics, TimeProvider time, ILogger<StatusTruth> logger)
{
    public static int Rank(string? status) => StatusRanks.Rank(status);

    /// <summary>Drops <paramref name="record"/> as superseded, or records its rank (when it raises it) and runs <paramref name="process"/>.</summary>
    public async Task<ProcessingOutcome> HandleAsync(
        ConsumeResult<string?, byte[]> record, EventEnvelope envelope,
        Func<ConsumeResult<string?, byte[]>, CancellationToken, Task<ProcessingOutcome>> process, CancellationToken ct)
    {
        if (!TryRead(envelope, out var messageId, out var rank))
        {
            return await process(record, ct);
        }

        await store.Ready.WaitAsync(ct);
        var mark = store.Mark(messageId);
        switch (StatusRanks.Decide(rank, mark))
        {
            case StatusStep.Supersede:
                metrics.Superseded();
                logger.Superseded(envelope.EventId, messageId, rank, mark!.Rank);
                return ProcessingOutcome.Dropped;
            case StatusStep.MarkThenAttempt:
                await store.WriteMarkAsync(messageId, new StatusMark(rank, time.GetUtcNow()), ct);
                break;
        }

        return await process(record, ct);
    }

    private static bool TryRead(EventEnvelope envelope, out string messageId, out int rank)
    {
        messageId = "";
        rank = 0;
        var payload = envelope.Payload;
        if (envelope.Type != EventTypes.Status || payload.ValueKind != JsonValueKind.Object
            || !payload.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String
            || !payload.TryGetProperty("status", out var status) || status.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        messageId = id.GetString()!;
        rank = Rank(status.GetString());
        return rank > 0;
    }
}
