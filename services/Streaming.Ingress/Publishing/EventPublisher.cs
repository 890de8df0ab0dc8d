using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Streaming.Contracts;
using Streaming.Ingress.Telemetry;
using Streaming.Ingress.Webhooks;
using Streaming.Kafka;

namespace Streaming.Ingress.Publishing;

public sealed record PublishResult(PublishOutcome Outcome, TimeSpan Elapsed, string? Error = null);

/// <summary>
/// Produces one webhook's events and waits, within the produce budget, until the cluster has
/// acknowledged every one of them. Only <see cref="PublishOutcome.Stored"/> may be answered 200.
/// </summary>
public sealed class EventPublisher(
    IProducer<string, byte[]> producer,
    Topology topology,
    ProducerPressure pressure,
    IngressTelemetry telemetry,
    IOptions<IngressOptions> options,
    TimeProvider time)
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
        var batch = new BatchAcknowledgement(events.Count, bytes, pressure.Finished);
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

        Error? error;
        try
        {
            error = await batch.Completion.WaitAsync(_budget, time, cancellationToken);
        }
        catch (TimeoutException)
        {
            pressure.ObserveLatency(time.GetElapsedTime(started));
            return new PublishResult(PublishOutcome.TimedOut, time.GetElapsedTime(started), $"not acknowledged within {_budget.TotalMilliseconds:0} ms");
        }

        var elapsed = time.GetElapsedTime(started);
        pressure.ObserveLatency(elapsed);
        telemetry.ProduceDuration(elapsed);
        if (error is not null)
        {
            return new PublishResult(PublishOutcome.Failed, elapsed, $"{error.Code}: {error.Reason}");
        }

        foreach (var e in events)
        {
            telemetry.EventStored(e.Lane, e.Type);
        }

        return new PublishResult(PublishOutcome.Stored, elapsed);
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
