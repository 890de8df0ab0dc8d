using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Streaming.Testing;

/// <summary>
/// Sums counters by meter and instrument name while it lives, for every host in this process. Scoped
/// to one test, unlike /metrics, whose prometheus-net registry keeps the totals of earlier tests.
/// </summary>
public sealed class CounterListener : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(string Meter, string Instrument), long> _totals = new();

    public CounterListener(params (string Meter, string Instrument)[] counters)
    {
        var wanted = counters.ToHashSet();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (wanted.Contains((instrument.Meter.Name, instrument.Name)))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            _totals.AddOrUpdate((instrument.Meter.Name, instrument.Name), value, (_, total) => total + value));
        _listener.Start();
    }

    public long this[string meter, string instrument] => _totals.GetValueOrDefault((meter, instrument));

    public void Dispose() => _listener.Dispose();
}
