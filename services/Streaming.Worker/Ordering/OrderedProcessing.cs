using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Streaming.Contracts;
using Streaming.SchemaRegistry;
using Streaming.Worker.Consuming;
using Streaming.Worker.Processing;

namespace Streaming.Worker.Ordering;

/// <summary>
/// The lane's record handler: status truth on the statuses lane, key order with ORDERING=key, around the
/// event processor. With neither, the processor alone, as before ordering existed. Both need the envelope
/// (the conversation, the status): read here once; a record that cannot be read goes straight to the
/// processor, which dead-letters it as poison or waits for its schema.
/// </summary>
public sealed class OrderedProcessing(
    EventProcessor processor, OrderStateStore store, KeyOrder keys, StatusTruth statuses, RecordValueReader reader,
    IOptions<WorkerOptions> options, IOptions<OrderingOptions> ordering) : IRecordHandler
{
    private readonly bool _byKey = ordering.Value.ByKey;
    private readonly bool _statuses = options.Value.Lane == Lane.Statuses;

    public async Task<ProcessingOutcome> HandleAsync(ConsumeResult<string?, byte[]> record, CancellationToken ct)
    {
        if (!store.Enabled)
        {
            return await processor.ProcessAsync(record, ct);
        }

        var read = await reader.ReadEnvelopeAsync(record.Message.Value, ct);
        if (read.Outcome != ReadOutcome.Read || read.Value is not { } envelope)
        {
            return await processor.ProcessAsync(record, ct);
        }

        Func<ConsumeResult<string?, byte[]>, CancellationToken, Task<ProcessingOutcome>> process = processor.ProcessAsync;
        if (_statuses)
        {
            var inner = process;
            process = (r, c) => statuses.HandleAsync(r, envelope, inner, c);
        }

        return _byKey ? await keys.HandleAsync(record, envelope, process, ct) : await process(record, ct);
    }
}
