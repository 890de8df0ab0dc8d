using Microsoft.Extensions.Options;
using Streaming.Worker.Pipeline;

namespace Streaming.Worker.Ordering;

/// <summary>ORDERING=key: the event is attempted only in its conversation's turn (<see cref="KeyOrder"/>); otherwise it follows its chain's head.</summary>
internal sealed class KeyOrderStep(KeyOrder keys, OrderStateStore store, IOptions<OrderingOptions> ordering) : IRecordStep
{
    private readonly bool _byKey = ordering.Value.ByKey;

    public async Task InvokeAsync(RecordContext context, RecordDelegate next)
    {
        if (!_byKey || !store.Enabled || context.Envelope is null)
        {
            await next(context);
            return;
        }

        context.Outcome = await keys.HandleAsync(context.Record, context.Envelope, async (_, _) =>
        {
            await next(context);
            return context.Outcome!;
        }, context.Cancellation);
    }
}
