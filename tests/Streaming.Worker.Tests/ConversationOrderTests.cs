using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Streaming.Contracts;
using Streaming.Kafka;
using Streaming.Testing;
using Streaming.Worker.Consuming;
using Streaming.Worker.Ordering;
using Streaming.Worker.Pipeline;
using Streaming.Worker.Processing;
using Streaming.Worker.Telemetry;
using Xunit.Abstractions;

namespace Streaming.Worker.Tests;

/// <summary>
/// ORDERING=key on the embedded broker, as an operator would meet it: a conversation is one business and
/// one customer; a replayed head is delivered; a head that ends in a processing error releases its chain.
/// </summary>
public sealed class ConversationOrderTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(120);
    private const string Customer = "4915550042";

    private static Receipt[] FirstDeliveries(DownstreamStub stub) =>
        stub.Receipts.Where(r => r.Answered is >= 200 and < 300).GroupBy(r => r.EventId).Select(g => g.OrderBy(r => r.At).First()).OrderBy(r => r.At).ToArray();

    private static string? PhoneNumberId(Receipt r) =>
        r.Envelope.TryGetProperty("phoneNumberId", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;

    private static void ProduceMessage(PipelineScenario scenario, string phoneNumberId, string eventId) =>
        scenario.ProduceEnvelope(Lane.Messages, eventId, Customer, JsonSerializer.SerializeToUtf8Bytes(new EventEnvelope
        {
            EventId = eventId, Type = EventTypes.Message, Lane = LaneNames.Messages, WabaId = "waba-" + phoneNumberId, PhoneNumberId = phoneNumberId,
            ReceivedAt = DateTimeOffset.UtcNow,
            Payload = JsonDocument.Parse($$$"""{"from":"{{{Customer}}}","id":"{{{eventId}}}","type":"text","text":{"body":"hi"}}""").RootElement,
        }, ContractsJsonContext.Default.EventEnvelope));

    [Fact]
    public async Task A_customers_messages_to_a_healthy_business_do_not_wait_behind_another_business_and_never_name_its_dead_letter()
    {
        await using var scenario = await PipelineScenario.StartAsync(retryDelays: "2s,4s");
        scenario.Stub.Reply = (r, _) => PhoneNumberId(r) == "pn-dead" ? new StubReply(503) : StubReply.Ok;
        await scenario.StartWorkerAsync(Lane.Messages);

        ProduceMessage(scenario, "pn-dead", "wamid.to-a");
        await Poll.UntilAsync(() => scenario.RetryRecords(Lane.Messages).Any(r => r.Header(HeaderNames.EventId) == "wamid.to-a"), Settle, "A's message to wait in a tier");
        ProduceMessage(scenario, "pn-live", "wamid.to-b-1");
        ProduceMessage(scenario, "pn-live", "wamid.to-b-2");

        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, ["wamid.to-a", "wamid.to-b-1", "wamid.to-b-2"], Settle));
        var toB = FirstDeliveries(scenario.Stub).Where(r => PhoneNumberId(r) == "pn-live").ToArray();
        var deadAt = scenario.Stub.Receipts.Where(r => r.EventId == "wamid.to-a").Max(r => r.At);
        output.WriteLine($"B's messages waited {toB.Select(r => (r.At - r.Envelope.GetProperty("receivedAt").GetDateTimeOffset()).TotalSeconds).Max():0.00} s; A's last attempt {deadAt:O}");

        Assert.Equal(["wamid.to-b-1", "wamid.to-b-2"], toB.Select(r => r.EventId));
        Assert.All(toB, r => Assert.Null(r.AfterDeadLetter));
        // Not held behind A's ladder: delivered before A's second attempt, from its first tier.
        var secondAttemptOfA = scenario.Stub.Receipts.Where(r => r.EventId == "wamid.to-a").OrderBy(r => r.At).ElementAt(1).At;
        Assert.All(toB, r => Assert.True(r.At < secondAttemptOfA, $"{r.EventId} at {r.At:O}, after A's second attempt {secondAttemptOfA:O}"));
        Assert.Equal("wamid.to-a", Assert.Single(scenario.DeadLetters(Lane.Messages)).Letter.EventId);
    }

    [Fact]
    public async Task A_head_replayed_while_its_follower_retries_is_delivered_after_it_not_dropped()
    {
        await using var scenario = await PipelineScenario.StartAsync(retryDelays: "2s,4s");
        var endpointUp = false;
        scenario.Stub.Reply = (_, _) => Volatile.Read(ref endpointUp) ? StubReply.Ok : new StubReply(503);
        using var counters = new CounterListener((WorkerTelemetry.Name, "not_delivered_total"));
        await scenario.StartWorkerAsync(Lane.Messages);
        scenario.Produce(Lane.Messages, [("wamid.replay-m1", Customer)]);
        scenario.Produce(Lane.Messages, [("wamid.replay-m2", Customer)]);

        // m1 dead-lettered; m2, its follower, is now the head and retries.
        await Poll.UntilAsync(() => scenario.DeadLetters(Lane.Messages).Any(d => d.Letter.EventId == "wamid.replay-m1"), Settle, "m1 to be dead-lettered");
        await Poll.UntilAsync(() => scenario.Stub.Attempts("wamid.replay-m2") >= 1, Settle, "m2 to be attempted as the new head");
        Assert.DoesNotContain(scenario.DeadLetters(Lane.Messages), d => d.Letter.EventId == "wamid.replay-m2");

        Replay(scenario, scenario.DeadLetters(Lane.Messages).Single(d => d.Letter.EventId == "wamid.replay-m1"));
        Volatile.Write(ref endpointUp, true);

        await Poll.UntilAsync(() => scenario.Stub.Delivered.Contains("wamid.replay-m1") && scenario.Stub.Delivered.Contains("wamid.replay-m2"), Settle,
            "both to be delivered");
        var delivered = FirstDeliveries(scenario.Stub);
        output.WriteLine("the sink saw: " + string.Join(", ", delivered.Select(r => $"{r.EventId} (after-dead-letter {r.AfterDeadLetter})")));
        // The replay joins its conversation's tail: after m2, which was told m1 was dead-lettered.
        Assert.Equal(["wamid.replay-m2", "wamid.replay-m1"], delivered.Select(r => r.EventId));
        Assert.Equal("wamid.replay-m1", delivered[0].AfterDeadLetter);
        Assert.Null(delivered[1].AfterDeadLetter);
        Assert.Equal(0, counters[WorkerTelemetry.Name, "not_delivered_total"]); // nothing of it dropped
    }

    [Fact]
    public async Task A_head_dead_lettered_as_processing_error_releases_its_followers()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        scenario.Stub.Reply = (r, attempt) => r.EventId == "wamid.bug-m1" && attempt == 1 ? new StubReply(503) : StubReply.Ok;
        var app = WorkerApp.Build([], b =>
        {
            b.Configuration.AddInMemoryCollection(scenario.WorkerSettings(Lane.Messages));
            // m1's first attempt fails (503), so it heads the chain from a tier; there its processing throws.
            // The worker's own steps, with one that throws for m1 in a tier right after the key-order step.
            b.Services.AddSingleton<IRecordHandler>(sp => new RecordPipeline(
                sp.GetRequiredService<PipelineServiceCollectionExtensions.PipelineSteps>().Resolve(sp)
                    .SelectMany(step => step is KeyOrderStep ? [step, new ThrowingInTier("wamid.bug-m1", sp.GetRequiredService<Topology>()[Lane.Messages].Main.Name)] : new[] { step }),
                sp.GetRequiredService<Topology>(), sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<WorkerOptions>>()));
        });
        await app.StartAsync();
        try
        {
            string[] followers = ["wamid.bug-m2", "wamid.bug-m3"];
            scenario.Produce(Lane.Messages, [("wamid.bug-m1", Customer)]);
            scenario.Produce(Lane.Messages, followers.Select(id => (id, Customer)));

            Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, ["wamid.bug-m1", .. followers], Settle));
            var letter = Assert.Single(scenario.DeadLetters(Lane.Messages)).Letter;
            Assert.Equal(("wamid.bug-m1", DeadLetterReasons.ProcessingError), (letter.EventId, letter.Reason));
            var delivered = FirstDeliveries(scenario.Stub).Where(r => r.Key == Customer).ToArray();
            Assert.Equal(followers, delivered.Select(r => r.EventId));
            Assert.All(delivered, r => Assert.Equal("wamid.bug-m1", r.AfterDeadLetter));
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>
    /// A previous owner's block write that lands after the new owner claimed the partition (its produce was
    /// still in flight, or its release sweep retried) is fenced: here it names a chain that no longer exists,
    /// and would hold the conversation behind it for ever. Written straight to the order partition where the
    /// partition's claims are, after the running worker's claim, under an earlier epoch.
    /// </summary>
    [Fact]
    public async Task A_previous_owners_late_block_write_is_fenced_and_does_not_hold_the_conversation()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        var lane = scenario.Topology[Lane.Messages];
        using var counters = new CounterListener((WorkerTelemetry.Name, "order_fenced_writes_total"), (WorkerTelemetry.Name, "order_followed_total"));
        await scenario.StartWorkerAsync(Lane.Messages);
        scenario.Produce(Lane.Messages, [("wamid.fence-m0", Customer)]);
        await Poll.UntilAsync(() => scenario.Stub.Delivered.Contains("wamid.fence-m0"), Settle, "m0 to be delivered");
        var partition = TopicReader.ReadAll(scenario.Broker.BootstrapServers, lane.Main.Name).Single(r => r.Header(HeaderNames.EventId) == "wamid.fence-m0").Partition;
        await Poll.UntilAsync(() => TopicReader.ReadAll(scenario.Broker.BootstrapServers, lane.Order.Name).Any(r => r.Key == $"o|{partition}"),
            Settle, "the worker to claim the partition");

        using (var producer = new ProducerBuilder<string?, byte[]>(new ProducerConfig
        {
            BootstrapServers = scenario.Broker.BootstrapServers, EnableIdempotence = true, Acks = Acks.All,
        }).Build())
        {
            var stale = Encoding.UTF8.GetBytes($$"""{"chain":"wamid.ghost","seq":3,"mainPartition":{{partition}},"tier":"{{lane.RetryTiers[0].Name}}","notBefore":"{{DateTimeOffset.UtcNow:O}}","epoch":1,"lastOffset":0}""");
            // The conversation's key, and the customer alone (what a worker before the conversation key wrote).
            foreach (var key in new[] { $"c||{Customer}", $"c|{Customer}" })
            {
                var result = await producer.ProduceAsync(new TopicPartition(lane.Order.Name, partition % lane.Order.Partitions),
                    new Message<string?, byte[]> { Key = key, Value = stale });
                Assert.Equal(PersistenceStatus.Persisted, result.Status);
            }
        }

        // Read (and fenced) by the worker's tail before the conversation's next messages are produced.
        await Poll.UntilAsync(() => counters[WorkerTelemetry.Name, "order_fenced_writes_total"] >= 2, Settle, "the stale writes to be read and fenced");
        Assert.Equal(2, counters[WorkerTelemetry.Name, "order_fenced_writes_total"]);
        scenario.Produce(Lane.Messages, [("wamid.fence-m1", Customer), ("wamid.fence-m2", Customer)]);

        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, ["wamid.fence-m1", "wamid.fence-m2"], TimeSpan.FromSeconds(30)));
        Assert.Equal(["wamid.fence-m0", "wamid.fence-m1", "wamid.fence-m2"], FirstDeliveries(scenario.Stub).Select(r => r.EventId));
        Assert.Empty(scenario.RetryRecords(Lane.Messages));
        Assert.Empty(scenario.DeadLetters(Lane.Messages));
        Assert.Equal(0, counters[WorkerTelemetry.Name, "order_followed_total"]);
    }

    /// <summary>
    /// What <c>streamctl dlq replay</c> wrote before it also dropped the order headers (DeadLetterReplayer):
    /// the original record, its retry headers dropped, marked replayed-from, and its old order-chain,
    /// order-seq and after-dead-letter still on it. The worker must not be misled by them.
    /// </summary>
    private static void Replay(PipelineScenario scenario, (ReadRecord Record, DeadLetter Letter) dead)
    {
        string[] journey = [HeaderNames.Attempt, HeaderNames.FirstFailedAt, HeaderNames.LastError, HeaderNames.LastStatusCode, HeaderNames.NotBefore,
            HeaderNames.OriginTopic, HeaderNames.ReplayedFrom, HeaderNames.DlqReason, HeaderNames.Destination];
        var headers = new Headers();
        foreach (var (name, value) in dead.Letter.OriginalHeaders.Where(h => !journey.Contains(h.Key)))
        {
            headers.Add(name, Encoding.UTF8.GetBytes(value));
        }

        headers.Add(HeaderNames.ReplayedFrom, Encoding.UTF8.GetBytes($"{dead.Record.Topic}/{dead.Record.Partition}/{dead.Record.Offset}"));
        using var producer = new ProducerBuilder<string?, byte[]>(new ProducerConfig
        {
            BootstrapServers = scenario.Broker.BootstrapServers, EnableIdempotence = true, Acks = Acks.All,
        }).Build();
        var result = producer.ProduceAsync(scenario.Topology[Lane.Messages].Main.Name,
            new Message<string?, byte[]> { Key = dead.Letter.Key, Value = dead.Letter.OriginalValue, Headers = headers }).GetAwaiter().GetResult();
        Assert.Equal(PersistenceStatus.Persisted, result.Status);
    }

    private sealed class ThrowingInTier(string eventId, string mainTopic) : IRecordStep
    {
        public Task InvokeAsync(RecordContext context, RecordDelegate next) =>
            context.Record.Topic != mainTopic && context.EventId == eventId ? throw new InvalidOperationException("a bug in processing") : next(context);
    }
}
