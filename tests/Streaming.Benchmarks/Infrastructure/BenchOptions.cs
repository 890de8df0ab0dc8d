namespace Streaming.Benchmarks.Infrastructure;

/// <summary>Command line: benchmark names to run (default: all), --quick for a smoke run, --out DIR for the JSON.</summary>
public sealed record BenchOptions(bool Quick, string OutputDirectory, IReadOnlyList<string> Selected)
{
    /// <summary>A full-run figure, or the smaller one for --quick.</summary>
    public int Size(int full, int quick) => Quick ? quick : full;

    public TimeSpan Seconds(double full, double quick) => TimeSpan.FromSeconds(Quick ? quick : full);
}
