using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streaming.Contracts;
using Streaming.Ingress.Serialization;
using Streaming.Ingress.Telemetry;
using Streaming.Ingress.Webhooks;
using Streaming.Kafka;
using Streaming.Kafka.Acknowledgements;

namespace Streaming.Ingress.Publishing;

public sealed record PublishResult(PublishOutcome Outcome, TimeSpan Elapsed, string? Error = null);

/// <summary>
/// Produces one webhook's events and waits, within the produce budget, until the cluster has
/// acknowledged every one of them. Only <see cref="PublishOutcome.Stored"/> may be answered 200, and
/// only reports that pass <see cref="DeliveryRule"/> (an offset, not an implicit acknowledgement) count.
/// </summary>
public sealed class EventPublisher(
    IProducer<string, byte[]> producer,
    Topology topology,
    ProducerPressure pressure,
    IngressTelemetry telemetry,
    EnvelopeValues values,
    IOptions<IngressOptions> options,
    TimeProvider time,
    ILogger<EventPublisher> logger)
{
    private readonly TimeSpan _budget = options.Value.ProduceBudget;

    public async Task<PublishResult> PublishAsync(SplitResult webhook, DateTimeOffset receivedAt, CancellationToken cancellationToken)
    {
        using var spans = PublishSpans.Start(webhook.Events, e => topology[e.Lane].Main.Name);
        var result = await PublishCoreAsync(webhook, receivedAt, spans, cancellationToken);
        spans.Complete(result.Outcome == PublishOutcome.Stored, result.Error ?? result.Outcome.ToString());
        return result;
    }

    private async Task<PublishResult> PublishCoreAsync(SplitResult webhook, DateTimeOffset receivedAt, PublishSpans spans, CancellationToken cancellationToken)
    {
        var events = webhook.Events;
        var started = time.GetTimestamp();
        if (events.Count == 0)
        {
            return new PublishResult(PublishOutcome.Stored, TimeSpan.Zero);
        }

        if (!webhook.HasHighPriority && pressure.IsSaturated)
        {
            return new PublishResult(PublishOutcome.Shed, TimeSpan.Zero, "producer saturated: low-priority webhook shed");
        }

        byte[][] encoded;
        try
        {
            encoded = await values.WriteAsync(events);
        }
        catch (Exception e) when (SchemaRegistry.SchemaRegistryConnection.IsRegistryError(e))
        {
            // Only before the schemas are registered (start-up, not ready yet): afterwards their ids are cached.
            return new PublishResult(PublishOutcome.Failed, time.GetElapsedTime(started), $"schema registry: {e.Message}");
        }

        var bytes = events.Sum(e => (long)e.Value.Length + e.Key.Length);
        var batch = new BatchAcknowledgement(events.Count, bytes, pressure.Finished, OnUnverified);
        pressure.Started(bytes);
        var receivedAtHeader = Encoding.UTF8.GetBytes(receivedAt.ToString("O"));

        for (var i = 0; i < events.Count; i++)
        {
            try
            {
                producer.Produce(topology[events[i].Lane].Main.Name, ToMessage(events[i], encoded[i], receivedAtHeader, spans, i), batch.Handler);
            }
            catch (ProduceException<string, byte[]> e)
            {
                // Records already handed over may still land: Meta's retry duplicates them, and event-id
                // idempotency downstream absorbs that. What matters is that this request is not a 200.
                batch.Abandon(events.Count - i, e.Error);
                var outcome = e.Error.Code == ErrorCode.Local_QueueFull ? PublishOutcome.QueueFull : PublishOutcome.Failed;
                return new PublishResult(outcome, time.GetElapsedTime(started), e.Error.Reason);
            }
        }

        Refusal? refusal;
        try
        {
            refusal = await batch.Completion.WaitAsync(_budget, time, cancellationToken);
        }
        catch (TimeoutException)
        {
            pressure.ObserveLatency(time.GetElapsedTime(started));
            if (batch.GiveUp(PublishOutcome.TimedOut, $"not acknowledged within {_budget.TotalMilliseconds:0} ms"))
            {
                return new PublishResult(PublishOutcome.TimedOut, time.GetElapsedTime(started), $"not acknowledged within {_budget.TotalMilliseconds:0} ms");
            }

            refusal = batch.Completion.Result; // decided by a report at the same instant
        }
        catch (OperationCanceledException)
        {
            batch.GiveUp(PublishOutcome.Failed, "request aborted");
            throw;
        }

        var elapsed = time.GetElapsedTime(started);
        pressure.ObserveLatency(elapsed);
        telemetry.ProduceDuration(elapsed);
        if (refusal is { } refused)
        {
            return new PublishResult(refused.Outcome, elapsed, refused.Reason);
        }

        foreach (var e in events)
        {
            telemetry.EventStored(e.Lane, e.Type);
        }

        return new PublishResult(PublishOutcome.Stored, elapsed);
    }

    /// <summary>A report librdkafka inferred, not one the broker gave: the webhook is answered 503 and Meta redelivers it.</summary>
    private void OnUnverified(DeliveryReport<string, byte[]> report, bool decided)
    {
        logger.UnverifiedAck(report.Topic, report.Partition.Value, decided ? "the webhook is answered 503" : "the webhook was already refused");
        if (decided)
        {
            telemetry.UnverifiedAck(report.Topic, report.Partition.Value);
        }
    }

    private static Message<string, byte[]> ToMessage(OutboundEvent e, byte[] value, byte[] receivedAt, PublishSpans spans, int index)
    {
        var headers = new Headers
        {
            { HeaderNames.EventId, Encoding.UTF8.GetBytes(e.EventId) },
            { HeaderNames.EventType, Encoding.UTF8.GetBytes(e.Type) },
            { HeaderNames.ReceivedAt, receivedAt },
        };
        spans.Inject(index, headers);
        return new Message<string, byte[]> { Key = e.Key, Value = value, Headers = headers };
    }
}
