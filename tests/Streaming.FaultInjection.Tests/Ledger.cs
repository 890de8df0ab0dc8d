using System.Collections.Concurrent;
using Streaming.Contracts;
using Streaming.Testing;

namespace Streaming.FaultInjection.Tests;

/// <summary>
/// The no-loss ledger: every event id the ingress answered 200 for must end up delivered (2xx at the
/// endpoint) or dead-lettered. Duplicates are allowed (at-least-once) and counted. It also books why
/// each 503 was given, so the end-of-scenario check can match unverified acknowledgements to their 503s.
/// </summary>
public sealed class Ledger
{
    private readonly ConcurrentDictionary<string, byte> _accepted = new();
    private readonly ConcurrentDictionary<string, int> _refusals = new();
    private int _refused;

    public int Accepted => _accepted.Count;

    public int Refused => Volatile.Read(ref _refused);

    public IReadOnlyCollection<string> AcceptedIds => _accepted.Keys.ToArray();

    /// <summary>503s by the outcome the ingress named in its answer ("Unverified", "TimedOut", ...).</summary>
    public IReadOnlyDictionary<string, int> RefusalsByOutcome => _refusals;

    /// <param name="refusal">For a 503: the answer's text, "not stored (Outcome); retry later".</param>
    public void Answered(bool stored, IEnumerable<string> eventIds, string? refusal = null)
    {
        if (!stored)
        {
            Interlocked.Increment(ref _refused);
            _refusals.AddOrUpdate(OutcomeOf(refusal), 1, (_, n) => n + 1);
            return;
        }

        foreach (var id in eventIds)
        {
            _accepted.TryAdd(id, 0);
        }
    }

    public LedgerResult Check(DownstreamStub stub, IEnumerable<DeadLetter> deadLetters)
    {
        var delivered = stub.Delivered.ToHashSet();
        var dead = deadLetters.Select(d => d.EventId).OfType<string>().ToHashSet();
        var missing = _accepted.Keys.Where(id => !delivered.Contains(id) && !dead.Contains(id)).ToArray();
        var duplicates = stub.Receipts.Where(r => r.Answered is >= 200 and < 300).GroupBy(r => r.EventId).Sum(g => g.Count() - 1);
        return new LedgerResult
        {
            Accepted = Accepted,
            Refused = Refused,
            UnverifiedRefusals = _refusals.GetValueOrDefault(nameof(Streaming.Ingress.Publishing.PublishOutcome.Unverified)),
            Delivered = delivered.Count(_accepted.ContainsKey),
            DeadLettered = dead.Count(_accepted.ContainsKey),
            Duplicates = duplicates,
            Missing = missing,
        };
    }

    /// <summary>
    /// Deliveries that reached the endpoint after a later event of the same conversation (business phone
    /// number id and customer, the ORDERING=key chain), against the events' order on the lane's main topic.
    /// Every 2xx counts, not only an event's first: a duplicate of m1 delivered after m2 is out of order.
    /// One pattern is not: a *rewind*, what at-least-once delivery does after a crash (the main topic is
    /// read again from the last committed offset), where the deliveries go back to an earlier event and
    /// then deliver, in order, again every later event that had been delivered (m1 m2 m1 m2). Events
    /// without a customer (account-level) are in no conversation. With ORDERING=key it must be 0.
    /// </summary>
    public static int OutOfOrder(IEnumerable<ReadRecord> main, DownstreamStub stub) => OutOfOrder(main, stub.Receipts);

    public static int OutOfOrder(IEnumerable<ReadRecord> main, IEnumerable<Receipt> receipts)
    {
        var positions = new Dictionary<string, (string Conversation, long Offset)>();
        foreach (var r in main.OrderBy(r => r.Partition).ThenBy(r => r.Offset))
        {
            if (r.Header(HeaderNames.EventId) is { } id && Conversation(r) is { } conversation)
            {
                positions.TryAdd(id, (conversation, r.Offset));
            }
        }

        var deliveries = receipts.Where(r => r.Answered is >= 200 and < 300 && positions.ContainsKey(r.EventId));
        var outOfOrder = 0;
        foreach (var conversation in deliveries.GroupBy(r => positions[r.EventId].Conversation))
        {
            var offsets = conversation.OrderBy(r => r.At).Select(r => positions[r.EventId].Offset).ToArray();
            var highest = -1L;
            for (var i = 0; i < offsets.Length; i++)
            {
                outOfOrder += offsets[i] < highest && !Rewind(offsets, i, highest) ? 1 : 0;
                highest = Math.Max(highest, offsets[i]);
            }
        }

        return outOfOrder;
    }

