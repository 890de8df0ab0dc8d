using Streaming.Worker.Pipeline;
using Streaming.Worker.Processing;
using Streaming.Worker.Telemetry;

namespace Streaming.Worker.Settling;

/// <summary>
/// The one outcome switch: runs the event's turn (route, admit, deliver) unless an earlier step already
/// has a verdict (poison), asks <see cref="SettlePolicy"/> what the verdict means, and makes that durable:
/// nothing to write for a delivery, a move to a retry tier or the dead-letter topic otherwise. The
/// record's outcome is set only once the move is acknowledged, so its offset is stored only then.
/// </summary>
internal sealed class SettleStep(SettlePolicy policy, FailureRouter router, WorkerTelemetry telemetry, TimeProvider time, ILogger<SettleStep> logger) : IRecordStep
{
    public async Task InvokeAsync(RecordContext context, RecordDelegate next)
    {
        if (context.Verdict is null)
        {
            await next(context);
        }

        var verdict = context.Verdict ?? throw new InvalidOperationException("the event's turn ended without a verdict");
        var decision = policy.Decide(verdict, context.Retry, Random.Shared.NextDouble());
        if (decision.RetryAfterCapped)
        {
            telemetry.RetryAfterCapped();
        }

        var ct = context.Cancellation;
        var destination = context.Destination?.Name;
        context.Outcome = decision.Kind switch
        {
            OutcomeKind.Delivered => Delivered(context),
            OutcomeKind.Retried => await router.RetryAsync(context.Record, context.Retry, context.EventId, decision, verdict, destination, ct),
            _ => await router.DeadLetterAsync(context.Record, context.Retry, context.EventId, decision.Reason!, decision.Attempts, verdict.StatusCode, verdict.Error, ct, destination),
        };
    }

    private ProcessingOutcome Delivered(RecordContext context)
    {
        if (context.Envelope is { } envelope)
        {
            telemetry.Delivered(time.GetUtcNow() - envelope.ReceivedAt);
        }

        logger.Delivered(context.EventId ?? "?", (long)(context.AttemptDuration ?? TimeSpan.Zero).TotalMilliseconds);
        return ProcessingOutcome.Delivered;
    }
}
