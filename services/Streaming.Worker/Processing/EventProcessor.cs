using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;
using Streaming.Contracts;
using Streaming.Kafka;
using Streaming.SchemaRegistry;
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
    RecordValueReader reader,
    Topology topology,
    IOptions<WorkerOptions> options,
    WorkerTelemetry telemetry,
    TimeProvider time,
    ILogger<EventProcessor> logger)
{
    private readonly LaneTopics _lane = topology[options.Value.Lane];
    private readonly string _consumerGroup = topology.ConsumerGroup(options.Value.Lane);
    private readonly TimeSpan _circuitProbe = TimeSpan.FromSeconds(Math.Max(0.1, options.Value.CircuitBreakSeconds / 4));

    public async Task<ProcessingOutcome> ProcessAsync(ConsumeResult<string?, byte[]> record, CancellationToken ct)
    {
        var state = RetryState.From(record, _lane);
        var eventId = RetryState.Header(record.Message.Headers, HeaderNames.EventId);
        var read = await reader.ReadEnvelopeAsync(record.Message.Value, ct);
        while (read.Outcome == ReadOutcome.SchemaUnresolved)
        {
            // Framed with a schema id the registry cannot answer for now: neither lost nor poison. The
            // record waits here, uncommitted, like an open circuit, and is read again.
            telemetry.SchemaUnresolved();
            logger.SchemaUnresolved(eventId, read.Error);
            await Task.Delay(_circuitProbe, time, ct);
            read = await reader.ReadEnvelopeAsync(record.Message.Value, ct);
        }

        if (read.Outcome != ReadOutcome.Read)
        {
            return await router.DeadLetterAsync(record, state, eventId, DeadLetterReasons.Poison, state.Attempts, null,
                "the value is not an event envelope (JSON with eventId, schemaVersion 1)", ct);
        }

        var (envelope, body) = (read.Value!, read.Json!);
        using var activity = StartActivity(record, envelope);
        var afterDeadLetter = RetryState.Header(record.Message.Headers, HeaderNames.AfterDeadLetter);
        if (destinations.Enabled)
        {
            return await destinations.ProcessAsync(record, state, envelope, body, afterDeadLetter, activity, ct);
        }

        DestinationDispatcher.Stamp(record, Destination.DefaultName);

        while (true)
        {
            var started = time.GetTimestamp();
            var result = await delivery.DeliverAsync(envelope.EventId, body, ct, afterDeadLetter);
            if (result.Outcome != DeliveryOutcome.CircuitOpen)
            {
                telemetry.Attempted(time.GetElapsedTime(started));
            }

            activity?.SetTag("delivery.outcome", result.Outcome.ToString());
            if (result.Outcome is DeliveryOutcome.Terminal or DeliveryOutcome.Retryable)
            {
                activity?.SetStatus(ActivityStatusCode.Error, result.Error);
            }

            switch (result.Outcome)
            {
                case DeliveryOutcome.Delivered:
                    telemetry.Delivered(time.GetUtcNow() - envelope.ReceivedAt);
                    logger.Delivered(envelope.EventId, (long)time.GetElapsedTime(started).TotalMilliseconds);
                    return ProcessingOutcome.Delivered;
                case DeliveryOutcome.CircuitOpen:
                    // The endpoint is down: the event waits here, uncommitted, while consumption is
                    // paused, rather than being sprayed into the retry tiers.
                    await Task.Delay(_circuitProbe, time, ct);
                    continue;
                case DeliveryOutcome.Terminal:
                    return await router.DeadLetterAsync(record, state, envelope.EventId, DeadLetterReasons.Terminal4xx, state.Attempts + 1, result.StatusCode, result.Error, ct);
                default:
                    return await router.RetryOrExhaustAsync(record, state, envelope.EventId, result, ct);
            }
        }
    }

    /// <summary>
    /// The <c>{topic} process</c> consumer span of the OpenTelemetry messaging conventions, continuing the
    /// trace whose context the record carries (extracted through the default propagator).
    /// </summary>
    private Activity? StartActivity(ConsumeResult<string?, byte[]> record, EventEnvelope envelope)
    {
        var parent = Propagators.DefaultTextMapPropagator.Extract(default, record.Message.Headers, static (headers, name) =>
            RetryState.Header(headers, name) is { } value ? [value] : []);
        Baggage.Current = parent.Baggage;
        var activity = WorkerTelemetry.ActivitySource.StartActivity($"{record.Topic} process", ActivityKind.Consumer, parent.ActivityContext);
        activity?.SetTag("messaging.system", "kafka");
        activity?.SetTag("messaging.destination.name", record.Topic);
        activity?.SetTag("messaging.operation.name", "process");
        activity?.SetTag("messaging.operation.type", "process");
        activity?.SetTag("messaging.kafka.consumer.group", _consumerGroup);
        activity?.SetTag("messaging.destination.partition.id", record.Partition.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        activity?.SetTag("messaging.kafka.offset", record.Offset.Value);
        activity?.SetTag("whatsapp.event_id", envelope.EventId);
        return activity;
    }
}
