using Streaming.Worker.Admission;

namespace Streaming.Worker.Tests.Admission;

public sealed class AdaptiveLimitTests
{
    private static readonly TimeSpan Target = TimeSpan.FromSeconds(1);

    [Fact]
    public void Overload_halves_the_limit_once_per_round_and_fast_successes_grow_it_back_to_the_ceiling()
    {
        var time = TimeProvider.System;
        var limit = new AdaptiveLimit(16, Target, time);
        Assert.Equal(AdaptiveLimit.Initial, limit.Limit);

        // Slow start: one more per fast 2xx until the first overload.
        for (var i = 0; i < 12; i++)
        {
            limit.Observe(LimitFeedback.Success, time.GetTimestamp(), TimeSpan.FromMilliseconds(50));
        }

        Assert.Equal(16, limit.Limit);
        var started = time.GetTimestamp();
        for (var i = 0; i < 16; i++)
        {
            limit.Observe(LimitFeedback.Overload, started, TimeSpan.FromMilliseconds(5));
        }

        Assert.Equal(8, limit.Limit);
        for (var round = 0; round < 10; round++)
        {
            limit.Observe(LimitFeedback.Overload, time.GetTimestamp(), TimeSpan.FromMilliseconds(5));
        }

        Assert.Equal(1, limit.Limit);
        for (var i = 0; i < 500; i++)
        {
            limit.Observe(LimitFeedback.Success, time.GetTimestamp(), TimeSpan.FromMilliseconds(50));
        }

        Assert.Equal(16, limit.Limit);
    }

    [Fact]
    public void A_destination_that_answers_200_slowly_is_never_granted_more_concurrency_for_it()
    {
        var time = TimeProvider.System;
        var limit = new AdaptiveLimit(16, Target, time);
        for (var i = 0; i < 500; i++)
        {
            limit.Observe(LimitFeedback.Success, time.GetTimestamp(), TimeSpan.FromSeconds(8));
        }

        Assert.Equal(AdaptiveLimit.Initial, limit.Limit);
    }

    [Fact]
    public void A_lower_ceiling_from_a_reload_applies_at_once()
    {
        var limit = new AdaptiveLimit(8, Target, TimeProvider.System);
        limit.SetCeiling(2);
        Assert.Equal(2, limit.Limit);
        Assert.Equal(2, limit.Ceiling);
    }
}
