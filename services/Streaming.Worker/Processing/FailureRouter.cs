using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streaming.Contracts;
using Streaming.Kafka;
using Streaming.Kafka.Acknowledgements;
using Streaming.SchemaRegistry;
using Streaming.Worker.Delivery;
using Streaming.Worker.Telemetry;

namespace Streaming.Worker.Processing;

/// <summary>
/// Moves a failed record to its next retry tier or to the dead-letter topic. A move is: produce
/// (idempotent, acks=all), wait for the acknowledgement, and only then let the caller store the source
/// offset. A crash between the two re-delivers the record and duplicates the move; event ids make that
/// harmless downstream. A Kafka transaction would remove the duplicate but not the HTTP side's
/// at-least-once, and would serialise the concurrent per-key processing behind one transaction.
/// </summary>
public sealed class FailureRouter(
    StoredProducer producer,
    RecordValueWriter<DeadLetter> deadLetters,
    Topology topology,
    IOptions<WorkerOptions> options,
    WorkerTelemetry telemetry,
    TimeProvider time,
    ILogger<FailureRouter> logger)
{
    private readonly WorkerOptions _options = options.Value;
    private readonly LaneTopics _lane = topology[options.Value.Lane];

    /// <summary>Next tier, or the DLQ once the tiers are exhausted.</summary>
    public async Task<ProcessingOutcome> RetryOrExhaustAsync(ConsumeResult<string?, byte[]> record, RetryState state, string? eventId, DeliveryResult failure, CancellationToken ct)
    {
        var attempts = state.Attempts + 1;
        // By attempts, not only by the tier it sits in: a follower moved into a later tier behind its head
        // (ORDERING=key) has not been attempted there, and starts from the first tier.
        var nextTier = state.Tier is { } current ? Math.Min(current + 1, state.Attempts) : 0;
        if (nextTier >= _lane.RetryTiers.Count)
        {
            return await DeadLetterAsync(record, state, eventId, DeadLetterReasons.RetriesExhausted, attempts, failure.StatusCode, failure.Error, ct);
        }

        var tier = _lane.RetryTiers[nextTier];
        var now = time.GetUtcNow();
        var delay = Jittered(tier.RetryDelay!.Value);
        if (failure.RetryAfter is { } retryAfter && retryAfter > delay)
        {
            delay = retryAfter;
        }

        var headers = CopyHeaders(record.Message.Headers, HeaderNames.Attempt, HeaderNames.FirstFailedAt, HeaderNames.LastError,
            HeaderNames.LastStatusCode, HeaderNames.NotBefore, HeaderNames.OriginTopic);
        headers.Add(HeaderNames.Attempt, Encoding.UTF8.GetBytes(attempts.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        headers.Add(HeaderNames.FirstFailedAt, Encoding.UTF8.GetBytes(RetryState.FormatTime(state.FirstFailedAt ?? now)));
        headers.Add(HeaderNames.LastError, Encoding.UTF8.GetBytes(Truncate(failure.Error ?? "unknown error")));
        if (failure.StatusCode is { } code)
        {
            headers.Add(HeaderNames.LastStatusCode, Encoding.UTF8.GetBytes(code.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        var notBefore = now + delay;
        headers.Add(HeaderNames.NotBefore, Encoding.UTF8.GetBytes(RetryState.FormatTime(notBefore)));
        headers.Add(HeaderNames.OriginTopic, Encoding.UTF8.GetBytes(state.OriginTopic));

        var tierName = DurationList.Format(tier.RetryDelay!.Value);
        logger.Retrying(eventId ?? "?", tierName, attempts, failure.Error);
        telemetry.Retried(tierName);
        await producer.ProduceUntilStoredAsync(tier.Name, new Message<string?, byte[]> { Key = record.Message.Key, Value = record.Message.Value, Headers = headers }, ct);
        return new ProcessingOutcome(OutcomeKind.Retried, tier.Name, notBefore);
    }

    /// <summary>
    /// Moves a record unchanged but for its not-before into another retry tier, without counting an attempt:
    /// an ORDERING=key follower joining the tier where its key's head waits.
    /// </summary>
    public Task FollowAsync(ConsumeResult<string?, byte[]> record, string tierTopic, DateTimeOffset notBefore, CancellationToken ct)
    {
        var headers = CopyHeaders(record.Message.Headers, HeaderNames.NotBefore, HeaderNames.OriginTopic);
        headers.Add(HeaderNames.NotBefore, Encoding.UTF8.GetBytes(RetryState.FormatTime(notBefore)));
        headers.Add(HeaderNames.OriginTopic, Encoding.UTF8.GetBytes(RetryState.Header(record.Message.Headers, HeaderNames.OriginTopic) ?? _lane.Main.Name));
        return producer.ProduceUntilStoredAsync(tierTopic, new Message<string?, byte[]> { Key = record.Message.Key, Value = record.Message.Value, Headers = headers }, ct);
    }

    public async Task<ProcessingOutcome> DeadLetterAsync(
        ConsumeResult<string?, byte[]> record, RetryState state, string? eventId, string reason, int attempts, int? statusCode, string? error, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var original = record.Message.Headers ?? [];
        var deadLetter = new DeadLetter
        {
            Reason = reason,
            Lane = _lane.Lane.ToName(),
            EventId = eventId,
            SourceTopic = record.Topic,
            SourcePartition = record.Partition.Value,
            SourceOffset = record.Offset.Value,
            OriginTopic = state.OriginTopic,
            Attempts = attempts,
            FirstFailedAt = state.FirstFailedAt ?? (attempts > 0 ? now : null),
            LastFailedAt = now,
            LastStatusCode = statusCode,
            Error = error is null ? null : Truncate(error),
            Key = record.Message.Key,
            Destination = RetryState.Header(original, HeaderNames.Destination),
            OriginalValue = record.Message.Value ?? [],
            OriginalHeaders = original.GroupBy(h => h.Key).ToDictionary(g => g.Key, g => Encoding.UTF8.GetString(g.Last().GetValueBytes())),
        };

        var headers = CopyHeaders(original);
        headers.Add(HeaderNames.DlqReason, Encoding.UTF8.GetBytes(reason));
        logger.DeadLettered(eventId, reason, attempts, error);
        telemetry.DeadLettered(reason);
        await producer.ProduceUntilStoredAsync(_lane.DeadLetter.Name, new Message<string?, byte[]>
        {
            Key = record.Message.Key,
            // Plain JSON, or framed under <dlq topic>-value when SCHEMA_REGISTRY_URL is set.
            Value = await deadLetters.WriteUntilDoneAsync(deadLetter, _lane.DeadLetter.Name, ct),
            Headers = headers,
        }, ct);
        return ProcessingOutcome.DeadLettered(reason);
    }

    private TimeSpan Jittered(TimeSpan delay) =>
        delay * (1 + (_options.RetryJitter * ((Random.Shared.NextDouble() * 2) - 1)));

    private static Headers CopyHeaders(Headers? source, params string[] except)
    {
        var headers = new Headers();
        foreach (var header in source ?? [])
        {
            if (!except.Contains(header.Key))
            {
                headers.Add(header.Key, header.GetValueBytes());
            }
        }

        return headers;
    }

    private static string Truncate(string text) => text.Length <= 500 ? text : text[..500];
}
