using Microsoft.Extensions.Options;
using Streaming.Kafka;
using Streaming.Worker.Consuming;
using Streaming.Worker.Processing;
using Confluent.Kafka;

namespace Streaming.Worker.Pipeline;

/// <summary>
/// The lane's one delivery path: the steps, in the order <see cref="PipelineServiceCollectionExtensions.AddRecordPipeline"/>
/// lists them, composed once. The consumer core runs it per record (per key in order) and stores the offset
/// once it completes; a step that throws is retried and then dead-lettered by the core (processing-error).
/// </summary>
public sealed class RecordPipeline : IRecordHandler
{
    private readonly RecordDelegate _first;
    private readonly LaneTopics _lane;

    public RecordPipeline(IEnumerable<IRecordStep> steps, Topology topology, IOptions<WorkerOptions> options)
    {
        _lane = topology[options.Value.Lane];
        RecordDelegate next = static _ => Task.CompletedTask;
        foreach (var step in steps.Reverse())
        {
            var inner = next;
            next = context => step.InvokeAsync(context, inner);
        }

        _first = next;
    }

    public async Task<ProcessingOutcome> HandleAsync(ConsumeResult<string?, byte[]> record, CancellationToken ct)
    {
        var context = new RecordContext(record, _lane, ct);
        await _first(context);
        return context.Outcome ?? throw new InvalidOperationException($"no step settled {record.TopicPartitionOffset} (verdict {context.Verdict?.Kind.ToString() ?? "none"})");
    }
}
