using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;
using Streaming.Ingress.Webhooks;

namespace Streaming.Ingress.Telemetry;

/// <summary>
/// One <c>{topic} publish</c> producer span per record, by the OpenTelemetry messaging conventions,
/// children of the request's span; each record carries its own span's context in its headers (through
/// <see cref="Propagators.DefaultTextMapPropagator"/>: traceparent, tracestate, baggage), so the
/// worker's process span continues that record's trace. The spans end when the webhook's outcome is
/// known: in error unless every record was acknowledged.
/// </summary>
public sealed class PublishSpans : IDisposable
{
    private readonly Activity?[] _spans;

    private PublishSpans(Activity?[] spans) => _spans = spans;

    public static PublishSpans Start(IReadOnlyList<OutboundEvent> events, Func<OutboundEvent, string> topicOf)
    {
        var spans = new Activity?[events.Count];
        var request = Activity.Current;
        for (var i = 0; i < spans.Length; i++)
        {
            var topic = topicOf(events[i]);
            var span = IngressTelemetry.ActivitySource.StartActivity($"{topic} publish", ActivityKind.Producer);
            span?.SetTag("messaging.system", "kafka");
            span?.SetTag("messaging.destination.name", topic);
            span?.SetTag("messaging.operation.name", "publish");
            span?.SetTag("messaging.operation.type", "send");
            span?.SetTag("whatsapp.event_id", events[i].EventId);
            spans[i] = span;
            // Siblings, not a chain: each record's span is a child of the request's.
            Activity.Current = request;
        }

        return new PublishSpans(spans);
    }

    /// <summary>Writes record <paramref name="index"/>'s trace context into its headers (the request's, when no span is recorded).</summary>
    public void Inject(int index, Headers headers)
    {
        var context = _spans[index]?.Context ?? Activity.Current?.Context ?? default;
        if (context == default)
        {
            return;
        }

        Propagators.DefaultTextMapPropagator.Inject(new PropagationContext(context, Baggage.Current), headers, static (h, name, value) =>
        {
            h.Remove(name);
            h.Add(name, Encoding.UTF8.GetBytes(value));
        });
    }

    public void Complete(bool stored, string? error)
    {
        foreach (var span in _spans)
        {
            if (!stored)
            {
                span?.SetStatus(ActivityStatusCode.Error, error);
            }

            span?.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var span in _spans)
        {
            span?.Dispose();
        }
    }
}
