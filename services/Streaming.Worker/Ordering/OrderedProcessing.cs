using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Streaming.Contracts;
using Streaming.Worker.Consuming;
using Streaming.Worker.Processing;

namespace Streaming.Worker.Ordering;

/// <summary>
/// The lane's record handler: status truth on the statuses lane, key order with ORDERING=key, around the
/// event processor. With neither, the processor alone, as before ordering existed.
/// </summary>
public sealed class OrderedProcessing(
    EventProcessor processor, OrderStateStore store, KeyOrder keys, StatusTruth statuses,
    IOptions<WorkerOptions> options, IOptions<OrderingOptions> ordering) : IRecordHandler
{
    private readonly bool _byKey = ordering.Value.ByKey;
    private readonly bool _statuses = options.Value.Lane == Lane.Statuses;

    public Task<ProcessingOutcome> HandleAsync(ConsumeResult<string?, byte[]> record, CancellationToken ct)
    {
        if (!store.Enabled)
        {
            return processor.ProcessAsync(record, ct);
        }

        Func<ConsumeResult<string?, byte[]>, CancellationToken, Task<ProcessingOutcome>> process = processor.ProcessAsync;
        if (_statuses)
        {
            var inner = process;
            process = (r, c) => statuses.HandleAsync(r, inner, c);
        }

        return _byKey ? keys.HandleAsync(record, process, ct) : process(record, ct);
    }
}
