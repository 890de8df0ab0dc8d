namespace Streaming.Worker.Admission;

/// <summary>
/// A destination's <c>maxRatePerSecond</c>, as the generic cell rate algorithm: each event reserves the next
/// theoretical send time on a schedule of one per 1/rate s, with a burst of a tenth of a second's worth.
/// The schedule, not the timer, sets the pace, so late timers on a busy machine do not lower the rate
/// (System.Threading.RateLimiting's token bucket adds a fixed number of tokens per timer tick, and read
/// 16 of 20 per second under load). Waiting here holds no slot of the lane's budget.
/// </summary>
public sealed class Pacer
{
    private readonly object _lock = new();
    private readonly TimeProvider _time;
    private readonly double _interval;
    private readonly double _tolerance;
    private double _theoretical = double.MinValue;

    public Pacer(double perSecond, TimeProvider time)
    {
        PerSecond = perSecond;
        _time = time;
        _interval = time.TimestampFrequency / perSecond;
        _tolerance = (Math.Max(1, Math.Floor(perSecond / 10)) - 1) * _interval;
    }

    public double PerSecond { get; }

    /// <summary>Waits for this event's turn; false, reserving nothing, when that is further away than <paramref name="maxWait"/>.</summary>
    public async Task<bool> WaitAsync(TimeSpan maxWait, CancellationToken ct)
    {
        TimeSpan wait;
        lock (_lock)
        {
            double now = _time.GetTimestamp();
            var theoretical = Math.Max(_theoretical, now);
            var allowedAt = theoretical - _tolerance;
            wait = TimeSpan.FromSeconds(Math.Max(0, allowedAt - now) / _time.TimestampFrequency);
            if (maxWait != Timeout.InfiniteTimeSpan && wait > maxWait)
            {
                return false;
            }

            _theoretical = theoretical + _interval;
        }

        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, _time, ct);
        }

        return true;
    }
}
