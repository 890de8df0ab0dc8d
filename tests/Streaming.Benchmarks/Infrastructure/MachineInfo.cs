using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Streaming.Testing;

namespace Streaming.Benchmarks.Infrastructure;

/// <summary>Where the numbers come from: cores, memory, CPU model, runtime, git commit, load before the run.</summary>
public sealed record MachineInfo(
    int Cores, double MemoryGiB, string CpuModel, string Os, string Runtime, string GitCommit, bool GitDirty, string LoadGenerator, string Broker, DateTimeOffset StartedAt, string LoadAverage)
{
    public static MachineInfo Collect(string loadGenerator, string broker)
    {
        var commit = Git("rev-parse --short=12 HEAD") ?? "unknown";
        var dirty = !string.IsNullOrWhiteSpace(Git("status --porcelain --untracked-files=no"));
        return new MachineInfo(
            Environment.ProcessorCount,
            Math.Round(MemTotalKiB() / 1024.0 / 1024.0, 1),
            ReadCpuModel(),
            RuntimeInformation.OSDescription,
            RuntimeInformation.FrameworkDescription,
            commit,
            dirty,
            loadGenerator,
            broker,
            DateTimeOffset.UtcNow,
            File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a");
    }

    public string Summary =>
        $"{Cores} cores ({CpuModel}), {MemoryGiB:0.#} GiB, {Os}, {Runtime}; commit {GitCommit}{(GitDirty ? " (with uncommitted changes)" : "")}; " +
        $"broker: {Broker}; HTTP load generator: {LoadGenerator}; load average before the run: {LoadAverage}";

    public JsonObject ToJson() => new()
    {
        ["cores"] = Cores,
        ["memoryGiB"] = MemoryGiB,
        ["cpuModel"] = CpuModel,
        ["os"] = Os,
        ["runtime"] = Runtime,
        ["gitCommit"] = GitCommit,
        ["gitDirty"] = GitDirty,
        ["loadGenerator"] = LoadGenerator,
        ["broker"] = Broker,
        ["startedAt"] = StartedAt.ToString("O"),
        ["loadAverageBefore"] = LoadAverage,
    };

    private static long MemTotalKiB()
    {
        if (!File.Exists("/proc/meminfo"))
        {
            return 0;
        }

        var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string ReadCpuModel()
    {
        if (!File.Exists("/proc/cpuinfo"))
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }

        var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        return line?.Split(':', 2)[1].Trim() ?? RuntimeInformation.ProcessArchitecture.ToString();
    }

    private static string? Git(string arguments)
    {
        try
        {
            var info = new ProcessStartInfo("git", arguments)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = Fixtures.RepositoryRoot,
            };
            using var git = Process.Start(info)!;
            var output = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit(5000);
            return git.ExitCode == 0 ? output : null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or DirectoryNotFoundException)
        {
            return null;
        }
    }
}
