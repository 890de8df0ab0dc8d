using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Streaming.Hosting;

/// <summary>
/// Keeps counter series exported while nothing increments them. prometheus-net's meter adapter drops a
/// series that no measurement touched for its MetricsExpireAfter, which it caps at one day; observable
/// instruments are touched at every scrape, counters only when they count. So this re-records 0 on every
/// counter series it has seen, more often than the adapter's expiry: a reason or tier that stays at 0 for
/// days is still there when it first counts, and increase() sees the step. Label sets are bounded (lanes,
/// reasons, tiers, partitions, destinations), so what it remembers is too.
/// </summary>
public sealed class SeriesKeepAlive : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<SeriesKey, Series> _series = new();
    private readonly Timer _timer;

    private readonly record struct SeriesKey(Instrument Instrument, string Tags);

    private sealed record Series(KeyValuePair<string, object?>[] Tags, Action Touch);

    /// <param name="interval">How often every remembered counter series is touched; well under the adapter's expiry.</param>
    /// <param name="include">Which instruments to keep (all counters by default).</param>
    public SeriesKeepAlive(TimeSpan interval, Func<Instrument, bool>? include = null)
    {
        var wanted = include ?? (_ => true);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (IsCounter(instrument) && wanted(instrument))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.MeasurementsCompleted = (instrument, _) =>
        {
            // The meter is gone (a disposed host): its series can no longer be touched.
            foreach (var key in _series.Keys.Where(k => k.Instrument == instrument))
            {
                _series.TryRemove(key, out Series? _);
            }
        };
        _listener.SetMeasurementEventCallback<int>(Seen);
        _listener.SetMeasurementEventCallback<long>(Seen);
        _listener.SetMeasurementEventCallback<double>(Seen);
        _listener.Start();
        _timer = new Timer(_ => Touch(), null, interval, interval);
    }

    /// <summary>Adds 0 to every counter series seen so far: every listener, the adapter's included, sees a measurement.</summary>
    public void Touch()
    {
        foreach (var series in _series.Values)
        {
            series.Touch();
        }
    }

    /// <summary>
    /// Stops touching the series that match (e.g. a destination removed from the table), so that the adapter's
    /// expiry can drop them; returns how many. A later measurement of the same series keeps it again.
    /// </summary>
    public int Forget(Func<Instrument, IReadOnlyList<KeyValuePair<string, object?>>, bool> match)
    {
        var forgotten = 0;
        foreach (var (key, series) in _series)
        {
            if (match(key.Instrument, series.Tags) && _series.TryRemove(key, out _))
            {
                forgotten++;
            }
        }

        return forgotten;
    }

    public void Dispose()
    {
        _timer.Dispose();
        _listener.Dispose();
    }

    private static bool IsCounter(Instrument instrument) =>
        instrument.GetType() is { IsGenericType: true } type
        && (type.GetGenericTypeDefinition() == typeof(Counter<>) || type.GetGenericTypeDefinition() == typeof(UpDownCounter<>));

    private void Seen<T>(Instrument instrument, T measurement, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
        where T : struct
    {
        var key = new SeriesKey(instrument, Describe(tags));
        if (_series.ContainsKey(key))
        {
            return;
        }

        var copy = tags.ToArray();
        _series.TryAdd(key, new Series(copy, instrument switch
        {
            Counter<T> counter => () => counter.Add(default, copy),
            UpDownCounter<T> counter => () => counter.Add(default, copy),
            _ => static () => { },
        }));
    }

    private static string Describe(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty)
        {
            return "";
        }

        var parts = new string[tags.Length];
        for (var i = 0; i < tags.Length; i++)
        {
            parts[i] = $"{tags[i].Key}\u0001{tags[i].Value}";
        }

        Array.Sort(parts, StringComparer.Ordinal);
        return string.Join('\u0002', parts);
    }
}
