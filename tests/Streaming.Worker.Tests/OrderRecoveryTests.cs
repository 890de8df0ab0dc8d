using System.Text;
using Confluent.Kafka;
using Streaming.Contracts;
using Streaming.EmbeddedKafka;
using Streaming.Testing;
using Streaming.Worker.Telemetry;
using Xunit.Abstractions;

namespace Streaming.Worker.Tests;

/// <summary>
/// ORDERING=key after a crash, on the embedded broker, with the crash's after-effects made exactly: the
/// main offsets not committed after the followers were forwarded and their block written (the group's
/// offsets rewound), and a follower forwarded twice because the crash came before its block was written
/// (a second copy in the tier). Each event is delivered once, in order, and what is not delivered is counted.
/// </summary>
public sealed class OrderRecoveryTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(120);
    private const string Customer = "4915550077";
    private static readonly string[] Conversation = Enumerable.Range(1, 5).Select(i => $"wamid.recover-m{i}").ToArray();

    private static StubReply FailHeadTwice(Receipt receipt, int attempt) =>
        receipt.EventId == Conversation[0] && attempt <= 2 ? new StubReply(503) : StubReply.Ok;

    private string[] EveryDelivery(PipelineScenario scenario)
    {
        var every = scenario.Stub.Receipts.Where(r => r.Key == Customer && r.Answered is >= 200 and < 300).OrderBy(r => r.At).Select(r => r.EventId).ToArray();
        output.WriteLine("every delivery: " + string.Join(", ", every));
        return every;
    }

    private static async Task FollowersInTheTierAsync(PipelineScenario scenario) =>
        await Poll.UntilAsync(() => scenario.RetryRecords(Lane.Messages).Any(r => r.Header(HeaderNames.EventId) == Conversation[^1]), Settle,
            "the followers to join the head in its tier");

    /// <summary>
    /// SIGKILL after the followers were forwarded and their blocks written, before the main offsets were
    /// committed (the broker refuses every offset commit until the kill): the next worker reads the
    /// conversation's main records again and recognises each as already in its chain.
    /// </summary>
    [EmbeddedKafkaFact]
    public async Task Main_records_read_again_after_a_kill_between_the_block_write_and_the_commit_are_duplicates_not_forwarded_twice()
    {
        await using var scenario = await PipelineScenario.StartAsync(retryDelays: "3s,4s");
        scenario.Stub.Reply = FailHeadTwice;
        using var counters = new CounterListener((WorkerTelemetry.Name, "not_delivered_total"));
        var cluster = scenario.Broker.Embedded!;
        using (var process = ServiceProcess.Start("Streaming.Worker.dll", scenario.WorkerSettings(Lane.Messages)))
        {
            cluster.PushRequestErrors(KafkaApiKey.OffsetCommit, Enumerable.Repeat(ErrorCode.RequestTimedOut, 100_000).ToArray());
            scenario.Produce(Lane.Messages, [(Conversation[0], Customer)]);
            scenario.Produce(Lane.Messages, Conversation.Skip(1).Select(id => (id, Customer)));
            await FollowersInTheTierAsync(scenario);
            Assert.False(process.HasExited, process.Output);
            process.Kill();
        }

        cluster.ClearRequestErrors(KafkaApiKey.OffsetCommit);
        Assert.Empty(scenario.Stub.Delivered.Intersect(Conversation));
        Assert.Equal(0, scenario.Committed(Lane.Messages));

        await scenario.StartWorkerAsync(Lane.Messages);
        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, Conversation, Settle));
        await Poll.UntilAsync(() => counters[WorkerTelemetry.Name, "not_delivered_total"] >= Conversation.Length, Settle,
            "the main records read again to be counted as duplicates");

        Assert.Equal(Conversation, EveryDelivery(scenario));
        Assert.Equal(Conversation.Length, counters[WorkerTelemetry.Name, "not_delivered_total"]);
        Assert.Empty(scenario.DeadLetters(Lane.Messages));
    }

    [Fact]
    public async Task A_follower_forwarded_twice_before_its_block_was_written_is_delivered_once_and_the_copy_counted()
    {
        await using var scenario = await PipelineScenario.StartAsync(retryDelays: "3s,4s");
        scenario.Stub.Reply = FailHeadTwice;
        using var counters = new CounterListener((WorkerTelemetry.Name, "not_delivered_total"));
        await scenario.StartWorkerAsync(Lane.Messages);
        scenario.Produce(Lane.Messages, [(Conversation[0], Customer)]);
        scenario.Produce(Lane.Messages, Conversation.Skip(1).Select(id => (id, Customer)));
        await FollowersInTheTierAsync(scenario);

        // The copy a crash between the forward and the block write leaves: the same record, same place in
        // the chain, once more in the tier partition, behind the followers already there.
        var copy = scenario.RetryRecords(Lane.Messages).First(r => r.Header(HeaderNames.EventId) == Conversation[2]);
        using (var producer = new ProducerBuilder<string?, byte[]>(new ProducerConfig
        {
            BootstrapServers = scenario.Broker.BootstrapServers, EnableIdempotence = true, Acks = Acks.All,
        }).Build())
        {
            var headers = new Headers();
            foreach (var (name, value) in copy.Headers)
            {
                headers.Add(name, Encoding.UTF8.GetBytes(value));
            }

            var result = await producer.ProduceAsync(new TopicPartition(copy.Topic, copy.Partition),
                new Message<string?, byte[]> { Key = copy.Key, Value = copy.Value, Headers = headers });
            Assert.Equal(PersistenceStatus.Persisted, result.Status);
        }

        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, Conversation, Settle));
        await Poll.UntilAsync(() => counters[WorkerTelemetry.Name, "not_delivered_total"] >= 1, Settle, "the copy to be counted already settled");
        Assert.Equal(Conversation, EveryDelivery(scenario));
        Assert.Equal(1, counters[WorkerTelemetry.Name, "not_delivered_total"]);
    }
}
