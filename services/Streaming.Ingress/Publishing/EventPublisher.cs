using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streaming.Contracts;
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
    IOptions<IngressOptions> options,
    TimeProvider time,
    ILogger<EventPublisher> logger)
{
    private readonly TimeSpan _budget = options.Value.ProduceBudget;

    public async Task<PublishResult> PublishAsync(SplitResult webhook, DateTimeOffset receivedAt, CancellationToken cancellationToken)
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

        var bytes = events.Sum(e => (long)e.Value.Length + e.Key.Length);
        var batch = new BatchAcknowledgement(events.Count, bytes, pressure.Finished, OnUnverified);
        pressure.Started(bytes);
        var receivedAtHeader = Encoding.UTF8.GetBytes(receivedAt.ToString("O"));
        var traceParent = Activity.Current?.Id is { } id ? Encoding.UTF8.GetBytes(id) : null;

        for (var i = 0; i < events.Count; i++)
        {
            try
            {
                producer.Produce(topology[events[i].Lane].Main.Name, ToMessage(events[i], receivedAtHeader, traceParent), batch.Handler);
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

    private static Message<string, byte[]> ToMessage(OutboundEvent e, byte[] receivedAt, byte[]? traceParent)
    {
        var headers = new Headers
        {
            { HeaderNames.EventId, Encoding.UTF8.GetBytes(e.EventId) },
            { HeaderNames.EventType, Encoding.UTF8.GetBytes(e.Type) },
            { HeaderNames.ReceivedAt, receivedAt },
        };
        if (traceParent is not null)
        {
            headers.Add(HeaderNames.TraceParent, traceParent);
        }

        return new Message<string, byte[]> { Key = e.Key, Value = e.Value, Headers = headers };
    }
}
