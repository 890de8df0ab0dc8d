using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Streaming.Deployment.Tests;

/// <summary>
/// `make run` tells the truth: a port that is already taken is named before anything starts, and
/// "pipeline up" is never printed for a pipeline that cannot be up. (The readiness wait and the
/// exit of a process after start-up are shown by hand in the closing note: they need the
/// whole pipeline built and started.)
/// </summary>
public sealed class MakeRunTests
{
    private static readonly string[] Ports = ["INGRESS_PORT", "MESSAGES_WORKER_PORT", "STATUSES_WORKER_PORT", "SINK_PORT"];

    public static TheoryData<string> PortVariables => new(Ports);

    [Theory]
    [MemberData(nameof(PortVariables))]
    public void A_taken_port_fails_make_run_fast_naming_the_port_and_nothing_starts(string taken)
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port;

        // Every other port free (the defaults may be in use by someone's `make run` on this machine).
        var environment = Ports.ToDictionary(v => v, v => v == taken ? port.ToString() : FreePort().ToString());
        var run = Make(environment, "run");

        Assert.True(run.ExitCode != 0, run.Output);
        Assert.Contains($"port {port} ({taken}) is already in use", run.Stderr);
        Assert.DoesNotContain("pipeline up", run.Stdout + run.Stderr);
        Assert.DoesNotContain("building", run.Stderr);
        Assert.DoesNotContain("[broker]", run.Stdout + run.Stderr);
    }

    [Fact]
    public void Two_processes_given_one_port_are_refused_before_anything_starts()
    {
        var port = FreePort().ToString();
        var run = Make(new Dictionary<string, string> { ["INGRESS_PORT"] = FreePort().ToString(), ["MESSAGES_WORKER_PORT"] = port, ["STATUSES_WORKER_PORT"] = port, ["SINK_PORT"] = FreePort().ToString() }, "run");
        Assert.True(run.ExitCode != 0, run.Output);
        Assert.Contains($"STATUSES_WORKER_PORT and MESSAGES_WORKER_PORT are both {port}", run.Stderr);
        Assert.DoesNotContain("pipeline up", run.Stdout + run.Stderr);
    }

    [Fact]
    public void Make_runs_settings_are_in_the_configuration_reference_and_read_by_the_script()
    {
        var reference = Repo.Read("docs/configuration.md");
        var script = Repo.Read("scripts/run.sh");
        foreach (var (name, value) in new[] { ("MESSAGES_WORKER_PORT", "8081"), ("STATUSES_WORKER_PORT", "8082"), ("SINK_PORT", "8090"), ("RUN_READY_SECONDS", "120") })
        {
            Assert.Contains($"| `{name}` | `{value}` |", reference);
            Assert.Contains($"{name}=${{{name}:-{value}}}", script);
        }

        // streamctl's circuit check reads the workers' metrics from the ports they were given.
        Assert.Contains("WORKER_METRICS_URLS=http://127.0.0.1:%s/metrics,http://127.0.0.1:%s/metrics", script);
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    internal static ToolResult Make(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("make")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Repo.Root,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--no-print-directory");
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start make");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // Failing fast means before any build: far inside this bound even on a loaded machine.
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"make {string.Join(' ', args)} did not fail within 60 s: {stderr.GetAwaiter().GetResult()}");
        }

        return new ToolResult(process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }
}
