using System.Text.Json;
using Streaming.Contracts;
using Streaming.Testing;
using Streaming.Worker.Telemetry;
using Xunit.Abstractions;

namespace Streaming.Worker.Tests;

/// <summary>
/// ORDERING=key on the messages lane: a customer's later messages wait behind the one in a retry tier and
/// arrive after it, in order, across a SIGKILL, a replica taking over, and a dead-lettered head; other
/// customers flow meanwhile. Statuses never go backwards.
/// </summary>
public sealed class OrderingTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(120);
    private const string Customer = "4915550001";

    private static readonly string[] Conversation = Enumerable.Range(1, 5).Select(i => $"wamid.order-m{i}").ToArray();

    private static (string, string)[] Others(string prefix) =>
        Enumerable.Range(0, 60).Select(i => ($"wamid.{prefix}-other-{i}", $"49166{i % 12:D4}")).ToArray();

    /// <summary>m1 fails twice, then succeeds; everything else succeeds at once.</summary>
    private static StubReply FailHeadTwice(Receipt receipt, int attempt) =>
        receipt.EventId == Conversation[0] && attempt <= 2 ? new StubReply(503) : StubReply.Ok;

    /// <summary>First 2xx per event, in the order the sink saw them.</summary>
    private static Receipt[] FirstDeliveries(DownstreamStub stub) =>
        stub.Receipts.Where(r => r.Answered is >= 200 and < 300).GroupBy(r => r.EventId).Select(g => g.OrderBy(r => r.At).First()).OrderBy(r => r.At).ToArray();

    private void AssertConversationInOrder(PipelineScenario scenario, (string, string)[] others)
    {
        var first = FirstDeliveries(scenario.Stub);
        var conversation = first.Where(r => r.Key == Customer).Select(r => r.EventId).ToArray();
        Assert.Equal(Conversation, conversation);

        var head = first.Single(r => r.EventId == Conversation[0]);
        var lateOthers = first.Where(r => r.Key != Customer && others.Any(o => o.Item1 == r.EventId) && r.At > head.At).ToArray();
        var waits = first.Where(r => r.Key == Customer && r.EventId != Conversation[0])
            .Select(r => r.At - r.Envelope.GetProperty("receivedAt").GetDateTimeOffset()).ToArray();
        output.WriteLine($"head delivered after {(head.At - head.Envelope.GetProperty("receivedAt").GetDateTimeOffset()).TotalSeconds:0.0} s; " +
            $"longest a follower waited behind it: {waits.Max().TotalSeconds:0.0} s; other customers delivered after the head: {lateOthers.Length} of {others.Length}; " +
            $"duplicates {scenario.Stub.Receipts.Count(r => r.Answered is >= 200 and < 300) - first.Length}");
        // Other customers are not held behind the blocked one: they all went through while m1 was retrying.
        Assert.Empty(lateOthers);
    }

    private static void ProduceConversation(PipelineScenario scenario, (string, string)[] others)
    {
        scenario.Produce(Lane.Messages, [(Conversation[0], Customer)]);
        scenario.Produce(Lane.Messages, Conversation.Skip(1).Select(id => (id, Customer)).Concat(others));
    }

    [Fact]
    public async Task A_customers_messages_arrive_in_order_when_the_first_one_is_retried_while_other_customers_flow()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        scenario.Stub.Reply = FailHeadTwice;
        await scenario.StartWorkerAsync(Lane.Messages);
        var others = Others("flow");
        ProduceConversation(scenario, others);

        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, [.. Conversation, .. others.Select(o => o.Item1)], Settle));
        AssertConversationInOrder(scenario, others);
        Assert.Empty(scenario.DeadLetters(Lane.Messages));
        Assert.Equal(3, scenario.Stub.Attempts(Conversation[0]));
    }

    [Fact]
    public async Task The_order_holds_when_the_worker_is_killed_while_the_head_waits_in_a_tier()
    {
        await using var scenario = await PipelineScenario.StartAsync(retryDelays: "3s,4s");
        scenario.Stub.Reply = FailHeadTwice;
        var others = Others("kill");
        ProduceConversation(scenario, others);

        using (var process = ServiceProcess.Start("Streaming.Worker.dll", scenario.WorkerSettings(Lane.Messages)))
        {
            await Poll.UntilAsync(() => process.HasExited || scenario.RetryRecords(Lane.Messages).Any(r => r.Header(HeaderNames.EventId) == Conversation[^1]),
                Settle, "the followers to join the head in its tier");
            Assert.False(process.HasExited, process.Output);
            process.Kill();
        }

        Assert.True(scenario.Stub.Delivered.Intersect(Conversation).Count() == 0, "nothing of the conversation delivered before the kill");
        await scenario.StartWorkerAsync(Lane.Messages);
        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, [.. Conversation, .. others.Select(o => o.Item1)], Settle));
        AssertConversationInOrder(scenario, []);
        // The followers' main offsets may not have been committed before the kill: read again, they are
        // recognised as already in the chain, not forwarded twice. Every delivery, duplicates included, in order.
        var every = scenario.Stub.Receipts.Where(r => r.Key == Customer && r.Answered is >= 200 and < 300).OrderBy(r => r.At)
            .Select(r => Array.IndexOf(Conversation, r.EventId)).ToArray();
        output.WriteLine("every delivery of the conversation: " + string.Join(",", every.Select(i => $"m{i + 1}")));
        Assert.True(every.Zip(every.Skip(1)).All(p => p.First <= p.Second), "a delivery came after a later one: " + string.Join(",", every.Select(i => $"m{i + 1}")));
    }

    [Fact]
    public async Task The_order_holds_when_a_second_replica_takes_the_partitions_over()
    {
        await using var scenario = await PipelineScenario.StartAsync(retryDelays: "3s,4s");
        scenario.Stub.Reply = FailHeadTwice;
        using var counters = new CounterListener((WorkerTelemetry.Name, "order_released_total"));
        Uri Url(string replica) => new(scenario.Stub.LaneUrl(Lane.Messages) + "?replica=" + replica);
        var first = await scenario.StartWorkerAsync(Lane.Messages, ("DELIVERY_URL", Url("a").ToString()));
        var others = Others("takeover");
        ProduceConversation(scenario, others);

        await Poll.UntilAsync(() => scenario.RetryRecords(Lane.Messages).Any(r => r.Header(HeaderNames.EventId) == Conversation[^1]),
            Settle, "the followers to join the head in its tier");
        await scenario.StartWorkerAsync(Lane.Messages, ("DELIVERY_URL", Url("b").ToString()));
        await first.StopAsync();

        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, [.. Conversation, .. others.Select(o => o.Item1)], Settle));
        AssertConversationInOrder(scenario, []);
        var byReplica = FirstDeliveries(scenario.Stub).Where(r => r.Key == Customer).Select(r => r.Replica).ToArray();
        output.WriteLine("conversation delivered by: " + string.Join(",", byReplica));
        Assert.All(byReplica, r => Assert.Equal("b", r));
        // The new owner releases the conversation its predecessor blocked (under its own epoch, not fenced).
        await Poll.UntilAsync(() => counters[WorkerTelemetry.Name, "order_released_total"] >= 1, Settle, "the new owner to release the conversation");
    }

    /// <summary>
    /// Regression (fault suite, out-of-order deliveries per key): m1 fails once and is delivered from the
    /// first tier; m2, its follower there, then fails once itself as the new head. A follower's first
    /// attempt goes to the first tier, the tier it already sits in, so m2's new copy lands behind m3..m5 in
    /// the same partition. They are not its head and must not be attempted before it: they are forwarded
    /// behind it again, and m2 arrives before them.
    /// </summary>
    [Fact]
    public async Task A_follower_that_fails_once_it_is_the_head_is_not_overtaken_by_the_followers_behind_its_old_copy()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        scenario.Stub.Reply = (r, attempt) => (r.EventId == Conversation[0] || r.EventId == Conversation[1]) && attempt == 1 ? new StubReply(503) : StubReply.Ok;
        await scenario.StartWorkerAsync(Lane.Messages);
        ProduceConversation(scenario, []);

        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, Conversation, Settle));
        var order = FirstDeliveries(scenario.Stub).Where(r => r.Key == Customer).Select(r => r.EventId).ToArray();
        output.WriteLine("the sink saw: " + string.Join(", ", order));
        Assert.Equal(Conversation, order);
        Assert.Equal(2, scenario.Stub.Attempts(Conversation[1]));
        Assert.Empty(scenario.DeadLetters(Lane.Messages));
    }

    [Fact]
    public async Task A_dead_lettered_head_releases_its_followers_with_the_after_dead_letter_header()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        scenario.Stub.Reply = (r, _) => r.EventId == Conversation[0] ? new StubReply(503) : StubReply.Ok;
        await scenario.StartWorkerAsync(Lane.Messages);
        ProduceConversation(scenario, []);

        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, Conversation, Settle));
        var letter = Assert.Single(scenario.DeadLetters(Lane.Messages)).Letter;
        Assert.Equal(Conversation[0], letter.EventId);
        Assert.Equal(DeadLetterReasons.RetriesExhausted, letter.Reason);

        var followers = FirstDeliveries(scenario.Stub).Where(r => r.Key == Customer).ToArray();
        Assert.Equal(Conversation.Skip(1), followers.Select(r => r.EventId));
        Assert.All(followers, r => Assert.Equal(Conversation[0], r.AfterDeadLetter));
        Assert.True(followers[0].At >= scenario.Stub.Receipts.Where(r => r.EventId == Conversation[0]).Max(r => r.At), "followers after the head's last attempt");
    }

    [Fact]
    public async Task More_followers_than_the_bound_go_to_the_dead_letter_topic_as_order_blocked_with_their_destination_and_are_counted()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        scenario.Stub.Reply = FailHeadTwice;
        var worker = await scenario.StartWorkerAsync(Lane.Messages, ("ORDERING_MAX_BLOCKED", "2"));
        ProduceConversation(scenario, []);

        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, Conversation, Settle));
        Assert.Equal(Conversation.Take(3), FirstDeliveries(scenario.Stub).Where(r => r.Key == Customer).Select(r => r.EventId));
        var blocked = scenario.DeadLetters(Lane.Messages).Select(d => d.Letter).ToArray();
        Assert.Equal(Conversation.Skip(3), blocked.Select(l => l.EventId).Order());
        Assert.All(blocked, l => Assert.Equal(DeadLetterReasons.OrderBlocked, l.Reason));
        // The head's destination, so that `streamctl dlq replay --destination` finds them.
        Assert.All(blocked, l => Assert.Equal("default", l.Destination));
        var metrics = await worker.Client.GetStringAsync("/metrics");
        Assert.Equal(2, MetricsText.Value(metrics, "whatsapp_worker_dead_lettered_total{lane=\"messages\",reason=\"order-blocked\""));
    }

    [Fact]
    public async Task Without_ordering_later_messages_overtake_the_retried_one()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        scenario.Stub.Reply = FailHeadTwice;
        await scenario.StartWorkerAsync(Lane.Messages, ("ORDERING", "none"));
        ProduceConversation(scenario, []);

        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, Conversation, Settle));
        // Today's behaviour, shown so that the ordered tests above can fail.
        Assert.Equal(Conversation[0], FirstDeliveries(scenario.Stub).Last(r => r.Key == Customer).EventId);
    }

    [Fact]
    public async Task A_status_never_goes_backwards_and_a_retried_lower_one_is_counted_superseded()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        const string wamid = "wamid.status-truth";
        const string recipient = "4917770001";
        scenario.Stub.Reply = (r, attempt) => r.EventId == $"{wamid}:sent" && attempt == 1 ? new StubReply(503) : StubReply.Ok;
        var worker = await scenario.StartWorkerAsync(Lane.Statuses);

        scenario.ProduceEnvelope(Lane.Statuses, $"{wamid}:sent", recipient, Status(wamid, recipient, "sent"));
        await Poll.UntilAsync(() => scenario.RetryRecords(Lane.Statuses).Count == 1, Settle, "sent to wait in a retry tier");
        scenario.ProduceEnvelope(Lane.Statuses, $"{wamid}:delivered", recipient, Status(wamid, recipient, "delivered"));
        scenario.ProduceEnvelope(Lane.Statuses, $"{wamid}:read", recipient, Status(wamid, recipient, "read"));

        async Task<double> Superseded() =>
            MetricsText.Value(await worker.Client.GetStringAsync("/metrics"), "whatsapp_worker_statuses_superseded_total{lane=\"statuses\"");
        Assert.Equal(1, await Poll.UntilAsync(Superseded, s => s >= 1, Settle, "sent to be counted superseded"));

        var ranks = FirstDeliveries(scenario.Stub).Select(r => r.Envelope.GetProperty("payload").GetProperty("status").GetString() ?? "").ToArray();
        output.WriteLine("the sink saw: " + string.Join(", ", ranks));
        Assert.Equal(["delivered", "read"], ranks);
        Assert.Equal(1, scenario.Stub.Attempts($"{wamid}:sent"));
        Assert.Empty(scenario.DeadLetters(Lane.Statuses));
    }

    /// <summary>
    /// Status truth across a rolling restart: the new worker knows the highest rank delivered or in flight
    /// before it, whether a lower status waits in a tier (A: <c>delivered</c> retried, <c>read</c> delivered
    /// meanwhile) or comes late from Meta with nothing of its message pending (B: <c>read</c> delivered from
    /// the main topic, then <c>delivered</c> after the restart).
    /// </summary>
    [Fact]
    public async Task A_status_never_goes_backwards_across_a_rolling_restart()
    {
        // A's delivered waits 10 s: the restart comes before it is due, so the new worker reads it.
        await using var scenario = await PipelineScenario.StartAsync(retryDelays: "10s,20s");
        const string a = "wamid.restart-a";
        const string b = "wamid.restart-b";
        const string recipient = "4917770002";
        scenario.Stub.Reply = (r, attempt) => r.EventId == $"{a}:delivered" && attempt == 1 ? new StubReply(503) : StubReply.Ok;
        using var counters = new CounterListener((WorkerTelemetry.Name, "statuses_superseded_total"), (WorkerTelemetry.Name, "not_delivered_total"));
        var first = await scenario.StartWorkerAsync(Lane.Statuses);

        scenario.ProduceEnvelope(Lane.Statuses, $"{a}:delivered", recipient, Status(a, recipient, "delivered"));
        await Poll.UntilAsync(() => scenario.RetryRecords(Lane.Statuses).Count == 1, Settle, "A's delivered to wait in a retry tier");
        scenario.ProduceEnvelope(Lane.Statuses, $"{a}:read", recipient, Status(a, recipient, "read"));
        scenario.ProduceEnvelope(Lane.Statuses, $"{b}:read", recipient, Status(b, recipient, "read"));
        await Poll.UntilAsync(() => scenario.Stub.Delivered.Contains($"{a}:read") && scenario.Stub.Delivered.Contains($"{b}:read"), Settle, "both reads to be delivered");
        await first.StopAsync();
        Assert.DoesNotContain($"{a}:delivered", scenario.Stub.Delivered);

        await scenario.StartWorkerAsync(Lane.Statuses);
        scenario.ProduceEnvelope(Lane.Statuses, $"{b}:delivered", recipient, Status(b, recipient, "delivered"));

        await Poll.UntilAsync(() => counters[WorkerTelemetry.Name, "statuses_superseded_total"] >= 2, Settle, "both lower statuses to be counted superseded by the new worker");
        // Both lower statuses are dropped, never attempted (asserted below). A record read again while the new
        // worker's consumers join one by one (a commit refused during that rebalance) is counted again: at-least-once.
        Assert.InRange(counters[WorkerTelemetry.Name, "statuses_superseded_total"], 2, 4);
        var ranks = FirstDeliveries(scenario.Stub).Select(r => r.EventId).ToArray();
        output.WriteLine("the sink saw: " + string.Join(", ", ranks));
        Assert.Equal([$"{a}:read", $"{b}:read"], ranks.Order());
        Assert.Equal(counters[WorkerTelemetry.Name, "statuses_superseded_total"], counters[WorkerTelemetry.Name, "not_delivered_total"]);
        Assert.Equal(1, scenario.Stub.Attempts($"{a}:delivered"));
        Assert.Equal(0, scenario.Stub.Attempts($"{b}:delivered"));
    }

    private static byte[] Status(string wamid, string recipient, string status) =>
        JsonSerializer.SerializeToUtf8Bytes(new EventEnvelope
        {
            EventId = $"{wamid}:{status}",
            Type = EventTypes.Status,
            Lane = LaneNames.Statuses,
            WabaId = "waba-test",
            ReceivedAt = DateTimeOffset.UtcNow,
            Payload = JsonDocument.Parse($$"""{"id":"{{wamid}}","recipient_id":"{{recipient}}","status":"{{status}}","timestamp":"1700000000"}""").RootElement,
        }, ContractsJsonContext.Default.EventEnvelope);
}
