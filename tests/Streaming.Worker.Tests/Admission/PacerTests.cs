using Streaming.Worker.Admission;

namespace Streaming.Worker.Tests.Admission;

public sealed class PacerTests
{
    [Fact]
    public async Task Events_are_paced_to_the_rate_after_a_burst_of_a_tenth_of_a_second()
    {
        var pacer = new Pacer(50, TimeProvider.System);
        var started = TimeProvider.System.GetTimestamp();
        for (var i = 0; i < 5; i++)
        {
            Assert.True(await pacer.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
        }

        // Five at once (a tenth of a second's worth), then one per 20 ms: 30 more take 0.6 s at the least.
        Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(0.6));
        for (var i = 0; i < 30; i++)
        {
            Assert.True(await pacer.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
        }

        Assert.True(TimeProvider.System.GetElapsedTime(started) >= TimeSpan.FromSeconds(0.6));
    }

    [Fact]
    public async Task A_turn_further_away_than_the_wait_allowed_is_refused_and_reserves_nothing()
    {
        var pacer = new Pacer(1, TimeProvider.System);
        Assert.True(await pacer.WaitAsync(TimeSpan.Zero, CancellationToken.None));
        Assert.False(await pacer.WaitAsync(TimeSpan.FromMilliseconds(100), CancellationToken.None));
        Assert.False(await pacer.WaitAsync(TimeSpan.FromMilliseconds(100), CancellationToken.None));
    }
}
