using System.Diagnostics;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streaming.Contracts;
using Streaming.Kafka;
using Streaming.Worker.Delivery;
using Streaming.Destinations;
using Streaming.Worker.Destinations;
using Streaming.Worker.Telemetry;

namespace Streaming.Worker.Processing;

/// <summary>
/// Settles one record: delivered, forwarded to a retry tier, or dead-lettered. The returned task
/// completes only once that outcome is durable; cancelled, it leaves the record uncommitted.
/// </summary>
public sealed class EventProcessor(
    DeliveryClient delivery,
    DestinationDispatcher destinations,
    FailureRouter router,
    Topology topology,
    IOptions<WorkerOptions> options,
    WorkerTelemetry telemetry,
    TimeProvider time,
    ILogger<EventProcessor> logger)
{
    private readonly LaneTopics _lane = topology[options.Value.Lane];
    private readonly TimeSpan _circuitProbe = TimeSpan.FromSeconds(Math.Max(0.1, options.Value.CircuitBreakSeconds / 4));

    public async Task ProcessAsync(ConsumeResult<string?, byte[]> record, CancellationToken ct)
    {
        var state = RetryState.From(record, _lane);
        var eventId = RetryState.Header(record.Message.Headers, HeaderNames.EventId);
        if (!TryReadEnvelope(record.Message.Value, out var envelope))
        {
            await router.DeadLetterAsync(record, state, eventId, DeadLetterReasons.Poison, state.Attempts, null,
                "the value is not an event envelope (JSON with eventId, schemaVersion 1)", ct);
            return;
        }

        using var activity = StartActivity(record, envelope);
        if (destinations.Enabled)
        {
            await destinations.ProcessAsync(record, state, envelope, activity, ct);
            return;
        }

        DestinationDispatcher.Stamp(record, Destination.DefaultName);

        while (true)
        {
            var started = time.GetTimestamp();
            var result = await delivery.DeliverAsync(envelope.EventId, record.Message.Value, ct);
            if (result.Outcome != DeliveryOutcome.CircuitOpen)
            {
                telemetry.Attempted(time.GetElapsedTime(started));
            }

            activity?.SetTag("delivery.outcome", result.Outcome.ToString());
            switch (result.Outcome)
            {
                case DeliveryOutcome.Delivered:
                    telemetry.Delivered(time.GetUtcNow() - envelope.ReceivedAt);
                    logger.Delivered(envelope.EventId, (long)time.GetElapsedTime(started).TotalMilliseconds);
                    return;
                case DeliveryOutcome.CircuitOpen:
                    // The endpoint is down: the event waits here, uncommitted, while consumption is
                    // paused, rather than being sprayed into the retry tiers.
                    await Task.Delay(_circuitProbe, time, ct);
                    continue;
                case DeliveryOutcome.Terminal:
                    await router.DeadLetterAsync(record, state, envelope.EventId, DeadLetterReasons.Terminal4xx, state.Attempts + 1, result.StatusCode, result.Error, ct);
                    return;
                default:
                    await router.RetryOrExhaustAsync(record, state, envelope.EventId, result, ct);
                    return;
            }
        }
    }

    private static bool TryReadEnvelope(byte[]? value, out EventEnvelope envelope)
    {
        envelope = null!;
        if (value is null || value.Length == 0)
        {
            return false;
        }

        try
        {
            var read = JsonSerializer.Deserialize(value, ContractsJsonContext.Default.EventEnvelope);
            if (read is null || read.SchemaVersion != EventEnvelope.CurrentSchemaVersion || string.IsNullOrEmpty(read.EventId))
            {
                return false;
            }

            envelope = read;
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static Activity? StartActivity(ConsumeResult<string?, byte[]> record, EventEnvelope envelope)
    {
        ActivityContext.TryParse(RetryState.Header(record.Message.Headers, HeaderNames.TraceParent), null, out var parent);
        var activity = WorkerTelemetry.ActivitySource.StartActivity("deliver", ActivityKind.Consumer, parent);
        activity?.SetTag("messaging.system", "kafka");
        activity?.SetTag("messaging.source.name", record.Topic);
        activity?.SetTag("whatsapp.event_id", envelope.EventId);
        return activity;
    }
}
