using System.Diagnostics;
using System.Diagnostics.Metrics;
using Streaming.Contracts;
using Streaming.Ingress.Publishing;

namespace Streaming.Ingress.Telemetry;

/// <summary>The ingress's metrics (exported on /metrics by prometheus-net) and its trace source.</summary>
public sealed class IngressTelemetry : IDisposable
{
    /// <summary>prometheus-net prefixes instruments with the meter name: whatsapp_ingress_*.</summary>
    public const string Name = "whatsapp.ingress";

    public static readonly ActivitySource ActivitySource = new(Name);

    private readonly Meter _meter;
    private readonly Counter<long> _events;
    private readonly Counter<long> _signatureFailures;
    private readonly Counter<long> _unavailable;
    private readonly Counter<long> _shed;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _unverifiedAcks;
    private readonly Histogram<double> _produceDuration;

    public IngressTelemetry(IMeterFactory meters, ProducerPressure pressure)
    {
        _meter = meters.Create(Name);
        _events = _meter.CreateCounter<long>("events_total", description: "Events stored in Kafka, by lane and type");
        _signatureFailures = _meter.CreateCounter<long>("signature_failures_total", description: "Webhooks refused for a missing or wrong X-Hub-Signature-256");
        _unavailable = _meter.CreateCounter<long>("unavailable_total", description: "Webhooks answered 503 (Meta retries), by reason");
        _shed = _meter.CreateCounter<long>("shed_total", description: "Low-priority-only webhooks shed with 503 while the producer was saturated");
        _rejected = _meter.CreateCounter<long>("rejected_total", description: "Webhooks refused with a 4xx, by status code");
        _unverifiedAcks = _meter.CreateCounter<long>("unverified_acks_total",
            description: "Webhooks answered 503 because a record was reported persisted without an offset (an implicit acknowledgement), by the record's topic and partition");
        _produceDuration = _meter.CreateHistogram<double>("produce_duration_seconds", unit: "s",
            description: "From the first produce of a webhook to the acknowledgement of its last record",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        _meter.CreateObservableGauge("producer_inflight_bytes", () => pressure.InFlightBytes,
            description: "Bytes handed to the producer and not yet acknowledged");
        InitializeSeries();
    }

    /// <summary>Every known series starts at 0, so rate() and alerts work before the first event.</summary>
    private void InitializeSeries()
    {
        foreach (var lane in LaneNames.All)
        {
            _events.Add(0, new("lane", lane.ToName()), new("type", lane == Lane.Messages ? Contracts.EventTypes.Message : Contracts.EventTypes.Status));
        }

        _signatureFailures.Add(0);
        _shed.Add(0);
        foreach (var reason in new[] { PublishOutcome.Failed, PublishOutcome.Unverified, PublishOutcome.TimedOut, PublishOutcome.QueueFull, PublishOutcome.Shed })
        {
            _unavailable.Add(0, new KeyValuePair<string, object?>("reason", reason.ToString().ToLowerInvariant()));
        }

        foreach (var status in new[] { 400, 401, 413, 415 })
        {
            _rejected.Add(0, new KeyValuePair<string, object?>("status", status));
        }
    }

    public void EventStored(Lane lane, string type) =>
        _events.Add(1, new KeyValuePair<string, object?>("lane", lane.ToName()), new KeyValuePair<string, object?>("type", type));

    public void SignatureFailed() => _signatureFailures.Add(1);

    public void Rejected(int statusCode) => _rejected.Add(1, new KeyValuePair<string, object?>("status", statusCode));

    public void Unavailable(PublishOutcome reason)
    {
        _unavailable.Add(1, new KeyValuePair<string, object?>("reason", reason.ToString().ToLowerInvariant()));
        if (reason == PublishOutcome.Shed)
        {
            _shed.Add(1);
        }
    }

    public void UnverifiedAck(string topic, int partition) =>
        _unverifiedAcks.Add(1, new KeyValuePair<string, object?>("topic", topic), new KeyValuePair<string, object?>("partition", partition));

    public void ProduceDuration(TimeSpan elapsed) => _produceDuration.Record(elapsed.TotalSeconds);

    public void Dispose() => _meter.Dispose();
}
