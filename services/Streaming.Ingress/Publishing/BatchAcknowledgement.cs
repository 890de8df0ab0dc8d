using Confluent.Kafka;
using Streaming.Kafka.Acknowledgements;

namespace Streaming.Ingress.Publishing;

/// <summary>Why a webhook's records do not count as stored.</summary>
internal readonly record struct Refusal(PublishOutcome Outcome, string Reason);

/// <summary>
/// Collects the delivery reports of one webhook's records into a single task: it completes with no
/// refusal once every record is stored by <see cref="DeliveryRule"/> (no error, Persisted, an offset),
/// or with the first refusal. One of these per request instead of a task per record.
/// </summary>
internal sealed class BatchAcknowledgement
{
    private readonly TaskCompletionSource<Refusal?> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action<long> _allReported;
    private readonly Action<DeliveryReport<string, byte[]>, bool> _unverified;
    private readonly long _bytes;
    private int _unacknowledged;
    private int _unreported;

    /// <param name="unverified">Called for each report judged <see cref="DeliveryVerdict.Unverified"/>, with whether it decided the webhook's answer.</param>
    public BatchAcknowledgement(int records, long bytes, Action<long> allReported, Action<DeliveryReport<string, byte[]>, bool> unverified)
    {
        _unacknowledged = records;
        _unreported = records;
        _bytes = bytes;
        _allReported = allReported;
        _unverified = unverified;
        Handler = OnReport;
    }

    public Task<Refusal?> Completion => _done.Task;

    public Action<DeliveryReport<string, byte[]>> Handler { get; }

    /// <summary>Records that were never handed to the producer will not report: count them as reported.</summary>
    public void Abandon(int records, Error error)
    {
        _done.TrySetResult(new Refusal(PublishOutcome.Failed, error.Reason));
        if (Interlocked.Add(ref _unreported, -records) == 0)
        {
            _allReported(_bytes);
        }
    }

    /// <summary>The budget ran out or the request went away first: later reports no longer decide the answer.</summary>
    public bool GiveUp(PublishOutcome outcome, string reason) => _done.TrySetResult(new Refusal(outcome, reason));

    private void OnReport(DeliveryReport<string, byte[]> report)
    {
        switch (DeliveryRule.Judge(report))
        {
            case DeliveryVerdict.Stored:
                if (Interlocked.Decrement(ref _unacknowledged) == 0)
                {
                    _done.TrySetResult(null);
                }

                break;
            case DeliveryVerdict.Unverified:
                var decided = _done.TrySetResult(new Refusal(PublishOutcome.Unverified,
                    $"{report.Topic} [{report.Partition.Value}] reported persisted without an offset (offset {report.Offset.Value})"));
                _unverified(report, decided);
                break;
            default:
                _done.TrySetResult(new Refusal(PublishOutcome.Failed,
                    report.Error.IsError ? $"{report.Error.Code}: {report.Error.Reason}" : $"not persisted: {report.Status}"));
                break;
        }

        if (Interlocked.Decrement(ref _unreported) == 0)
        {
            _allReported(_bytes);
        }
    }
}
