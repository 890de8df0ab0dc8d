using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Streaming.Destinations;
using Streaming.Hosting;
using Streaming.Worker.Delivery;
using Streaming.Worker.Telemetry;

namespace Streaming.Worker.Destinations;

/// <summary>A destination's live state, read when /metrics is scraped.</summary>
internal readonly record struct DestinationState(int Circuit, int Limit, int InFlight, int Waiting);

/// <summary>
/// Per-destination metrics (whatsapp_worker_destination_*), labelled by lane and destination name only:
/// never a phone number id, never a URL or secret. Every known destination's series start at 0.
/// </summary>
public sealed class DestinationTelemetry
{
    /// <summary>Why a delivery to a destination did not succeed (the <c>class</c> label).</summary>
    public static readonly IReadOnlyList<string> FailureClasses =
        [Classes.Rejected, Classes.Throttled, Classes.ServerError, Classes.Timeout, Classes.Connection, Classes.CircuitOpen, Classes.Saturated, Classes.RetryAfter];

    private readonly Meter _meter;
    private readonly KeyValuePair<string, object?> _lane;
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _failed;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _reloads;
    private readonly Counter<long> _refused;
    private readonly ConcurrentDictionary<string, Func<DestinationState>> _states = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _initialized = new(StringComparer.Ordinal);
    private volatile bool _tableValid = true;

    public DestinationTelemetry(IMeterFactory meters, IOptions<WorkerOptions> options)
    {
        var meter = _meter = meters.Create(WorkerTelemetry.Name);
        _lane = new("lane", options.Value.LaneName);
        _delivered = meter.CreateCounter<long>("destination_delivered_total", description: "Events a destination answered 2xx");
        _failed = meter.CreateCounter<long>("destination_failed_total", description: "Deliveries to a destination that did not succeed, by class");
        _duration = meter.CreateHistogram<double>("destination_delivery_duration_seconds", "s", "One HTTP delivery attempt to a destination");
        _reloads = meter.CreateCounter<long>("destination_table_reloads_total", description: "Changed DESTINATIONS_FILE contents seen, by result (applied, refused)");
        _refused = meter.CreateCounter<long>("destination_table_refused_total", description: "Refused DESTINATIONS_FILE contents, by the kind of problem");
        meter.CreateObservableGauge("destination_table_valid", () => new Measurement<int>(_tableValid ? 1 : 0, _lane),
            description: "1 while the file on disk is the table in force, 0 while a changed file is refused (the last good table stays)");
        meter.CreateObservableGauge("destination_circuit_state", () => Observe(s => s.Circuit), description: "A destination's circuit: 0 closed, 1 half-open, 2 open");
        meter.CreateObservableGauge("destination_concurrency_limit", () => Observe(s => s.Limit), description: "A destination's current adaptive concurrency limit");
        meter.CreateObservableGauge("destination_in_flight", () => Observe(s => s.InFlight), description: "Deliveries under way to a destination");
        meter.CreateObservableGauge("destination_waiting", () => Observe(s => s.Waiting), description: "Events waiting in memory for a destination's slot");
        foreach (var result in new[] { "applied", "refused" })
        {
            _reloads.Add(0, _lane, new("result", result));
        }

        foreach (var kind in DestinationProblem.Kinds)
        {
            _refused.Add(0, _lane, new("problem", kind));
        }
    }

    public static class Classes
    {
        public const string Rejected = "rejected";
        public const string Throttled = "throttled";
        public const string ServerError = "server-error";
        public const string Timeout = "timeout";
        public const string Connection = "connection";
        public const string CircuitOpen = "circuit-open";
        public const string Saturated = "saturated";
        public const string RetryAfter = "retry-after";
    }

    /// <summary>Starts a destination's series at 0 and reads its state from <paramref name="state"/> from now on.</summary>
    internal void Track(string destination, Func<DestinationState> state)
    {
        _states[destination] = state;
        if (_initialized.TryAdd(destination, true))
        {
            var name = Label(destination);
            _delivered.Add(0, _lane, name);
            foreach (var failure in FailureClasses)
            {
                _failed.Add(0, _lane, name, new("class", failure));
            }
        }
    }

    /// <summary>
    /// A destination left the table: its gauges are no longer reported, and its counter series are no longer
    /// kept alive, so the exporter drops them (after <see cref="PrometheusExport.SeriesLifetime"/>).
    /// </summary>
    internal void Untrack(string destination)
    {
        _states.TryRemove(destination, out _);
        _initialized.TryRemove(destination, out _);
        PrometheusExport.StopKeepingAlive((instrument, tags) => instrument.Meter == _meter
            && tags.Any(t => t.Key == "destination" && destination.Equals(t.Value as string, StringComparison.Ordinal))
            && tags.Any(t => t.Key == _lane.Key && Equals(t.Value, _lane.Value)));
    }

    /// <summary>One outcome: a 2xx with its duration, or a failure of a class (duration when attempted).</summary>
    public void Observed(string destination, DeliveryResult result, TimeSpan? duration)
    {
        var name = Label(destination);
        if (duration is { } d)
        {
            _duration.Record(d.TotalSeconds, _lane, name);
        }

        if (result.Outcome == DeliveryOutcome.Delivered)
        {
            _delivered.Add(1, _lane, name);
        }
        else
        {
            Failed(destination, ClassOf(result));
        }
    }

    public void Failed(string destination, string failureClass) => _failed.Add(1, _lane, Label(destination), new("class", failureClass));

    public void TableApplied()
    {
        _tableValid = true;
        _reloads.Add(1, _lane, new("result", "applied"));
    }

    public void TableRefused(IEnumerable<DestinationProblem> problems)
    {
        _tableValid = false;
        _reloads.Add(1, _lane, new("result", "refused"));
        foreach (var kind in problems.Select(p => p.Kind).Distinct())
        {
            _refused.Add(1, _lane, new("problem", kind));
        }
    }

    public static string ClassOf(DeliveryResult result) => result switch
    {
        { Outcome: DeliveryOutcome.CircuitOpen } => Classes.CircuitOpen,
        { Outcome: DeliveryOutcome.Terminal } => Classes.Rejected,
        { StatusCode: 429 } => Classes.Throttled,
        { StatusCode: not null } => Classes.ServerError,
        { Error: DeliveryClient.TimedOut } => Classes.Timeout,
        _ => Classes.Connection,
    };

    private static KeyValuePair<string, object?> Label(string destination) => new("destination", destination);

    private IEnumerable<Measurement<int>> Observe(Func<DestinationState, int> value) =>
        _states.Select(kv => new Measurement<int>(value(kv.Value()), _lane, Label(kv.Key)));
}
