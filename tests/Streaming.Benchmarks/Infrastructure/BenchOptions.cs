namespace Streaming.Benchmarks.Infrastructure;

/// <summary>From the command line: --quick for a smoke run, --out DIR for the JSON and results.md.</summary>
public sealed record BenchOptions(bool Quick, string OutputDirectory)
{
    /// <summary>A full-run figure, or the smaller one for --quick.</summary>
    public int Size(int full, int quick) => Quick ? quick : full;

    public TimeSpan Seconds(double full, double quick) => TimeSpan.FromSeconds(Quick ? quick : full);
}
