using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Streaming.Contracts;
using Streaming.Kafka;
using Streaming.Worker.Delivery;
using Streaming.Worker.Processing;
using Streaming.Worker.Telemetry;

namespace Streaming.Worker.Destinations;

/// <summary>
/// Settles one event when DESTINATIONS_FILE is set: routes it (phone number id, then WABA id, then
/// <c>default</c>), stamps the destination on the record so its retry and dead-letter records carry it,
/// and gives it one turn at its destination. What cannot be attempted now (circuit open, Retry-After,
/// saturated) goes on to its next retry tier at once, so one destination never holds the others back.
/// The event is routed afresh on every attempt: a fixed table applies to retries and replays.
/// </summary>
public sealed class DestinationDispatcher
{
    private readonly DestinationsOptions _options;
    private readonly DestinationTableSource _table;
    private readonly DestinationRuntimes _runtimes;
    private readonly FailureRouter _router;
    private readonly WorkerTelemetry _telemetry;
    private readonly TimeProvider _time;
    private readonly ILogger<DestinationDispatcher> _logger;
    private readonly LaneTopics _lane;

    public DestinationDispatcher(
        IOptions<DestinationsOptions> options, DestinationTableSource table, DestinationRuntimes runtimes, FailureRouter router, Topology topology, IOptions<WorkerOptions> worker,
        WorkerTelemetry telemetry, TimeProvider time, ILogger<DestinationDispatcher> logger)
    {
        _options = options.Value;
        _table = table;
        _runtimes = runtimes;
        _router = router;
        _telemetry = telemetry;
        _time = time;
        _logger = logger;
        _lane = topology[worker.Value.Lane];
    }

    /// <summary>False without DESTINATIONS_FILE: the one endpoint (DeliveryClient) is used, as before.</summary>
    public bool Enabled => _options.Enabled;

    /// <param name="body">The envelope's JSON as delivered (a framed record's payload without its frame).</param>
    /// <param name="afterDeadLetter">ORDERING=key: the dead-lettered head this follower was released by, told to the business.</param>
    public async Task<ProcessingOutcome> ProcessAsync(
        ConsumeResult<string?, byte[]> record, RetryState state, EventEnvelope envelope, byte[] body, string? afterDeadLetter, Activity? activity, CancellationToken ct)
    {
        var table = _table.Current;
        var destination = table.Route(_lane.Lane, envelope.PhoneNumberId, envelope.WabaId);
        Stamp(record, destination?.Name);
        if (destination is null)
        {
            _logger.Unroutable(envelope.EventId);
            return await _router.DeadLetterAsync(record, state, envelope.EventId, DeadLetterReasons.Unroutable, state.Attempts, null,
                "no destination matches its phone number id or WABA id, and the lane has no default destination", ct);
        }

        activity?.SetTag("whatsapp.destination", destination.Name);
        var runtime = _runtimes.For(destination);
        var attempt = await runtime.DeliverAsync(destination, _lane.Lane, envelope.EventId, body, afterDeadLetter, ct);
        if (attempt.Duration is { } duration)
        {
            _telemetry.Attempted(duration);
        }

        var result = attempt.Result;
        activity?.SetTag("delivery.outcome", result.Outcome.ToString());
        if (result.Outcome is DeliveryOutcome.Terminal or DeliveryOutcome.Retryable)
        {
            activity?.SetStatus(ActivityStatusCode.Error, result.Error);
        }

        switch (result.Outcome)
        {
            case DeliveryOutcome.Delivered:
                _telemetry.Delivered(_time.GetUtcNow() - envelope.ReceivedAt);
                _logger.Delivered(envelope.EventId, (long)(attempt.Duration ?? TimeSpan.Zero).TotalMilliseconds);
                return ProcessingOutcome.Delivered;
            case DeliveryOutcome.Terminal:
                return await _router.DeadLetterAsync(record, state, envelope.EventId, DeadLetterReasons.Terminal4xx, state.Attempts + 1, result.StatusCode, result.Error, ct);
            case DeliveryOutcome.Retryable when attempt.Saturated && IsLastTier(state):
                // Saturated on every tier: the DLQ says so, rather than a generic retries-exhausted.
                return await _router.DeadLetterAsync(record, state, envelope.EventId, DeadLetterReasons.DestinationSaturated, state.Attempts + 1, null, result.Error, ct);
            default:
                return await _router.RetryOrExhaustAsync(record, state, envelope.EventId, result, ct);
        }
    }

    private bool IsLastTier(RetryState state) => (state.Tier is { } tier ? tier + 1 : 0) >= _lane.RetryTiers.Count;

    /// <summary>The <c>destination</c> header: copied onto the retry record or dead letter this event may become.</summary>
    internal static void Stamp(ConsumeResult<string?, byte[]> record, string? destination)
    {
        var headers = record.Message.Headers ??= [];
        headers.Remove(HeaderNames.Destination);
        if (destination is not null)
        {
            headers.Add(HeaderNames.Destination, Encoding.UTF8.GetBytes(destination));
        }
    }
}
