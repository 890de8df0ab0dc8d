using Streaming.Benchmarks.Infrastructure;

namespace Streaming.Benchmarks.Benchmarks;

/// <summary>One benchmark: fills its report with tables, headline numbers and notes; never judges a number.</summary>
public interface IBenchmark
{
    /// <summary>The command-line name (and JSON file name).</summary>
    string Name { get; }

    string Title { get; }

    /// <summary>How long a full run may take before it is abandoned and reported as such.</summary>
    TimeSpan Budget { get; }

    Task RunAsync(BenchReport report, BenchOptions options);
}
