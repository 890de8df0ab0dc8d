using Microsoft.Extensions.Options;

namespace Streaming.Ingress.Publishing;

/// <summary>
/// How loaded the producer is: bytes awaiting acknowledgement and recent produce latency. When either
/// is over its threshold, webhooks that carry only low-priority events are shed so customer messages
/// keep the producer's capacity (Meta redelivers shed webhooks for days).
/// </summary>
public sealed class ProducerPressure(IOptions<IngressOptions> options, TimeProvider time)
{
    // A latency reading this old says nothing about now; without the cut-off, shedding every
    // low-priority webhook would leave no fresh reading to ever stop shedding.
    private static readonly TimeSpan LatencyMemory = TimeSpan.FromSeconds(2);
    private const double Smoothing = 0.2;

    private readonly IngressOptions _options = options.Value;
    private readonly Lock _gate = new();
    private long _inFlightBytes;
    private double _latencyMs;
    private long _latencyAt;

    public long InFlightBytes => Interlocked.Read(ref _inFlightBytes);

    public double RecentLatencyMs
    {
        get
        {
            lock (_gate)
            {
                return time.GetElapsedTime(_latencyAt) > LatencyMemory ? 0 : _latencyMs;
            }
        }
    }

    public bool IsSaturated => InFlightBytes > _options.ShedInFlightBytes || RecentLatencyMs > _options.ShedLatencyMs;

    public void Started(long bytes) => Interlocked.Add(ref _inFlightBytes, bytes);

    public void Finished(long bytes) => Interlocked.Add(ref _inFlightBytes, -bytes);

    public void ObserveLatency(TimeSpan latency)
    {
        lock (_gate)
        {
            var fresh = time.GetElapsedTime(_latencyAt) <= LatencyMemory;
            _latencyMs = fresh ? (Smoothing * latency.TotalMilliseconds) + ((1 - Smoothing) * _latencyMs) : latency.TotalMilliseconds;
            _latencyAt = time.GetTimestamp();
        }
    }
}
