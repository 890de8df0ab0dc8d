namespace Streaming.Worker.Destinations;

/// <summary>What one delivery says about the destination's capacity.</summary>
internal enum LimitFeedback
{
    /// <summary>2xx: additive increase.</summary>
    Success,

    /// <summary>429, 503, timeout, connection error: multiplicative decrease.</summary>
    Overload,

    /// <summary>Any other answer: says nothing about capacity.</summary>
    Neutral,
}

/// <summary>
/// An adaptive concurrency limit between 1 and a ceiling, AIMD: +1/limit per success (about +1 per
/// round of the limit's worth of deliveries), halved on overload, at most once per round (only a
/// delivery that started after the last decrease can decrease it again, so one burst of failures counts
/// once). Written here because System.Threading.RateLimiting's ConcurrencyLimiter has a fixed permit
/// count and no well-kept .NET library offers AIMD (Netflix's concurrency-limits is Java). Waiters are
/// served first come, first served; a wait is bounded by a timeout.
/// </summary>
internal sealed class AimdLimiter(int ceiling, TimeProvider time)
{
    private const double Decrease = 0.5;

    private readonly object _lock = new();
    private readonly LinkedList<TaskCompletionSource> _waiters = new();
    private double _limit = ceiling;
    private int _ceiling = ceiling;
    private int _inFlight;
    private long _lastDecrease = long.MinValue;

    public int Limit
    {
        get
        {
            lock (_lock)
            {
                return Permits;
            }
        }
    }

    public int InFlight => Volatile.Read(ref _inFlight);

    public int Ceiling => Volatile.Read(ref _ceiling);

    private int Permits => Math.Max(1, (int)_limit);

    /// <summary>A table reload changed maxConcurrency.</summary>
    public void SetCeiling(int value)
    {
        lock (_lock)
        {
            _ceiling = value;
            _limit = Math.Min(_limit, value);
            if (_limit < 1)
            {
                _limit = 1;
            }

            PumpLocked();
        }
    }

    /// <summary>A slot, or false when none freed up within <paramref name="wait"/>.</summary>
    public async Task<bool> AcquireAsync(TimeSpan wait, CancellationToken ct)
    {
        TaskCompletionSource waiter;
        LinkedListNode<TaskCompletionSource> node;
        lock (_lock)
        {
            if (_waiters.Count == 0 && _inFlight < Permits)
            {
                _inFlight++;
                return true;
            }

            if (wait <= TimeSpan.Zero)
            {
                return false;
            }

            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            node = _waiters.AddLast(waiter);
        }

        try
        {
            await waiter.Task.WaitAsync(wait, time, ct);
            return true;
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            lock (_lock)
            {
                if (waiter.Task.IsCompletedSuccessfully)
                {
                    // Granted just as the wait ended: hand the slot on.
                    _inFlight--;
                    PumpLocked();
                }
                else
                {
                    _waiters.Remove(node);
                }
            }

            if (e is OperationCanceledException)
            {
                throw;
            }

            return false;
        }
    }

    /// <param name="startedAt">The delivery's <see cref="TimeProvider.GetTimestamp"/> when it got its slot.</param>
    public void Release(LimitFeedback feedback, long startedAt)
    {
        lock (_lock)
        {
            _inFlight--;
            switch (feedback)
            {
                case LimitFeedback.Success:
                    _limit = Math.Min(_ceiling, _limit + (1.0 / Math.Max(1, _limit)));
                    break;
                case LimitFeedback.Overload when startedAt > _lastDecrease:
                    _limit = Math.Max(1, _limit * Decrease);
                    _lastDecrease = time.GetTimestamp();
                    break;
            }

            PumpLocked();
        }
    }

    private void PumpLocked()
    {
        while (_waiters.First is { } first && _inFlight < Permits)
        {
            _waiters.RemoveFirst();
            _inFlight++;
            first.Value.TrySetResult();
        }
    }
}
