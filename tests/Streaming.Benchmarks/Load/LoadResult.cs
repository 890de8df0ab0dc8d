namespace Streaming.Benchmarks.Load;

/// <summary>What one load run measured. Latencies in milliseconds; <see cref="Ok"/> counts 2xx answers only.</summary>
public sealed record LoadResult(long Ok, long Failed, double Seconds, double P50, double P99, double P999, double Max, string Generator)
{
    /// <summary>2xx answers per second.</summary>
    public double Rate => Seconds > 0 ? Ok / Seconds : 0;
}
