using Microsoft.Extensions.Options;
using Streaming.Contracts;
using Streaming.Worker.Pipeline;

namespace Streaming.Worker.Ordering;

/// <summary>Statuses lane: a status below the highest rank delivered or pending for its message id is dropped (<see cref="StatusTruth"/>).</summary>
internal sealed class StatusTruthStep(StatusTruth statuses, OrderStateStore store, IOptions<WorkerOptions> options) : IRecordStep
{
    private readonly bool _statuses = options.Value.Lane == Lane.Statuses;

    public async Task InvokeAsync(RecordContext context, RecordDelegate next)
    {
        if (!_statuses || !store.Enabled || context.Envelope is null)
        {
            await next(context);
            return;
        }

        context.Outcome = await statuses.HandleAsync(context.Record, context.Envelope, async (_, _) =>
        {
            await next(context);
            return context.Outcome!;
        }, context.Cancellation);
    }
}
