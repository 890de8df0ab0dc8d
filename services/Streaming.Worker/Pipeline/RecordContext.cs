using System.Diagnostics;
using Confluent.Kafka;
using Streaming.Contracts;
using Streaming.Destinations;
using Streaming.Kafka;
using Streaming.Worker.Processing;

namespace Streaming.Worker.Pipeline;

/// <summary>
/// One record on its way through the worker's steps: what each step learned, in one place, instead of
/// headers edited in place or values captured by chained lambdas. A step writes what it decides here;
/// <see cref="Verdict"/> is how an event's turn ended, <see cref="Outcome"/> how the record was settled.
/// </summary>
public sealed class RecordContext
{
    public RecordContext(ConsumeResult<string?, byte[]> record, LaneTopics lane, CancellationToken cancellation)
    {
        Record = record;
        Lane = lane;
        Cancellation = cancellation;
        Retry = RetryState.From(record, lane);
        EventId = RetryState.Header(record.Message.Headers, HeaderNames.EventId);
    }

    public ConsumeResult<string?, byte[]> Record { get; }

    public LaneTopics Lane { get; }

    public CancellationToken Cancellation { get; }

    /// <summary>Where the record stands in its retry journey (its topic and retry headers).</summary>
    public RetryState Retry { get; }

    /// <summary>The <c>event-id</c> header; the envelope's id once it is read.</summary>
    public string? EventId { get; set; }

    /// <summary>The <c>{topic} process</c> span, when tracing listens.</summary>
    public Activity? Activity { get; set; }

    /// <summary>The event, once read; null for a poison record.</summary>
    public EventEnvelope? Envelope { get; set; }

    /// <summary>The envelope's JSON as delivered (a framed record's payload without its frame).</summary>
    public byte[]? Body { get; set; }

    /// <summary>Where the event is routed, once routed.</summary>
    public Destination? Destination { get; set; }

    /// <summary>How the event's turn ended: set by the step that ended it.</summary>
    public Verdict? Verdict { get; set; }

    /// <summary>How long the HTTP attempt took, when there was one.</summary>
    public TimeSpan? AttemptDuration { get; set; }

    /// <summary>How the record was settled: set once its move (if any) is durable.</summary>
    public ProcessingOutcome? Outcome { get; set; }

    /// <summary>ORDERING=key: the dead-lettered head that released this follower, told to the business.</summary>
    public string? AfterDeadLetter => RetryState.Header(Record.Message.Headers, HeaderNames.AfterDeadLetter);
}
