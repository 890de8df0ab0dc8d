using Streaming.Contracts;

namespace Streaming.Worker.Processing;

/// <summary>What to do with an event once its turn has a verdict.</summary>
public readonly record struct SettleDecision(OutcomeKind Kind, int Attempts, int Tier = -1, TimeSpan Delay = default, string? Reason = null, bool RetryAfterCapped = false);

/// <summary>
/// The one place that decides between delivered, the next retry tier and the dead-letter topic. Pure: no
/// clock, no I/O, so every rule is unit-tested. A Retry-After never holds a tier: the not-before it asks
/// for is never later than the chosen tier's own (jittered) delay; a longer Retry-After picks the first
/// tier whose delay covers it (or the last one), and the destination's own hold covers the rest. A
/// Retry-After beyond <c>maxRetryAfter</c> is capped, and the caller counts it.
/// </summary>
public sealed class SettlePolicy(IReadOnlyList<TimeSpan> tierDelays, double jitter, TimeSpan maxRetryAfter)
{
    public IReadOnlyList<TimeSpan> TierDelays { get; } = tierDelays;

    /// <param name="random">A number in [0, 1) for the jitter.</param>
    public SettleDecision Decide(Verdict verdict, RetryState state, double random)
    {
        switch (verdict.Kind)
        {
            case VerdictKind.Delivered:
                return new SettleDecision(OutcomeKind.Delivered, state.Attempts + 1);
            case VerdictKind.Terminal:
                return DeadLetter(DeadLetterReasons.Terminal4xx, state.Attempts + 1);
            case VerdictKind.Poison:
                return DeadLetter(DeadLetterReasons.Poison, state.Attempts);
            case VerdictKind.Unroutable:
                return DeadLetter(DeadLetterReasons.Unroutable, state.Attempts);
        }

        var attempts = state.Attempts + 1;
        // By attempts, not only by the tier it sits in: a follower moved into a later tier behind its head
        // (ORDERING=key) has not been attempted there, and starts from the first tier.
        var next = state.Tier is { } current ? Math.Min(current + 1, state.Attempts) : 0;
        if (next >= TierDelays.Count)
        {
            // Saturated on every tier: the DLQ says so, rather than a generic retries-exhausted.
            return DeadLetter(verdict.Kind == VerdictKind.Saturated ? DeadLetterReasons.DestinationSaturated : DeadLetterReasons.RetriesExhausted, attempts);
        }

        var capped = false;
        if (verdict.RetryAfter is { } retryAfter)
        {
            capped = retryAfter > maxRetryAfter;
            var wanted = capped ? maxRetryAfter : retryAfter;
            while (next < TierDelays.Count - 1 && TierDelays[next] < wanted)
            {
                next++;
            }
        }

        var delay = TierDelays[next] * (1 + (jitter * ((random * 2) - 1)));
        return new SettleDecision(OutcomeKind.Retried, attempts, next, delay, RetryAfterCapped: capped);

        static SettleDecision DeadLetter(string reason, int attempts) => new(OutcomeKind.DeadLettered, attempts, Reason: reason);
    }
}
