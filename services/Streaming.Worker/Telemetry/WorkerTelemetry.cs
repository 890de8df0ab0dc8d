using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Streaming.Contracts;
using Streaming.Kafka;

namespace Streaming.Worker.Telemetry;

/// <summary>The worker's metrics (whatsapp_worker_* on /metrics) and its trace source.</summary>
public sealed class WorkerTelemetry : IDisposable
{
    /// <summary>prometheus-net prefixes instruments with the meter name: whatsapp_worker_*.</summary>
    public const string Name = "whatsapp.worker";

    public static readonly ActivitySource ActivitySource = new(Name);

    private readonly Meter _meter;
    private readonly KeyValuePair<string, object?> _lane;
    private readonly Counter<long> _consumed;
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _retried;
    private readonly Counter<long> _deadLettered;
    private readonly Counter<long> _unverifiedAcks;
    private readonly Counter<long> _schemaUnresolved;
    private readonly Counter<long> _retryAfterCapped;
    private Func<int> _laneCircuit = static () => 0;
    private readonly Histogram<double> _deliveryDuration;
    private readonly Histogram<double> _endToEnd;
    private readonly ConcurrentDictionary<TopicPartition, long> _lag = new();
    private int _inFlight;

    public WorkerTelemetry(IMeterFactory meters, IOptions<WorkerOptions> options, Topology topology)
    {
        _meter = meters.Create(Name);
        _lane = new("lane", options.Value.LaneName);
        _consumed = _meter.CreateCounter<long>("consumed_total", description: "Records taken from the lane and its retry tiers");
        _delivered = _meter.CreateCounter<long>("delivered_total", description: "Events the endpoint answered 2xx");
        _retried = _meter.CreateCounter<long>("retried_total", description: "Events forwarded to a retry tier, by tier");
        _deadLettered = _meter.CreateCounter<long>("dead_lettered_total", description: "Events dead-lettered, by reason");
        _unverifiedAcks = _meter.CreateCounter<long>("unverified_acks_total",
            description: "Moves to a retry tier or the DLQ reported persisted without an offset (an implicit acknowledgement) and produced again, by topic and partition");
        _retryAfterCapped = _meter.CreateCounter<long>("retry_after_capped_total",
            description: "Retry-After answers longer than WORKER_RETRY_AFTER_MAX_SECONDS, capped to it");
        _schemaUnresolved = _meter.CreateCounter<long>("schema_unresolved_total",
            description: "Times a framed record waited because its schema id could not be resolved by the Schema Registry");
        _deliveryDuration = _meter.CreateHistogram<double>("delivery_duration_seconds", "s", "One HTTP delivery attempt");
        _endToEnd = _meter.CreateHistogram<double>("end_to_end_latency_seconds", "s", "From the ingress receiving the webhook to the endpoint's 2xx");
        _meter.CreateObservableGauge("in_flight", () => new Measurement<int>(Volatile.Read(ref _inFlight), _lane), description: "Deliveries under way");
        _meter.CreateObservableGauge("circuit_state", () => new Measurement<int>(_laneCircuit(), _lane),
            description: "The lane's circuit, the worst of its destinations': 0 closed, 1 half-open, 2 open");
        _meter.CreateObservableGauge("consumer_lag", ObserveLag, description: "End offset minus position, per assigned partition");
        InitializeSeries(topology[options.Value.Lane]);
    }

    /// <summary>Every known series starts at 0, so rate() and alerts work before the first event.</summary>
    private void InitializeSeries(LaneTopics lane)
    {
        _consumed.Add(0, _lane);
        _delivered.Add(0, _lane);
        _schemaUnresolved.Add(0, _lane);
        _retryAfterCapped.Add(0, _lane);
        foreach (var tier in lane.RetryTiers)
        {
            _retried.Add(0, _lane, new KeyValuePair<string, object?>("tier", DurationList.Format(tier.RetryDelay!.Value)));
        }

        foreach (var reason in new[] { DeadLetterReasons.Terminal4xx, DeadLetterReasons.RetriesExhausted, DeadLetterReasons.Poison, DeadLetterReasons.ProcessingError, DeadLetterReasons.OrderBlocked, DeadLetterReasons.Unroutable, DeadLetterReasons.DestinationSaturated })
        {
            _deadLettered.Add(0, _lane, new KeyValuePair<string, object?>("reason", reason));
        }
    }

    public static int CircuitStateValue(CircuitState state) => state switch
    {
        CircuitState.Closed => 0,
        CircuitState.HalfOpen => 1,
        _ => 2,
    };

    public void Consumed() => _consumed.Add(1, _lane);

    public void Delivered(TimeSpan endToEnd)
    {
        _delivered.Add(1, _lane);
        _endToEnd.Record(Math.Max(0, endToEnd.TotalSeconds), _lane);
    }

    public void SchemaUnresolved() => _schemaUnresolved.Add(1, _lane);

    public void RetryAfterCapped() => _retryAfterCapped.Add(1, _lane);

    /// <summary>Where the lane's circuit gauge reads from: the worst of its destinations' circuits.</summary>
    public void ObserveLaneCircuit(Func<int> worst) => _laneCircuit = worst;

    public void Attempted(TimeSpan duration) => _deliveryDuration.Record(duration.TotalSeconds, _lane);

    public void Retried(string tier) => _retried.Add(1, _lane, new KeyValuePair<string, object?>("tier", tier));

    public void DeadLettered(string reason) => _deadLettered.Add(1, _lane, new KeyValuePair<string, object?>("reason", reason));

    public void UnverifiedAck(string topic, int partition) => _unverifiedAcks.Add(1, _lane,
        new KeyValuePair<string, object?>("topic", topic), new KeyValuePair<string, object?>("partition", partition));

    public void InFlightChanged(int delta) => Interlocked.Add(ref _inFlight, delta);

    public void SetLag(TopicPartition partition, long lag) => _lag[partition] = lag;

    /// <summary>
    /// A partition revoked or lost reads 0 from now on rather than dropping out of the observation: prometheus-net
    /// keeps exporting a series it no longer sees at its last value (PrometheusExport.SeriesLifetime), and that lag
    /// belongs to the partition's new owner now.
    /// </summary>
    public void ForgetLag(TopicPartition partition) => _lag[partition] = 0;

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<long>> ObserveLag() => _lag.Select(kv => new Measurement<long>(kv.Value,
        _lane, new KeyValuePair<string, object?>("topic", kv.Key.Topic), new KeyValuePair<string, object?>("partition", kv.Key.Partition.Value)));
}
