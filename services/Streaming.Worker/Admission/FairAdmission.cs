namespace Streaming.Worker.Admission;

/// <summary>
/// The lane's in-flight budget (WORKER_MAX_IN_FLIGHT), shared fairly between the destinations that have
/// work. Only an HTTP attempt holds a slot: waiting for a destination, its rate limit or a key's previous
/// event holds none. Freed slots go round robin to the destinations with waiters, and while another waits
/// below its share no destination takes more than its own: the budget divided by the destinations with
/// work, plus one share kept for a destination that has none yet while the table knows more than are busy.
/// <para>
/// Slots cannot be taken back, and a slow destination holds its slots for seconds, so shares alone would
/// let destinations that arrived first keep what a later one needs. Hence a reserve: destinations not
/// proven fast (answers slower than the latency target, or none yet) hold together at most the budget
/// less a quarter; one not yet known either way may always probe with one slot. Any number of slow
/// destinations then leaves a healthy one a quarter of the budget, and its share as the slow ones' slots
/// come back. Written here because
/// System.Threading.RateLimiting has no fair, keyed concurrency limiter.
/// </para>
/// </summary>
public sealed class FairAdmission(int budget, TimeProvider time)
{
    private readonly object _lock = new();
    private readonly LinkedList<Tenant> _ring = new();
    private int _total;
    private int _unproven;
    private int _active;
    private int _known = 1;

    public int Budget { get; } = budget;

    public int InFlight => Volatile.Read(ref _total);

    /// <summary>One destination known (no table): nobody to protect, so its events wait for it however long.</summary>
    public bool Alone => Volatile.Read(ref _known) <= 1;

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

    /// <summary>Kept from destinations not proven fast while more destinations than one are known.</summary>
    private int Reserve => _known > 1 ? Math.Max(1, Budget / 4) : 0;

    /// <summary>
    /// One destination's place in the lane's budget: <paramref name="limit"/> is its own adaptive limit,
    /// <paramref name="fast"/> whether its recent answers came within the latency target (null: no answer yet).
    /// </summary>
    public Tenant Join(string name, Func<int> limit, Func<bool?>? fast = null) => new(this, name, limit, fast ?? (static () => true));

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

    private bool EligibleLocked(Tenant t) =>
        _total < Budget && t.InFlight < t.Limit()
        && (t.Fast() is true || (t.InFlight == 0 && t.Fast() is null) || _unproven < Budget - Reserve)
        && (t.InFlight < ShareLocked(t) || !AnotherWaitsBelowShareLocked(t));

    /// <summary>
    /// Shares bind only under contention: a destination past its share may take a free slot while no other
    /// destination waits that is still below its own. So a destination alone keeps the whole budget.
    /// </summary>
    private bool AnotherWaitsBelowShareLocked(Tenant t)
    {
        foreach (var other in _ring)
        {
            if (other != t && other.Waiters.Count > 0 && other.InFlight < Math.Min(ShareLocked(other), other.Limit()))
            {
                return true;
            }
        }

        return false;
    }

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

            if ((maxWait <= TimeSpan.Zero && maxWait != Timeout.InfiniteTimeSpan) || t.Waiters.Count >= maxWaiting)
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
                    waiter.Task.Result.Dispose(locked: true);
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
        var unproven = t.Fast() is not true;
        if (unproven)
        {
            _unproven++;
        }

        return new Slot(t, unproven);
    }

    private void Release(Tenant t, bool unproven)
    {
        lock (_lock)
        {
            ReleaseLocked(t, unproven);
        }
    }

    private void ReleaseLocked(Tenant t, bool unproven)
    {
        t.InFlight--;
        _total--;
        if (unproven)
        {
            _unproven--;
        }

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

        internal Tenant(FairAdmission owner, string name, Func<int> limit, Func<bool?> fast)
        {
            _owner = owner;
            Name = name;
            Limit = limit;
            Fast = fast;
        }

        public string Name { get; }

        internal Func<int> Limit { get; }

        internal Func<bool?> Fast { get; }

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

        internal void Release(bool unproven, bool locked)
        {
            if (locked)
            {
                _owner.ReleaseLocked(this, unproven);
            }
            else
            {
                _owner.Release(this, unproven);
            }
        }
    }

    /// <summary>A held slot of the lane's budget; disposing it hands it on.</summary>
    public sealed class Slot : IDisposable
    {
        private readonly bool _unproven;
        private Tenant? _tenant;

        internal Slot(Tenant tenant, bool unproven)
        {
            _tenant = tenant;
            _unproven = unproven;
        }

        public void Dispose() => Dispose(locked: false);

        internal void Dispose(bool locked) => Interlocked.Exchange(ref _tenant, null)?.Release(_unproven, locked);
    }
}
