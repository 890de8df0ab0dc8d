using Streaming.Worker.Pipeline;
using Streaming.Worker.Processing;

namespace Streaming.Worker.Destinations;

/// <summary>
/// Routes the event by phone number id, then WABA id, then <c>default</c> (DELIVERY_URL). Routed afresh
/// on every attempt, so a fixed table applies to retries and replays. Unroutable: its verdict, for the DLQ.
/// </summary>
internal sealed class RouteStep(DestinationTableSource table, ILogger<RouteStep> logger) : IRecordStep
{
    public Task InvokeAsync(RecordContext context, RecordDelegate next)
    {
        var envelope = context.Envelope!;
        context.Destination = table.Current.Route(context.Lane.Lane, envelope.PhoneNumberId, envelope.WabaId);
        if (context.Destination is null)
        {
            logger.Unroutable(envelope.EventId);
            context.Verdict = new Verdict(VerdictKind.Unroutable,
                Error: "no destination matches its phone number id or WABA id, and the lane has no default destination");
            return Task.CompletedTask;
        }

        return next(context);
    }
}
