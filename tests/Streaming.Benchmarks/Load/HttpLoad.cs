using Streaming.Benchmarks.Infrastructure;

namespace Streaming.Benchmarks.Load;

/// <summary>
/// The HTTP load generator: wrk (Debian's package, installed by scripts/bench.sh) when it is on the
/// PATH, the .NET client otherwise. Every server of one comparison gets the same one, so its ratios
/// hold; which one ran is printed with the machine line.
/// </summary>
public static class HttpLoad
{
    public static string Generator => Wrk.IsAvailable ? "wrk (1 thread, separate process)" : "in-process .NET HttpClient (wrk not found)";

    /// <summary>Closed loop: <paramref name="connections"/> connections, each sending the next body as soon as the last answer came.</summary>
    public static Task<LoadResult> ClosedLoopAsync(Uri url, IReadOnlyList<SignedWebhook> bodies, int connections, TimeSpan duration) =>
        Wrk.IsAvailable ? Wrk.RunAsync(url, bodies, connections, duration) : DotnetLoad.ClosedLoopAsync(url, bodies, connections, duration);
}
