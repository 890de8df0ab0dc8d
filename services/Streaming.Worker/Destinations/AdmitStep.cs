using Microsoft.Extensions.Options;
using Streaming.Worker.Pipeline;
using Streaming.Worker.Processing;

namespace Streaming.Worker.Destinations;

/// <summary>
/// Fair admission: an event is attempted only with a slot of the lane's in-flight budget, within its
/// destination's adaptive limit and fair share. Waiting for the rate limit or for the slot holds no slot.
/// What cannot be attempted soon (circuit open, Retry-After hold, saturated) gets its verdict at once and
/// goes on to a retry tier, so one destination never holds the others back. While every destination with
/// traffic is open (one endpoint without a table, or all of them down) the lane is held instead: the
/// event waits here, uncommitted, rather than being sprayed into the retry tiers.
/// </summary>
internal sealed class AdmitStep(DestinationRuntimes runtimes, DestinationLaneHold hold, IOptions<WorkerOptions> options, TimeProvider time) : IRecordStep
{
    private readonly TimeSpan _probe = options.Value.WaitProbe;

    public async Task InvokeAsync(RecordContext context, RecordDelegate next)
    {
        var runtime = runtimes.For(context.Destination!);
        while (true)
        {
            while (runtime.IsOpen && hold.HeldNow)
            {
                await Task.Delay(_probe, time, context.Cancellation);
            }

            await TakeTurnAsync(runtime, context, next);
            if (context.Verdict is { Kind: VerdictKind.CircuitOpen } && (runtimes.Admission.Alone || hold.HeldNow))
            {
                // Another call was probing the half-open circuit of a held lane (or of the lane's one
                // endpoint): not an attempt, so it costs the event no tier; wait for the probe's answer.
                context.Verdict = null;
                await Task.Delay(_probe, time, context.Cancellation);
                continue;
            }

            return;
        }
    }

    private static async Task TakeTurnAsync(DestinationRuntime runtime, RecordContext context, RecordDelegate next)
    {
        if (runtime.NotNow() is { } refused)
        {
            context.Verdict = refused;
            return;
        }

        if (!await runtime.PaceAsync(context.Cancellation))
        {
            context.Verdict = Saturated;
            return;
        }

        using var slot = await runtime.EnterAsync(context.Cancellation);
        if (slot is null)
        {
            context.Verdict = Saturated;
            return;
        }

        // The circuit may have opened, or a Retry-After arrived, while this event waited.
        if (runtime.NotNow() is { } late)
        {
            context.Verdict = late;
            return;
        }

        await next(context);
    }

    private static readonly Verdict Saturated = new(VerdictKind.Saturated, Error: Streaming.Contracts.DeadLetterReasons.DestinationSaturated);
}
