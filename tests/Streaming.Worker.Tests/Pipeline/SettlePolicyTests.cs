using Streaming.Contracts;
using Streaming.Worker.Processing;

namespace Streaming.Worker.Tests.Pipeline;

/// <summary>The one outcome switch: delivered, which tier and when, or which dead-letter reason. Pure, no broker.</summary>
public sealed class SettlePolicyTests
{
    private static readonly TimeSpan[] Tiers = [TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30)];
    private const double Jitter = 0.2;
    private static readonly SettlePolicy Policy = new(Tiers, Jitter, TimeSpan.FromHours(1));

    private static RetryState InTier(int? tier, int attempts) => new(attempts, tier, null, null, "whatsapp.messages");

    [Theory]
    [InlineData(VerdictKind.Terminal, DeadLetterReasons.Terminal4xx, 1)]
    [InlineData(VerdictKind.Poison, DeadLetterReasons.Poison, 0)]
    [InlineData(VerdictKind.Unroutable, DeadLetterReasons.Unroutable, 0)]
    public void What_can_never_be_delivered_is_dead_lettered_at_once(VerdictKind kind, string reason, int attempts)
    {
        var decision = Policy.Decide(new Verdict(kind), InTier(null, 0), 0.5);
        Assert.Equal(OutcomeKind.DeadLettered, decision.Kind);
        Assert.Equal(reason, decision.Reason);
        Assert.Equal(attempts, decision.Attempts);
    }

    [Theory]
    [InlineData(VerdictKind.Retryable)]
    [InlineData(VerdictKind.CircuitOpen)]
    [InlineData(VerdictKind.Held)]
    [InlineData(VerdictKind.Saturated)]
    public void A_retryable_verdict_goes_to_the_next_tier_and_after_the_last_to_the_dlq(VerdictKind kind)
    {
        var state = InTier(null, 0);
        for (var tier = 0; tier < Tiers.Length; tier++)
        {
            var decision = Policy.Decide(new Verdict(kind), state, 0.5);
            Assert.Equal(OutcomeKind.Retried, decision.Kind);
            Assert.Equal(tier, decision.Tier);
            Assert.Equal(Tiers[tier], decision.Delay);
            state = InTier(tier, decision.Attempts);
        }

        var last = Policy.Decide(new Verdict(kind), state, 0.5);
        Assert.Equal(OutcomeKind.DeadLettered, last.Kind);
        Assert.Equal(kind == VerdictKind.Saturated ? DeadLetterReasons.DestinationSaturated : DeadLetterReasons.RetriesExhausted, last.Reason);
    }

    [Fact]
    public void A_retry_after_longer_than_the_next_tier_picks_the_first_tier_that_covers_it_never_a_later_not_before()
    {
        var decision = Policy.Decide(new Verdict(VerdictKind.Retryable, 429, "HTTP 429", TimeSpan.FromSeconds(600)), InTier(null, 0), 0.5);
        Assert.Equal(3, decision.Tier);
        Assert.Equal(Tiers[3], decision.Delay);

        var small = Policy.Decide(new Verdict(VerdictKind.Retryable, 503, "HTTP 503", TimeSpan.FromSeconds(20)), InTier(null, 0), 0.5);
        Assert.Equal(1, small.Tier);
        Assert.False(small.RetryAfterCapped);

        var huge = Policy.Decide(new Verdict(VerdictKind.Retryable, 429, "HTTP 429", TimeSpan.FromDays(3)), InTier(null, 0), 0.5);
        Assert.Equal(3, huge.Tier);
        Assert.True(huge.RetryAfterCapped);
    }

    /// <summary>
    /// The invariant, for any sequence of answers: a record's not-before in a tier is never later than
    /// that tier's own delay plus jitter, whatever Retry-After said, so no tier partition is paused for longer.
    /// </summary>
    [Fact]
    public void For_any_sequence_of_answers_no_not_before_runs_ahead_of_its_tiers_delay()
    {
        var random = new Random(20261202);
        VerdictKind[] kinds = [VerdictKind.Retryable, VerdictKind.CircuitOpen, VerdictKind.Held, VerdictKind.Saturated, VerdictKind.Delivered, VerdictKind.Terminal];
        for (var run = 0; run < 5_000; run++)
        {
            var state = InTier(null, 0);
            for (var step = 0; step < 8; step++)
            {
                var kind = kinds[random.Next(kinds.Length)];
                TimeSpan? retryAfter = random.Next(3) == 0 ? TimeSpan.FromSeconds(random.Next(0, 200_000)) : null;
                var decision = Policy.Decide(new Verdict(kind, RetryAfter: retryAfter), state, random.NextDouble());
                if (decision.Kind != OutcomeKind.Retried)
                {
                    break;
                }

                Assert.InRange(decision.Tier, 0, Tiers.Length - 1);
                Assert.True(decision.Delay <= Tiers[decision.Tier] * (1 + Jitter), $"run {run}: {decision.Delay} in tier {decision.Tier}");
                Assert.True(decision.Delay >= Tiers[decision.Tier] * (1 - Jitter));
                Assert.True(decision.Tier >= (state.Tier is { } t ? Math.Min(t + 1, state.Attempts) : 0), "never back to an earlier tier");
                Assert.Equal(retryAfter > TimeSpan.FromHours(1), decision.RetryAfterCapped);
                state = InTier(decision.Tier, decision.Attempts);
            }
        }
    }
}
