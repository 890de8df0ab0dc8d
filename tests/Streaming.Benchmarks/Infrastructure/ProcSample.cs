using System.Globalization;

namespace Streaming.Benchmarks.Infrastructure;

/// <summary>One reading of a process from /proc: resident memory and CPU time used so far.</summary>
public readonly record struct ProcSample(DateTime At, double RssMiB, double CpuSeconds)
{
    /// <summary>Clock ticks per second of /proc/*/stat times (USER_HZ: 100 on Linux).</summary>
    private const double TicksPerSecond = 100;

    public static ProcSample Read(int pid)
    {
        var status = File.ReadAllLines($"/proc/{pid}/status");
        var rssKiB = status.Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Select(l => double.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture))
            .FirstOrDefault();
        // Fields after the command name (which may hold spaces) start at the last ')'; utime and stime are fields 14 and 15.
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture);
        return new ProcSample(DateTime.UtcNow, rssKiB / 1024.0, ticks / TicksPerSecond);
    }

    /// <summary>CPU used between two readings, in percent of one core.</summary>
    public static double CpuPercent(ProcSample from, ProcSample to) =>
        (to.At - from.At).TotalSeconds <= 0 ? double.NaN : 100.0 * (to.CpuSeconds - from.CpuSeconds) / (to.At - from.At).TotalSeconds;
}

/// <summary>Samples a process every <c>interval</c> while a load runs: RSS mean/max and CPU over the window.</summary>
public sealed class ProcMonitor : IAsyncDisposable
{
    private readonly int _pid;
    private readonly List<ProcSample> _samples = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public ProcMonitor(int pid, TimeSpan interval)
    {
        _pid = pid;
        _samples.Add(ProcSample.Read(pid));
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(interval, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                lock (_samples)
                {
                    _samples.Add(ProcSample.Read(_pid));
                }
            }
        });
    }

    public async Task<(double RssMeanMiB, double RssMaxMiB, double RssLastMiB, double CpuPercent)> StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        lock (_samples)
        {
            _samples.Add(ProcSample.Read(_pid));
            return (_samples.Average(s => s.RssMiB), _samples.Max(s => s.RssMiB), _samples[^1].RssMiB, ProcSample.CpuPercent(_samples[0], _samples[^1]));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
            await _loop;
        }

        _stop.Dispose();
    }
}
