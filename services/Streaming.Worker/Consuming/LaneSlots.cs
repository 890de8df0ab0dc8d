using Microsoft.Extensions.Options;

namespace Streaming.Worker.Consuming;

/// <summary>
/// The lane's buffer (WORKER_MAX_BUFFERED, the memory bound) for the whole process: one semaphore that every
/// consumer of the lane (the main topic's and each tier's) takes a place from per record it dispatches, so
/// the bound stays per process however many consumers read the lane. Deliveries in flight are not counted
/// here: they are the fair admission's (Admission/), so a record waiting for its destination holds no slot.
/// </summary>
public sealed class LaneSlots(IOptions<WorkerOptions> options) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(options.Value.MaxBuffered, options.Value.MaxBuffered);

    public bool AnyFree => _slots.CurrentCount > 0;

    public bool Wait(TimeSpan timeout, CancellationToken ct) => _slots.Wait(timeout, ct);

    public void Release() => _slots.Release();

    public void Dispose() => _slots.Dispose();
}
