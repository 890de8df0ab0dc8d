using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;
using Streaming.Kafka;
using Streaming.Worker.Pipeline;
using Streaming.Worker.Processing;
using Streaming.Worker.Telemetry;

namespace Streaming.Worker.Tracing;

/// <summary>
/// The <c>{topic} process</c> consumer span of the OpenTelemetry messaging conventions around the rest of
/// the pipeline, continuing the trace whose context the record carries (the default propagator).
/// </summary>
internal sealed class TraceStep(Topology topology, IOptions<WorkerOptions> options) : IRecordStep
{
    private readonly string _consumerGroup = topology.ConsumerGroup(options.Value.Lane);

    public async Task InvokeAsync(RecordContext context, RecordDelegate next)
    {
        var record = context.Record;
        var parent = Propagators.DefaultTextMapPropagator.Extract(default, record.Message.Headers, static (headers, name) =>
            RetryState.Header(headers, name) is { } value ? [value] : []);
        Baggage.Current = parent.Baggage;
        using var activity = WorkerTelemetry.ActivitySource.StartActivity($"{record.Topic} process", ActivityKind.Consumer, parent.ActivityContext);
        activity?.SetTag("messaging.system", "kafka");
        activity?.SetTag("messaging.destination.name", record.Topic);
        activity?.SetTag("messaging.operation.name", "process");
        activity?.SetTag("messaging.operation.type", "process");
        activity?.SetTag("messaging.kafka.consumer.group", _consumerGroup);
        activity?.SetTag("messaging.destination.partition.id", record.Partition.Value.ToString(CultureInfo.InvariantCulture));
        activity?.SetTag("messaging.kafka.offset", record.Offset.Value);
        context.Activity = activity;

        await next(context);

        if (activity is null)
        {
            return;
        }

        activity.SetTag("whatsapp.event_id", context.EventId);
        activity.SetTag("whatsapp.destination", context.Destination?.Name);
        if (context.Verdict is { } verdict)
        {
            activity.SetTag("delivery.outcome", verdict.Kind.ToString());
            if (verdict.Kind is not VerdictKind.Delivered)
            {
                activity.SetStatus(ActivityStatusCode.Error, verdict.Error);
            }
        }
    }
}
