using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Streaming.Contracts;
using Streaming.Kafka;

namespace Streaming.Ctl.DeadLetters;

/// <summary>
/// Puts dead letters back on their lane's main topic, each in one Kafka transaction with its ledger
/// entry: either both land or neither does, so a crash mid-replay can neither lose nor double one.
/// </summary>
public sealed class DeadLetterReplayer(CtlContext context, LaneTopics lane) : IDisposable
{
    // Retry bookkeeping of the failed journey: a replay starts a fresh one.
    private static readonly HashSet<string> JourneyHeaders =
    [
        HeaderNames.Attempt, HeaderNames.FirstFailedAt, HeaderNames.LastError, HeaderNames.LastStatusCode,
        HeaderNames.NotBefore, HeaderNames.OriginTopic, HeaderNames.ReplayedFrom, "dlq-reason",
        // The worker routes a replay afresh with the table of the moment.
        HeaderNames.Destination,
    ];

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
            _producer.Produce(lane.Main.Name, new Message<string?, byte[]> { Key = letter.Key, Value = letter.OriginalValue, Headers = headers });
            _producer.Produce(lane.ReplayLedger.Name, new Message<string?, byte[]> { Key = entry.Position, Value = ReplayLedger.Value(DateTimeOffset.UtcNow) });
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
        var producer = new ProducerBuilder<string?, byte[]>(context.Kafka.Apply(new ProducerConfig
        {
            // One transactional id per lane fences a second concurrent replayer of the same lane.
            TransactionalId = $"streamctl-replay-{lane.Main.Name}",
            EnableIdempotence = true,
            Acks = Acks.All,
            Partitioner = Partitioner.Murmur2Random,
        })).Build();
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
