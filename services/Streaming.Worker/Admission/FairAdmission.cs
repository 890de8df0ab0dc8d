namespace Streaming.Worker.Admission;

/// <summary>
/// The lane's in-flight budget (WORKER_MAX_IN_FLIGHT), shared fairly between the destinations that have
/// work. Only an HTTP attempt holds a slot: waiting for a destination, its rate limit or a key's previous
/// event holds none. Freed slots go round robin to the destinations with waiters, and no destination may
/// hold more than its share: the budget divided by the destinations with work, plus one share kept for
/// a destination that has none yet while the table knows more destinations than are busy. So any number
/// of slow destinations, each capped at its share, leaves a healthy one its own. Written here because
/// System.Threading.RateLimiting has no fair, keyed concurrency limiter.
/// </summary>
public sealed class FairAdmission(int budget, TimeProvider time)
{
    private readonly object _lock = new();
    private readonly LinkedList<Tenant> _ring = new();
    private int _total;
    private int _active;
    private int _known = 1;

    public int Budget { get; } = budget;

    public int InFlight => Volatile.Read(ref _total);

    /// <summary>How many destinations can take this lane's events (the table in force); reserves a share for an idle one.</summary>
    public int KnownDestinations
    {
        set
        {
            lock (_lock)
            {
                _known = Math.Max(1, value);
                PumpLocked();
            }
        }
    }

    /// <summary>One destination's place in the lane's budget; <paramref name="limit"/> is its own adaptive limit.</summary>
    public Tenant Join(string name, Func<int> limit) => new(this, name, limit);

    /// <summary>The most slots <paramref name="tenant"/> may hold now.</summary>
    internal int ShareOf(Tenant tenant)
    {
        lock (_lock)
        {
            return ShareLocked(tenant);
        }
    }

    private int ShareLocked(Tenant tenant)
    {
        var active = _active + (tenant.IsActive ? 0 : 1);
        var reserve = _known > active ? 1 : 0;
        return Math.Max(1, Budget / (active + reserve));
    }

    private bool EligibleLocked(Tenant t) => _total < Budget && t.InFlight < t.Limit() && t.InFlight < ShareLocked(t);

    private async ValueTask<Slot?> EnterAsync(Tenant t, int maxWaiting, TimeSpan maxWait, CancellationToken ct)
    {
        TaskCompletionSource<Slot> waiter;
        LinkedListNode<TaskCompletionSource<Slot>> node;
        lock (_lock)
        {
            if (t.Waiters.Count == 0 && EligibleLocked(t))
            {
                return GrantLocked(t);
            }

            if (maxWait <= TimeSpan.Zero || t.Waiters.Count >= maxWaiting)
            {
                return null;
            }

            Activate(t);
            waiter = new TaskCompletionSource<Slot>(TaskCreationOptions.RunContinuationsAsynchronously);
            node = t.Waiters.AddLast(waiter);
            if (t.RingNode is null)
            {
                t.RingNode = _ring.AddLast(t);
            }
        }

        try
        {
            return await waiter.Task.WaitAsync(maxWait, time, ct);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            lock (_lock)
            {
                if (waiter.Task.IsCompletedSuccessfully)
                {
                    // Granted just as the wait ended: hand the slot on.
                    ReleaseLocked(t);
                }
                else
                {
                    t.Waiters.Remove(node);
                    LeaveRingIfIdle(t);
                    DeactivateIfIdle(t);
                }
            }

            if (e is OperationCanceledException)
            {
                throw;
            }

            return null;
        }
    }

    private Slot GrantLocked(Tenant t)
    {
        Activate(t);
        t.InFlight++;
        _total++;
        return new Slot(t);
    }

    private void Release(Tenant t)
    {
        lock (_lock)
        {
            ReleaseLocked(t);
        }
    }

    private void ReleaseLocked(Tenant t)
    {
        t.InFlight--;
        _total--;
        DeactivateIfIdle(t);
        PumpLocked();
    }

    /// <summary>Hands free slots to waiting destinations, one at a time, round robin.</summary>
    private void PumpLocked()
    {
        var passWithoutGrant = 0;
        while (_total < Budget && _ring.First is { } first && passWithoutGrant < _ring.Count)
        {
            var t = first.Value;
            _ring.RemoveFirst();
            if (t.Waiters.First is { } w && EligibleLocked(t))
            {
                t.Waiters.RemoveFirst();
                if (w.Value.TrySetResult(GrantLocked(t)))
                {
                    passWithoutGrant = 0;
                }
            }
            else
            {
                passWithoutGrant++;
            }

            t.RingNode = t.Waiters.Count > 0 ? _ring.AddLast(t) : null;
        }
    }

    private void Activate(Tenant t)
    {
        if (!t.IsActive)
        {
            t.IsActive = true;
            _active++;
        }
    }

    private void DeactivateIfIdle(Tenant t)
    {
        if (t.IsActive && t.InFlight == 0 && t.Waiters.Count == 0)
        {
            t.IsActive = false;
            _active--;
        }
    }

    private void LeaveRingIfIdle(Tenant t)
    {
        if (t.Waiters.Count == 0 && t.RingNode is { } node)
        {
            _ring.Remove(node);
            t.RingNode = null;
        }
    }

    /// <summary>One destination in the lane's budget.</summary>
    public sealed class Tenant
    {
        private readonly FairAdmission _owner;

        internal Tenant(FairAdmission owner, string name, Func<int> limit)
        {
            _owner = owner;
            Name = name;
            Limit = limit;
        }

        public string Name { get; }

        internal Func<int> Limit { get; }

        internal int InFlight { get; set; }

        internal bool IsActive { get; set; }

        internal LinkedList<TaskCompletionSource<Slot>> Waiters { get; } = new();

        internal LinkedListNode<Tenant>? RingNode { get; set; }

        public int Waiting
        {
            get
            {
                lock (_owner._lock)
                {
                    return Waiters.Count;
                }
            }
        }

        public int Held
        {
            get
            {
                lock (_owner._lock)
                {
                    return InFlight;
                }
            }
        }

        /// <summary>The most slots this destination may hold now (its fair share of the lane's budget).</summary>
        public int Share => _owner.ShareOf(this);

        /// <summary>A slot now, or after waiting at most <paramref name="maxWait"/> behind at most <paramref name="maxWaiting"/> others; null: none.</summary>
        public ValueTask<Slot?> EnterAsync(int maxWaiting, TimeSpan maxWait, CancellationToken ct) => _owner.EnterAsync(this, maxWaiting, maxWait, ct);

        internal void Release() => _owner.Release(this);
    }

    /// <summary>A held slot of the lane's budget; disposing it hands it on.</summary>
    public sealed class Slot : IDisposable
    {
        private Tenant? _tenant;

        internal Slot(Tenant tenant) => _tenant = tenant;

        public void Dispose() => Interlocked.Exchange(ref _tenant, null)?.Release();
    }
}
