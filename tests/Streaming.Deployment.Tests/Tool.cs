using System.Diagnostics;

namespace Streaming.Deployment.Tests;

public sealed record ToolResult(int ExitCode, string Stdout, string Stderr)
{
    public string Output => $"exit {ExitCode}\n{Stdout}\n{Stderr}";
}

/// <summary>Runs a command-line tool with optional standard input, bounded in time.</summary>
public static class Tool
{
    public static ToolResult Run(string file, IEnumerable<string> args, string? stdin = null, int timeoutSeconds = 120)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Repo.Root,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // kubectl must never reach for a cluster here: point it at no configuration.
        start.Environment["KUBECONFIG"] = "/dev/null";
        start.Environment["HELM_CACHE_HOME"] = Path.Combine(Path.GetTempPath(), "streaming-helm-cache");
        start.Environment["HELM_CONFIG_HOME"] = Path.Combine(Path.GetTempPath(), "streaming-helm-config");
        start.Environment["HELM_DATA_HOME"] = Path.Combine(Path.GetTempPath(), "streaming-helm-data");

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
        }

        process.StandardInput.Close();
        if (!process.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {timeoutSeconds} s");
        }

        return new ToolResult(process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }
}
