using Streaming.Worker.Destinations;

namespace Streaming.Worker.Tests.Destinations;

/// <summary>The adaptive concurrency limit: AIMD between 1 and the ceiling, bounded waits.</summary>
public sealed class AimdLimiterTests
{
    private static async Task<int> FillAsync(AimdLimiter limiter)
    {
        var taken = 0;
        while (await limiter.AcquireAsync(TimeSpan.Zero, CancellationToken.None))
        {
            taken++;
        }

        return taken;
    }

    [Fact]
    public async Task Overload_halves_the_limit_once_per_round_and_successes_grow_it_back_to_the_ceiling()
    {
        var time = TimeProvider.System;
        var limiter = new AimdLimiter(16, time);
        Assert.Equal(16, await FillAsync(limiter));

        // A burst of failures of deliveries that started together counts once.
        var started = time.GetTimestamp();
        for (var i = 0; i < 16; i++)
        {
            limiter.Release(LimitFeedback.Overload, started);
        }

        Assert.Equal(8, limiter.Limit);
        Assert.Equal(0, limiter.InFlight);

        // Rounds of overload (each started after the last decrease) go down to 1 and no further.
        for (var round = 0; round < 10; round++)
        {
            Assert.True(await limiter.AcquireAsync(TimeSpan.Zero, CancellationToken.None));
            limiter.Release(LimitFeedback.Overload, time.GetTimestamp());
        }

        Assert.Equal(1, limiter.Limit);
        Assert.Equal(1, await FillAsync(limiter));
        limiter.Release(LimitFeedback.Neutral, started);

        for (var i = 0; i < 500; i++)
        {
            Assert.True(await limiter.AcquireAsync(TimeSpan.Zero, CancellationToken.None));
            limiter.Release(LimitFeedback.Success, time.GetTimestamp());
        }

        Assert.Equal(16, limiter.Limit);
    }

    [Fact]
    public async Task A_waiter_gets_a_freed_slot_and_a_wait_that_outlasts_its_bound_gives_up()
    {
        var limiter = new AimdLimiter(1, TimeProvider.System);
        Assert.True(await limiter.AcquireAsync(TimeSpan.Zero, CancellationToken.None));
        Assert.False(await limiter.AcquireAsync(TimeSpan.FromMilliseconds(50), CancellationToken.None));

        var waiting = limiter.AcquireAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        limiter.Release(LimitFeedback.Success, 0);
        Assert.True(await waiting);
        Assert.Equal(1, limiter.InFlight);
    }

    [Fact]
    public async Task A_lower_ceiling_from_a_reload_applies_to_the_next_acquisitions()
    {
        var limiter = new AimdLimiter(8, TimeProvider.System);
        limiter.SetCeiling(3);
        Assert.Equal(3, await FillAsync(limiter));
        Assert.Equal(3, limiter.Limit);
    }
}
