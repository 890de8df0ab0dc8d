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

        // Five at once (a tenth of a second's worth), then one per 20 ms: the 35th is allowed 30 intervals (0.6 s) after the first.
        Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(0.6));
        for (var i = 0; i < 30; i++)
        {
            Assert.True(await pacer.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
        }

        // Not one interval earlier than its schedule (a timer may round a delay down by a millisecond).
        Assert.True(TimeProvider.System.GetElapsedTime(started) >= TimeSpan.FromSeconds(0.58), $"35 events in {TimeProvider.System.GetElapsedTime(started)}");
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
