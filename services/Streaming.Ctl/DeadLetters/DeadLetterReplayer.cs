using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Streaming.Contracts;
using Streaming.Kafka;
using Streaming.Kafka.Acknowledgements;

namespace Streaming.Ctl.DeadLetters;

/// <summary>
/// Puts dead letters back on their lane's main topic, each in one Kafka transaction with its ledger
/// entry: either both land or neither does, so a crash mid-replay can neither lose nor double one.
/// The transaction commits only when both delivery reports pass <see cref="DeliveryRule"/> (the same
/// rule as the ingress's 200 and the worker's moves); otherwise it is aborted and the replay fails.
/// </summary>
public sealed class DeadLetterReplayer(CtlContext context, LaneTopics lane) : IDisposable
{
    // Retry bookkeeping of the failed journey: a replay starts a fresh one.
    private static readonly HashSet<string> JourneyHeaders =
    [
        HeaderNames.Attempt, HeaderNames.FirstFailedAt, HeaderNames.LastError, HeaderNames.LastStatusCode,
        HeaderNames.NotBefore, HeaderNames.OriginTopic, HeaderNames.ReplayedFrom, HeaderNames.DlqReason,
        // The worker routes a replay afresh with the table of the moment.
        HeaderNames.Destination,
        // Its place in an ORDERING=key chain of the failed journey: a replay is a new event of its conversation.
        HeaderNames.OrderChain, HeaderNames.OrderSeq, HeaderNames.OrderVersion, HeaderNames.AfterDeadLetter,
    ];

    private static readonly TimeSpan ReportTimeout = TimeSpan.FromSeconds(30);

    private readonly IProducer<string?, byte[]> _producer = CreateProducer(context, lane);

    public void Replay(DeadLetterEntry entry)
    {
        var letter = entry.Letter ?? throw new CtlException($"{entry.Position} cannot be replayed: {entry.ParseError}", CtlException.Refused);
        var headers = new Headers();
        foreach (var (name, value) in letter.OriginalHeaders.Where(h => !JourneyHeaders.Contains(h.Key)))
        {
            headers.Add(name, Encoding.UTF8.GetBytes(value));
        }

        headers.Add(HeaderNames.ReplayedFrom, Encoding.UTF8.GetBytes($"{lane.DeadLetter.Name}/{entry.Position}"));

        _producer.BeginTransaction();
        try
        {
            var reports = new List<DeliveryReport<string?, byte[]>>(2);
            void Collect(DeliveryReport<string?, byte[]> r)
            {
                lock (reports)
                {
                    reports.Add(r);
                }
            }

            _producer.Produce(lane.Main.Name, new Message<string?, byte[]> { Key = letter.Key, Value = letter.OriginalValue, Headers = headers }, Collect);
            _producer.Produce(lane.ReplayLedger.Name, new Message<string?, byte[]> { Key = entry.Position, Value = ReplayLedger.Value(DateTimeOffset.UtcNow) }, Collect);
            if (_producer.Flush(ReportTimeout) > 0)
            {
                TryAbort();
                throw new CtlException($"replay of {entry.Position} was not acknowledged within {ReportTimeout.TotalSeconds:0} s and was rolled back", CtlException.Unreachable);
            }

            // Flush returned: every report has been delivered to Collect.
            DeliveryReport<string?, byte[]>[] judged;
            lock (reports)
            {
                judged = [.. reports];
            }

            if (judged.FirstOrDefault(r => DeliveryRule.Judge(r) != DeliveryVerdict.Stored) is { } bad)
            {
                var unverified = DeliveryRule.Judge(bad) == DeliveryVerdict.Unverified;
                if (unverified)
                {
                    context.Error.WriteLine($"streamctl: {bad.Topic} [{bad.Partition.Value}] reported persisted without an offset; not counted as stored, the transaction is rolled back");
                }

                TryAbort();
                throw new CtlException(
                    $"replay of {entry.Position} was not stored ({(unverified ? "persisted without an offset" : bad.Error.IsError ? bad.Error.Reason : bad.Status.ToString())}) and was rolled back; run the replay again",
                    CtlException.Unreachable);
            }

            _producer.CommitTransaction(TimeSpan.FromSeconds(30));
        }
        catch (KafkaException e)
        {
            TryAbort();
            throw new CtlException($"replay of {entry.Position} failed and was rolled back: {e.Error.Reason}", CtlException.Unreachable);
        }
    }

    public void Dispose() => _producer.Dispose();

    private void TryAbort()
    {
        try
        {
            _producer.AbortTransaction(TimeSpan.FromSeconds(10));
        }
        catch (KafkaException)
        {
            // The transaction times out on the broker anyway.
        }
    }

    private static IProducer<string?, byte[]> CreateProducer(CtlContext context, LaneTopics lane)
    {
        var producer = context.Clients.Producer<string?, byte[]>(new ProducerConfig
        {
            // One transactional id per lane fences a second concurrent replayer of the same lane.
            TransactionalId = $"streamctl-replay-{lane.Main.Name}",
            EnableIdempotence = true,
            Acks = Acks.All,
            Partitioner = Partitioner.Murmur2Random,
        }).Build();
        try
        {
            producer.InitTransactions(TimeSpan.FromSeconds(30));
        }
        catch (KafkaException e)
        {
            producer.Dispose();
            throw new CtlException($"cannot start a replay transaction on {context.Kafka.BootstrapServers}: {e.Error.Reason}", CtlException.Unreachable);
        }

        return producer;
    }
}

/// <summary>Spaces replays out to at most N per second.</summary>
public sealed class RatePacer(double? perSecond)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _count;

    public async Task WaitTurnAsync(CancellationToken ct)
    {
        if (perSecond is not > 0)
        {
            return;
        }

        var due = TimeSpan.FromSeconds(_count++ / perSecond.Value);
        var wait = due - _clock.Elapsed;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, ct);
        }
    }
}
