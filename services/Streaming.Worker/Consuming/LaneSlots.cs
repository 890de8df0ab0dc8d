using Microsoft.Extensions.Options;

namespace Streaming.Worker.Consuming;

/// <summary>
/// The lane's in-flight budget (WORKER_MAX_IN_FLIGHT) for the whole process: one semaphore that every
/// consumer of the lane (the main topic's and each tier's) takes a slot from per record it dispatches, so
/// the budget stays per process however many consumers read the lane.
/// </summary>
public sealed class LaneSlots(IOptions<WorkerOptions> options) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(options.Value.MaxInFlight, options.Value.MaxInFlight);

    public bool AnyFree => _slots.CurrentCount > 0;

    public bool Wait(TimeSpan timeout, CancellationToken ct) => _slots.Wait(timeout, ct);

    public void Release() => _slots.Release();

    public void Dispose() => _slots.Dispose();
}
