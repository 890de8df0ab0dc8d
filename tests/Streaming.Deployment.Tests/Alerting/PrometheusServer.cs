using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Streaming.Deployment.Tests.Alerting;

/// <summary>One scrape target as the chart's ServiceMonitor makes it: job = the Service's name, plus its target labels.</summary>
public sealed record ScrapeTarget(string Job, Uri Address, IReadOnlyDictionary<string, string> Labels);

/// <summary>An alert as Prometheus's /api/v1/alerts reports it.</summary>
public sealed record ActiveAlert(string Name, string State, IReadOnlyDictionary<string, string> Labels)
{
    public override string ToString() => $"{Name}{{{string.Join(", ", Labels.Select(l => $"{l.Key}={l.Value}"))}}} {State}";
}

/// <summary>
/// A real prometheus server (Debian's package) on 127.0.0.1, a free port and a temporary data directory,
/// scraping the given targets and evaluating one rules file every second. Stopped (killed) and its
/// directory deleted on dispose.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;
    private readonly HttpClient _http;

    private PrometheusServer(Process process, string dir, Uri address)
    {
        _process = process;
        _dir = dir;
        _http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
    }

    public static async Task<PrometheusServer> StartAsync(string dir, string rulesFile, IEnumerable<ScrapeTarget> targets)
    {
        var port = FreePort();
        var config = Path.Combine(dir, "prometheus.yml");
        File.WriteAllText(config, Config(rulesFile, targets));
        var start = new ProcessStartInfo(Repo.Prometheus)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dir,
        };
        foreach (var arg in new[]
                 {
                     $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(dir, "data")}",
                     $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
                 })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start prometheus");
        var log = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new PrometheusServer(process, dir, new Uri($"http://127.0.0.1:{port}/"));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"prometheus exited with {process.ExitCode}:\n{log}");
            }

            try
            {
                if ((await server._http.GetAsync("-/ready")).IsSuccessStatusCode)
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                await server.DisposeAsync();
                throw new TimeoutException($"prometheus not ready in 60 s:\n{log}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Scrape and rule evaluation every second; the targets' labels as static labels, honor_labels off (the ServiceMonitor's default).</summary>
    private static string Config(string rulesFile, IEnumerable<ScrapeTarget> targets)
    {
        var text = new System.Text.StringBuilder($"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            rule_files:
              - {JsonSerializer.Serialize(rulesFile)}
            scrape_configs:

            """);
        foreach (var target in targets)
        {
            text.AppendLine($"  - job_name: {JsonSerializer.Serialize(target.Job)}");
            text.AppendLine("    honor_labels: false");
            text.AppendLine("    metrics_path: /metrics");
            text.AppendLine("    static_configs:");
            text.AppendLine($"      - targets: [{JsonSerializer.Serialize(target.Address.Authority)}]");
            text.AppendLine("        labels:");
            foreach (var (name, value) in target.Labels)
            {
                text.AppendLine($"          {name}: {JsonSerializer.Serialize(value)}");
            }
        }

        return text.ToString();
    }

    public async Task<IReadOnlyList<ActiveAlert>> AlertsAsync()
    {
        using var json = JsonDocument.Parse(await _http.GetStringAsync("api/v1/alerts"));
        return json.RootElement.GetProperty("data").GetProperty("alerts").EnumerateArray()
            .Select(a => new ActiveAlert(
                a.GetProperty("labels").GetProperty("alertname").GetString()!,
                a.GetProperty("state").GetString()!,
                a.GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!)))
            .ToArray();
    }

    /// <summary>An instant query's result: each series' labels and value.</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> QueryAsync(string promql)
    {
        using var json = JsonDocument.Parse(await _http.GetStringAsync($"api/v1/query?query={Uri.EscapeDataString(promql)}"));
        return json.RootElement.GetProperty("data").GetProperty("result").EnumerateArray()
            .Select(r => ((IReadOnlyDictionary<string, string>)r.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!),
                double.Parse(r.GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture)))
            .ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
