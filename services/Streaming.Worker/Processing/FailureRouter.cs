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
    private readonly LaneTopics _lane = topology[options.Value.Lane];

    /// <summary>Moves the record to the retry tier <see cref="SettlePolicy"/> chose, not before its delay.</summary>
    /// <param name="destination">Where it was routed: its <c>destination</c> header on the retry record (null: as it came).</param>
    public async Task<ProcessingOutcome> RetryAsync(
        ConsumeResult<string?, byte[]> record, RetryState state, string? eventId, SettleDecision decision, Verdict failure, string? destination, CancellationToken ct)
    {
        var tier = _lane.RetryTiers[decision.Tier];
        var now = time.GetUtcNow();
        var headers = CopyHeaders(record.Message.Headers, destination, HeaderNames.Attempt, HeaderNames.FirstFailedAt, HeaderNames.LastError,
            HeaderNames.LastStatusCode, HeaderNames.NotBefore, HeaderNames.OriginTopic);
        headers.Add(HeaderNames.Attempt, Encoding.UTF8.GetBytes(decision.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        headers.Add(HeaderNames.FirstFailedAt, Encoding.UTF8.GetBytes(RetryState.FormatTime(state.FirstFailedAt ?? now)));
        headers.Add(HeaderNames.LastError, Encoding.UTF8.GetBytes(Truncate(failure.Error ?? "unknown error")));
        if (failure.StatusCode is { } code)
        {
            headers.Add(HeaderNames.LastStatusCode, Encoding.UTF8.GetBytes(code.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        var notBefore = now + decision.Delay;
        headers.Add(HeaderNames.NotBefore, Encoding.UTF8.GetBytes(RetryState.FormatTime(notBefore)));
        headers.Add(HeaderNames.OriginTopic, Encoding.UTF8.GetBytes(state.OriginTopic));

        var tierName = DurationList.Format(tier.RetryDelay!.Value);
        logger.Retrying(eventId ?? "?", tierName, decision.Attempts, failure.Error);
        telemetry.Retried(tierName);
        await producer.ProduceUntilStoredAsync(tier.Name, new Message<string?, byte[]> { Key = record.Message.Key, Value = record.Message.Value, Headers = headers }, ct);
        return new ProcessingOutcome(OutcomeKind.Retried, tier.Name, notBefore) { Destination = destination };
    }

    /// <summary>
    /// Moves a record unchanged but for its not-before into another retry tier, without counting an attempt:
    /// an ORDERING=key follower joining the tier where its key's head waits.
    /// </summary>
    public Task FollowAsync(ConsumeResult<string?, byte[]> record, string tierTopic, DateTimeOffset notBefore, CancellationToken ct)
    {
        var headers = CopyHeaders(record.Message.Headers, null, HeaderNames.NotBefore, HeaderNames.OriginTopic);
        headers.Add(HeaderNames.NotBefore, Encoding.UTF8.GetBytes(RetryState.FormatTime(notBefore)));
        headers.Add(HeaderNames.OriginTopic, Encoding.UTF8.GetBytes(RetryState.Header(record.Message.Headers, HeaderNames.OriginTopic) ?? _lane.Main.Name));
        return producer.ProduceUntilStoredAsync(tierTopic, new Message<string?, byte[]> { Key = record.Message.Key, Value = record.Message.Value, Headers = headers }, ct);
    }

    /// <param name="destination">Where it was routed, if it got that far (null: the <c>destination</c> header it came with).</param>
    public async Task<ProcessingOutcome> DeadLetterAsync(
        ConsumeResult<string?, byte[]> record, RetryState state, string? eventId, string reason, int attempts, int? statusCode, string? error, CancellationToken ct,
        string? destination = null)
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
            Destination = destination ?? RetryState.Header(original, HeaderNames.Destination),
            OriginalValue = record.Message.Value ?? [],
            OriginalHeaders = original.GroupBy(h => h.Key).ToDictionary(g => g.Key, g => Encoding.UTF8.GetString(g.Last().GetValueBytes())),
        };

        var headers = CopyHeaders(original, destination);
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

    /// <summary>The record's headers but <paramref name="except"/>; with a <paramref name="destination"/>, that one as its <c>destination</c>.</summary>
    private static Headers CopyHeaders(Headers? source, string? destination, params string[] except)
    {
        var headers = new Headers();
        foreach (var header in source ?? [])
        {
            if (!except.Contains(header.Key) && !(destination is not null && header.Key == HeaderNames.Destination))
            {
                headers.Add(header.Key, header.GetValueBytes());
            }
        }

        if (destination is not null)
        {
            headers.Add(HeaderNames.Destination, Encoding.UTF8.GetBytes(destination));
        }

        return headers;
    }

    private static string Truncate(string text) => text.Length <= 500 ? text : text[..500];
}
