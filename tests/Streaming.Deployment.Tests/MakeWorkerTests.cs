using System.Net;
using System.Net.Sockets;

namespace Streaming.Deployment.Tests;

/// <summary>
/// `make worker LANE=...` (one more worker replica of a lane) refuses what it cannot run before it builds or
/// starts anything, and `make bench NAME` hands the names to the benchmarks instead of treating them as targets.
/// (Starting replicas against a running broker is what Streaming.Worker.Tests' ReplicaScalingTests and the
/// issue's closing note show.)
/// </summary>
public sealed class MakeWorkerTests
{
    [Fact]
    public void Without_a_lane_it_asks_for_one()
    {
        var run = MakeRunTests.Make(new Dictionary<string, string> { ["LANE"] = "", ["WORKER_LANE"] = "" }, "worker");
        Assert.True(run.ExitCode != 0, run.Output);
        Assert.Contains("which lane? make worker LANE=messages", run.Stderr);
    }

    [Fact]
    public void An_unknown_lane_is_refused()
    {
        var run = MakeRunTests.Make(new Dictionary<string, string>(), "worker", "LANE=orders");
        Assert.True(run.ExitCode != 0, run.Output);
        Assert.Contains("LANE must be messages or statuses (got 'orders')", run.Stderr);
    }

    [Fact]
    public void A_taken_port_is_named_before_anything_starts()
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port;
        var run = MakeRunTests.Make(
            new Dictionary<string, string> { ["KAFKA_BOOTSTRAP_SERVERS"] = "127.0.0.1:1", ["WORKER_PORT"] = port.ToString() }, "worker", "LANE=messages");
        Assert.True(run.ExitCode != 0, run.Output);
        Assert.Contains($"port {port} (WORKER_PORT) is already in use", run.Stderr);
        Assert.DoesNotContain("one more messages worker", run.Stderr);
    }

    [Fact]
    public void Make_bench_passes_benchmark_names_through()
    {
        var run = MakeRunTests.Make(new Dictionary<string, string>(), "-n", "bench", "replica-scaling");
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("scripts/bench.sh replica-scaling", run.Stdout);
    }
}
