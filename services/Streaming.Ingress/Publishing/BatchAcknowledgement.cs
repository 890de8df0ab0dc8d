using Confluent.Kafka;

namespace Streaming.Ingress.Publishing;

/// <summary>
/// Collects the delivery reports of one webhook's records into a single task: it completes with no
/// error once every record is persisted, or with the first error. One of these per request instead of
/// a task per record.
/// </summary>
internal sealed class BatchAcknowledgement
{
    private readonly TaskCompletionSource<Error?> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action<long> _allReported;
    private readonly long _bytes;
    private int _unacknowledged;
    private int _unreported;

    public BatchAcknowledgement(int records, long bytes, Action<long> allReported)
    {
        _unacknowledged = records;
        _unreported = records;
        _bytes = bytes;
        _allReported = allReported;
        Handler = OnReport;
    }

    public Task<Error?> Completion => _done.Task;

    public Action<DeliveryReport<string, byte[]>> Handler { get; }

    /// <summary>Records that were never handed to the producer will not report: count them as reported.</summary>
    public void Abandon(int records, Error error)
    {
        _done.TrySetResult(error);
        if (Interlocked.Add(ref _unreported, -records) == 0)
        {
            _allReported(_bytes);
        }
    }

    private void OnReport(DeliveryReport<string, byte[]> report)
    {
        if (report.Error.IsError || report.Status != PersistenceStatus.Persisted)
        {
            _done.TrySetResult(report.Error.IsError ? report.Error : new Error(ErrorCode.Unknown, $"not persisted: {report.Status}"));
        }
        else if (Interlocked.Decrement(ref _unacknowledged) == 0)
        {
            _done.TrySetResult(null);
        }

        if (Interlocked.Decrement(ref _unreported) == 0)
        {
            _allReported(_bytes);
        }
    }
}
