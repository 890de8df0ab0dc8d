using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Streaming.Benchmarks.Infrastructure;

/// <summary>
/// A service dll of this output folder (Streaming.Ingress.dll, Streaming.Worker.dll) as its own OS
/// process, so its memory and CPU can be read from /proc apart from the load generator's. Like the
/// tests' ServiceProcess, but it exposes the process id and stops with SIGTERM first.
/// </summary>
public sealed class ChildService : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ChildService(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public int Pid => _process.Id;

    /// <summary>Its /healthz, /readyz, /metrics (and /webhook for the ingress).</summary>
    public Uri Address { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <param name="portVariable">INGRESS_PORT or WORKER_PORT: a free loopback port is chosen for it.</param>
    public static ChildService Start(string assembly, string portVariable, IReadOnlyDictionary<string, string?> environment)
    {
        var path = Path.Combine(AppContext.BaseDirectory, assembly);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{assembly} is not in the benchmark's output folder", path);
        }

        var port = FreePort();
        var info = new ProcessStartInfo("dotnet", [path]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        info.Environment[portVariable] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment[portVariable.Replace("_PORT", "_HOST", StringComparison.Ordinal)] = "127.0.0.1";
        var process = new Process { StartInfo = info };
        var child = new ChildService(process, new Uri($"http://127.0.0.1:{port}"));
        process.OutputDataReceived += (_, e) => child.Append(e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits until /readyz answers 200 (producer and topics OK).</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the service exited with {_process.ExitCode}: {Output}");
            }

            try
            {
                using var response = await client.GetAsync("/readyz");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"the service was not ready within {timeout.TotalSeconds:0}s: {Output}");
    }

    public ProcSample Sample() => ProcSample.Read(Pid);

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, 15);
            if (!_process.WaitForExit(10_000))
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            // Keep the tail only: a benchmark must not grow with the service's log.
            if (_output.Length > 64 * 1024)
            {
                _output.Remove(0, 32 * 1024);
            }

            _output.AppendLine(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
