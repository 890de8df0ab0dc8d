using Streaming.Worker.Pipeline;
using Streaming.Worker.Processing;
using Streaming.Worker.Telemetry;

namespace Streaming.Worker.Destinations;

/// <summary>The HTTP attempt itself, through the destination's circuit and timeout, holding the slot admission gave it.</summary>
internal sealed class DeliverStep(DestinationRuntimes runtimes, WorkerTelemetry telemetry) : IRecordStep
{
    public async Task InvokeAsync(RecordContext context, RecordDelegate next)
    {
        var destination = context.Destination!;
        var (result, duration) = await runtimes.For(destination).SendAsync(
            destination.UrlFor(context.Lane.Lane)!, destination.Signer!, context.EventId!, context.Body!, context.AfterDeadLetter, context.Cancellation);
        if (duration is { } d)
        {
            telemetry.Attempted(d);
            context.AttemptDuration = d;
        }

        context.Verdict = Verdict.From(result);
        await next(context);
    }
}
