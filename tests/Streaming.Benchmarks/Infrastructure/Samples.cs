namespace Streaming.Benchmarks.Infrastructure;

/// <summary>Latency samples in milliseconds; thread-safe to add, exact percentiles (runs are bounded, so all samples fit).</summary>
public sealed class Samples
{
    private readonly List<double> _values = [];
    private readonly Lock _gate = new();

    public Samples()
    {
    }

    public Samples(IEnumerable<double> values) => _values.AddRange(values);

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _values.Count;
            }
        }
    }

    public void Add(double millis)
    {
        lock (_gate)
        {
            _values.Add(millis);
        }
    }

    public void AddRange(IEnumerable<double> millis)
    {
        lock (_gate)
        {
            _values.AddRange(millis);
        }
    }

    /// <summary>Nearest-rank percentile (0–100); NaN without samples.</summary>
    public double Percentile(double p)
    {
        double[] sorted;
        lock (_gate)
        {
            sorted = [.. _values];
        }

        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        Array.Sort(sorted);
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public double Max
    {
        get
        {
            lock (_gate)
            {
                return _values.Count == 0 ? double.NaN : _values.Max();
            }
        }
    }
}
