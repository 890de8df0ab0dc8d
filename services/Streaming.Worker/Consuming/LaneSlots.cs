using Microsoft.Extensions.Options;

namespace Streaming.Worker.Consuming;

/// <summary>
/// The lane's buffer (WORKER_MAX_BUFFERED, the memory bound) for the whole process: one semaphore that every
/// consumer of the lane (the main topic's and each tier's) takes a place from per record it dispatches, so
/// the bound stays per process however many consumers read the lane. Deliveries in flight are not counted
/// here: they are the fair admission's (Admission/), so a record waiting for its destination holds no slot.
/// <para>
/// A record that waits for its key's previous event gives its place back and counts among the key-waiting
/// records instead (at most four times WORKER_MAX_BUFFERED): a slow destination's conversations, each
/// waiting for an answer seconds away, would otherwise fill the buffer and stop the lane for every
/// other destination. Both counts together are the memory bound.
/// </para>
/// </summary>
public sealed class LaneSlots(IOptions<WorkerOptions> options) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(options.Value.MaxBuffered, options.Value.MaxBuffered);
    private readonly int _maxKeyWaiting = 4 * options.Value.MaxBuffered;
    private int _keyWaiting;

    public bool AnyFree => _slots.CurrentCount > 0 && Volatile.Read(ref _keyWaiting) < _maxKeyWaiting;

    /// <summary>Records dispatched that wait for their key's previous event.</summary>
    public int KeyWaiting => Volatile.Read(ref _keyWaiting);

    /// <summary>The record just dispatched waits for its key's previous event: its buffer place goes back.</summary>
    public void ToKeyWaiting()
    {
        Interlocked.Increment(ref _keyWaiting);
        _slots.Release();
    }

    /// <summary>A key-waiting record settled.</summary>
    public void ReleaseKeyWaiting() => Interlocked.Decrement(ref _keyWaiting);

    public bool Wait(TimeSpan timeout, CancellationToken ct) => Volatile.Read(ref _keyWaiting) < _maxKeyWaiting && _slots.Wait(timeout, ct);

    public void Release() => _slots.Release();

    public void Dispose() => _slots.Dispose();
}
