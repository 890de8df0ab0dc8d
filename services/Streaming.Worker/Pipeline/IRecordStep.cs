namespace Streaming.Worker.Pipeline;

/// <summary>The rest of the pipeline after a step.</summary>
public delegate Task RecordDelegate(RecordContext context);

/// <summary>
/// One step of the worker's pipeline (Farfetch/kafkaflow's consumer middleware, in small): it does its one
/// thing with the record's context and calls <c>next</c>, or ends the event's turn by setting a verdict and
/// returning. Steps are singletons: everything about the record is in the context.
/// </summary>
public interface IRecordStep
{
    Task InvokeAsync(RecordContext context, RecordDelegate next);
}
