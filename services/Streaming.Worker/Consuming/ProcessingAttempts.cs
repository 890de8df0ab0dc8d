using Confluent.Kafka;
using Streaming.Worker.Telemetry;

namespace Streaming.Worker.Consuming;

/// <summary>
/// Runs the processing of one record, which settles it (delivered, retried forward, dead-lettered). An
/// exception there is a bug, not an outcome: it is tried a few times with backoff (it may be passing), and
/// then the record is dead-lettered with reason <c>processing-error</c>, so that one repeatable exception
/// cannot freeze its partition's commits forever. The dead-lettering itself is retried until it lands:
/// the offset is never stored past an unsettled event.
/// </summary>
internal sealed class ProcessingAttempts(int maxAttempts, TimeSpan firstBackoff, TimeProvider time, ILogger logger)
{
    /// <summary>Three tries, 1 s then 2 s apart: enough for a passing fault, short enough not to stall a partition.</summary>
    public const int Default = 3;

    public static readonly TimeSpan DefaultBackoff = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    public int MaxAttempts { get; } = maxAttempts;

    public async Task RunAsync(
        ConsumeResult<string?, byte[]> record,
        Func<CancellationToken, Task> process,
        Func<Exception, int, CancellationToken, Task> deadLetter,
        CancellationToken ct)
    {
        var backoff = firstBackoff;
        Exception? last = null;
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                await process(ct);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                last = e;
                logger.ProcessingFailed(record.TopicPartitionOffset.ToString(), attempt, MaxAttempts, e);
                if (attempt < MaxAttempts)
                {
                    await Task.Delay(backoff, time, ct);
                    backoff = Next(backoff);
                }
            }
        }

        backoff = firstBackoff;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                await deadLetter(last!, MaxAttempts, ct);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.ProcessingFailed(record.TopicPartitionOffset.ToString() + " (dead-lettering)", MaxAttempts, MaxAttempts, e);
                await Task.Delay(backoff, time, ct);
                backoff = Next(backoff);
            }
        }
    }

    private static TimeSpan Next(TimeSpan backoff) => TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
}
