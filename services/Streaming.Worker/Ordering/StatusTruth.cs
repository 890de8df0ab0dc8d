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
/// waiting in a retry tier is kept per message id (<see cref="OrderStateStore"/>, for the sum of the retry
/// delays); a status below it is dropped, counted and logged at debug. So where two are pending only the
/// highest is delivered, and a retried one never lands after a higher one.
/// </summary>
public sealed class StatusTruth(
    OrderStateStore store, OrderingMetrics metrics, Topology topology, IOptions<WorkerOptions> options, TimeProvider time, ILogger<StatusTruth> logger)
{
    private readonly string _mainTopic = topology[options.Value.Lane].Main.Name;

    public static int Rank(string? status) => status switch
    {
        "sent" => 1,
        "delivered" => 2,
        "read" => 3,
        "failed" => 4,
        _ => 0,
    };

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
        if (mark is not null && mark.Rank > rank)
        {
            metrics.Superseded();
            logger.Superseded(RetryState.Header(record.Message.Headers, HeaderNames.EventId) ?? "?", messageId, rank, mark.Rank);
            return ProcessingOutcome.Dropped;
        }

        var outcome = await process(record, ct);
        var raised = mark is null || rank > mark.Rank;
        if (raised && (outcome.Kind == OutcomeKind.Retried || (outcome.Kind == OutcomeKind.Delivered && (store.HasWrittenMark(messageId) || record.Topic != _mainTopic))))
        {
            // Pending in a tier, or delivered while something of the message is known to be pending or
            // retried: written, so whichever replica later reads the lower one drops it, also after a restart.
            await store.WriteMarkAsync(messageId, new StatusMark(rank, time.GetUtcNow()), ct);
        }
        else if (raised && outcome.Kind == OutcomeKind.Delivered && rank > 1)
        {
            store.NoteDelivered(messageId, new StatusMark(rank, time.GetUtcNow()));
        }

        return outcome;
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
