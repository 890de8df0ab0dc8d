using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Streaming.Benchmarks.Infrastructure;

namespace Streaming.Benchmarks.Load;

/// <summary>
/// Runs wrk against a URL with a pool of signed webhook bodies, sent in turn by a Lua script that
/// prints one JSON line (requests, errors, p50/p99/p99.9 in µs) at the end.
/// </summary>
public static class Wrk
{
    private const string Script = """
        -- Streaming.Benchmarks: POSTs signed webhook bodies ("signature<TAB>body" per line of args[1]) in turn.
        local counter = 0
        function setup(thread)
          thread:set("id", counter)
          counter = counter + 1
        end

        local requests = {}
        local i = 0
        function init(args)
          for line in io.lines(args[1]) do
            local tab = line:find("\t", 1, true)
            requests[#requests + 1] = wrk.format("POST", nil,
              { ["Content-Type"] = "application/json", ["X-Hub-Signature-256"] = line:sub(1, tab - 1) }, line:sub(tab + 1))
          end
          i = (id * 7919) % #requests
        end

        function request()
          i = i + 1
          if i > #requests then i = 1 end
          return requests[i]
        end

        function done(summary, latency, requests)
          io.write(string.format(
            "WRKJSON {\"requests\":%d,\"durationUs\":%d,\"connect\":%d,\"read\":%d,\"write\":%d,\"status\":%d,\"timeout\":%d,\"p50\":%d,\"p99\":%d,\"p999\":%d,\"max\":%d}\n",
            summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write,
            summary.errors.status, summary.errors.timeout,
            latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
        end
        """;

    private static readonly Lazy<string> WorkDirectory = new(() => Directory.CreateTempSubdirectory("streaming-bench-").FullName);
    private static readonly ConditionalWeakTable<IReadOnlyList<SignedWebhook>, string> BodyFiles = new();
    private static readonly Lazy<bool> Available = new(() => FindOnPath("wrk") is not null);
    private static readonly Lazy<string> ScriptPath = new(() =>
    {
        var path = Path.Combine(WorkDirectory.Value, "webhooks.lua");
        File.WriteAllText(path, Script);
        return path;
    });

    public static bool IsAvailable => Available.Value;


    public static async Task<LoadResult> RunAsync(Uri url, IReadOnlyList<SignedWebhook> bodies, int connections, TimeSpan duration)
    {
        var bodyFile = BodyFiles.GetValue(bodies, WriteBodies);
        var seconds = Math.Max(1, (int)Math.Round(duration.TotalSeconds));
        var info = new ProcessStartInfo("wrk",
        [
            "-t1", $"-c{connections}", $"-d{seconds}s", "--timeout", "10s", "-s", ScriptPath.Value, new Uri(url, "/webhook").ToString(), "--", bodyFile,
        ])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var wrk = Process.Start(info) ?? throw new InvalidOperationException("wrk did not start");
        var stdout = wrk.StandardOutput.ReadToEndAsync();
        var stderr = wrk.StandardError.ReadToEndAsync();
        using var bound = new CancellationTokenSource(duration + TimeSpan.FromSeconds(30));
        await wrk.WaitForExitAsync(bound.Token);
        var line = (await stdout).Split('\n').FirstOrDefault(l => l.StartsWith("WRKJSON ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"wrk printed no result (exit {wrk.ExitCode}): {await stderr}");
        using var json = JsonDocument.Parse(line["WRKJSON ".Length..]);
        var r = json.RootElement;
        long Get(string name) => r.GetProperty(name).GetInt64();
        var requests = Get("requests");
        var failedAnswers = Get("status");
        var socketErrors = Get("connect") + Get("read") + Get("write") + Get("timeout");
        return new LoadResult(
            Ok: requests - failedAnswers,
            Failed: failedAnswers + socketErrors,
            Seconds: Get("durationUs") / 1e6,
            P50: Get("p50") / 1000.0,
            P99: Get("p99") / 1000.0,
            P999: Get("p999") / 1000.0,
            Max: Get("max") / 1000.0,
            Generator: "wrk");
    }

    private static string WriteBodies(IReadOnlyList<SignedWebhook> bodies)
    {
        var path = Path.Combine(WorkDirectory.Value, $"bodies-{Guid.NewGuid():N}.tsv");
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false));
        foreach (var body in bodies)
        {
            var text = Encoding.UTF8.GetString(body.Body);
            if (text.Contains('\n') || text.Contains('\t'))
            {
                throw new ArgumentException("wrk bodies must be one line without tabs");
            }

            writer.Write(body.Signature);
            writer.Write('\t');
            writer.Write(text);
            writer.Write('\n');
        }

        return path;
    }

    private static string? FindOnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, tool))
            .FirstOrDefault(File.Exists);

}
