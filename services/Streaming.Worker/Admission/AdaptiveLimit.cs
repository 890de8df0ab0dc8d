namespace Streaming.Worker.Admission;

/// <summary>What one delivery says about the destination's capacity.</summary>
public enum LimitFeedback
{
    /// <summary>2xx: additive increase, if it answered within the latency target.</summary>
    Success,

    /// <summary>429, 503, timeout, connection error: multiplicative decrease.</summary>
    Overload,

    /// <summary>Any other answer: says nothing about capacity.</summary>
    Neutral,
}

/// <summary>
/// A destination's adaptive concurrency limit between 1 and its ceiling: AIMD that notices latency as well
/// as errors. It starts low (<see cref="Initial"/>) and, until the first overload, grows by one per 2xx
/// answered within the latency target (doubling per round, as TCP's slow start); then by 1/limit per such
/// 2xx (about +1 per round). A 2xx slower than the target grows nothing, so a destination that takes
/// seconds to say 200 is never granted more concurrency for it. Halved on overload, at most once per round
/// (only a delivery that started after the last decrease can decrease it again). Written here because no
/// well-kept .NET library offers an adaptive limit (Netflix's concurrency-limits is Java); the waiting
/// itself is <see cref="FairAdmission"/>'s.
/// </summary>
public sealed class AdaptiveLimit(int ceiling, TimeSpan latencyTarget, TimeProvider time)
{
    /// <summary>Where a destination starts: what an unknown one may hold before its first answer.</summary>
    public const int Initial = 4;

    private const double Decrease = 0.5;

    private readonly object _lock = new();
    private double _limit = Math.Min(ceiling, Initial);
    private bool _slowStart = true;
    private int _ceiling = ceiling;
    private long _lastDecrease = long.MinValue;

    public int Limit
    {
        get
        {
            lock (_lock)
            {
                return Math.Max(1, (int)_limit);
            }
        }
    }

    public int Ceiling => Volatile.Read(ref _ceiling);

    /// <summary>A table reload changed maxConcurrency.</summary>
    public void SetCeiling(int value)
    {
        lock (_lock)
        {
            _ceiling = value;
            _limit = Math.Max(1, Math.Min(_limit, value));
        }
    }

    /// <param name="startedAt">The attempt's <see cref="TimeProvider.GetTimestamp"/> when it got its slot.</param>
    /// <param name="latency">How long the destination took to answer.</param>
    public void Observe(LimitFeedback feedback, long startedAt, TimeSpan latency)
    {
        lock (_lock)
        {
            switch (feedback)
            {
                case LimitFeedback.Success when latency <= latencyTarget:
                    _limit = Math.Min(_ceiling, _limit + (_slowStart ? 1 : 1.0 / Math.Max(1, _limit)));
                    break;
                case LimitFeedback.Overload when startedAt > _lastDecrease:
                    _slowStart = false;
                    _limit = Math.Max(1, _limit * Decrease);
                    _lastDecrease = time.GetTimestamp();
                    break;
            }
        }
    }
}