    /// <summary>
    /// Whether the delivery at <paramref name="at"/>, below <paramref name="highest"/>, starts (or continues)
    /// an in-order replay that delivers again every event above it up to the highest before any new one.
    /// </summary>
    private static bool Rewind(long[] offsets, int at, long highest)
    {
        var owed = offsets.Take(at).Where(o => o > offsets[at] && o <= highest).ToHashSet();
        var previous = offsets[at];
        for (var k = at + 1; k < offsets.Length && owed.Count > 0; k++)
        {
            if (offsets[k] < previous || offsets[k] > highest)
            {
                return false;
            }

            owed.Remove(offsets[k]);
            previous = offsets[k];
        }

        return owed.Count == 0;
    }

    /// <summary>The record's conversation: its envelope's phone number id and the customer (the message's sender); null when it has none.</summary>
    private static string? Conversation(ReadRecord record)
    {
        // Plain JSON, or framed (magic byte 0 and a 4-byte schema id) when the Schema Registry is on.
        var json = record.Value.Length > 5 && record.Value[0] == 0 ? record.Value.AsMemory(5) : record.Value.AsMemory();
        try
        {
            using var envelope = System.Text.Json.JsonDocument.Parse(json);
            var root = envelope.RootElement;
            var phone = root.TryGetProperty("phoneNumberId", out var p) && p.ValueKind == System.Text.Json.JsonValueKind.String ? p.GetString() : "";
            return root.TryGetProperty("payload", out var payload) && payload.ValueKind == System.Text.Json.JsonValueKind.Object
                && payload.TryGetProperty("from", out var from) && from.ValueKind == System.Text.Json.JsonValueKind.String
                ? $"{phone}|{from.GetString()}"
                : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>Polls until nothing accepted is missing, or the deadline passes.</summary>
    public async Task<LedgerResult> SettleAsync(PipelineScenario scenario, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var result = Check(scenario.Stub, LaneNames.All.SelectMany(l => scenario.DeadLetters(l).Select(d => d.Letter)));
            if (result.Missing.Count == 0 || DateTime.UtcNow > deadline)
            {
                var main = TopicReader.ReadAll(scenario.Broker.BootstrapServers, scenario.Topology[Lane.Messages].Main.Name);
                return result with { OutOfOrderPerKey = OutOfOrder(main, scenario.Stub) };
            }

            await Task.Delay(250);
        }
    }

    private static string OutcomeOf(string? answer)
    {
        const string prefix = "not stored (";
        if (answer is null || !answer.StartsWith(prefix, StringComparison.Ordinal) || answer.IndexOf(')', prefix.Length) is var end && end < 0)
        {
            return "unknown";
        }

        return answer[prefix.Length..end];
    }
}

/// <summary>
/// One scenario run's books. A new column is a new property here plus one line in
/// <see cref="SoakLedger.Columns"/>; the JSON lines and the soak table pick it up from there.
/// </summary>
public sealed record LedgerResult
{
    public int Accepted { get; init; }

    public int Refused { get; init; }

    /// <summary>503s whose answer named an unverified acknowledgement (client side).</summary>
    public int UnverifiedRefusals { get; init; }

    public int Delivered { get; init; }

    public int DeadLettered { get; init; }

    public int Duplicates { get; init; }

    public IReadOnlyCollection<string> Missing { get; init; } = [];

    /// <summary>The ingress's count of unverified acknowledgements that decided a webhook's answer (whatsapp_ingress_unverified_acks_total).</summary>
    public long UnverifiedAcks { get; init; }

    /// <summary>Worker moves reported persisted without an offset and produced again (whatsapp_worker_unverified_acks_total, in-process workers).</summary>
    public long UnverifiedMoves { get; init; }

    /// <summary>Messages-lane deliveries, duplicates included, that came after a later event of their conversation (see <see cref="Ledger.OutOfOrder"/>).</summary>
    public int OutOfOrderPerKey { get; init; }

    /// <summary>
    /// Records the workers settled without a delivery or a dead letter, each counted with its reason
    /// (whatsapp_worker_not_delivered_total: duplicate, superseded, already-settled). Not a loss: an event
    /// is lost only if its id is <see cref="Missing"/>, i.e. no copy of it was delivered or dead-lettered.
    /// </summary>
    public long NotDelivered { get; init; }

    public override string ToString() =>
        $"accepted {Accepted}, refused (503) {Refused} ({UnverifiedRefusals} unverified), delivered {Delivered}, dead-lettered {DeadLettered}, "
        + $"duplicates {Duplicates}, missing {Missing.Count}, unverified acks: ingress {UnverifiedAcks}, worker moves {UnverifiedMoves}"
        + $", out-of-order deliveries per conversation {OutOfOrderPerKey}, dropped as duplicate or superseded {NotDelivered}"
        + (Missing.Count > 0 ? $" (e.g. {string.Join(", ", Missing.Take(5))})" : "");
}
