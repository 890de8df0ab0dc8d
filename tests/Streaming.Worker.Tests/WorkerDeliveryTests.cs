using System.Text.Json;
using Streaming.Contracts;
using Streaming.Testing;

namespace Streaming.Worker.Tests;

/// <summary>Each scenario on its own broker, with a downstream stub whose answers the test scripts.</summary>
[Collection(SharedKafkaContainer.Collection)]
public sealed class WorkerDeliveryTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    private static IEnumerable<(string, string)> Events(string prefix, int count, int keys = 7) =>
        Enumerable.Range(0, count).Select(i => ($"{prefix}-{i}", $"key-{i % keys}"));

    [Fact]
    public async Task Both_lanes_deliver_the_ingress_events_signed_the_standard_webhooks_way()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        await using var ingress = await IngressHost.StartAsync(scenario.Broker, ("RETRY_DELAYS", scenario.RetryDelays));
        await scenario.StartWorkerAsync(Lane.Messages);
        await scenario.StartWorkerAsync(Lane.Statuses);

        Assert.True((await ingress.PostSignedAsync(Fixtures.Get("mixed-batch.json"))).IsSuccessStatusCode);
        var expected = TopicReader.ReadAll(scenario.Broker.BootstrapServers, scenario.Topology[Lane.Messages].Main.Name, scenario.Topology[Lane.Statuses].Main.Name)
            .ToDictionary(r => r.Header(HeaderNames.EventId)!, r => r);
        Assert.Equal(4, expected.Count);

        var missing = await scenario.WaitSettledAsync(Lane.Messages, expected.Keys, Settle);
        Assert.Empty(missing);
        var receipts = scenario.Stub.Receipts;
        Assert.All(receipts, r => Assert.True(r.SignatureValid));
        foreach (var (id, record) in expected)
        {
            var receipt = Assert.Single(receipts, r => r.EventId == id);
            var lane = record.Topic == scenario.Topology[Lane.Messages].Main.Name ? LaneNames.Messages : LaneNames.Statuses;
            Assert.Equal(lane, receipt.Lane);
            Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(record.Value).RootElement, receipt.Envelope), "the endpoint gets the envelope as stored");
        }

        Assert.Empty(scenario.DeadLetters(Lane.Messages));
        Assert.Empty(scenario.RetryRecords(Lane.Statuses));
    }

    [Fact]
    public async Task A_500_then_200_is_delivered_after_one_tier_and_not_before_its_not_before()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        scenario.Stub.Reply = (_, attempt) => attempt == 1 ? new StubReply(500) : StubReply.Ok;
        await scenario.StartWorkerAsync(Lane.Messages);
        scenario.Produce(Lane.Messages, [("wamid.retry-once", "491111")]);

        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, ["wamid.retry-once"], Settle));
        var attempts = scenario.Stub.Receipts.Where(r => r.EventId == "wamid.retry-once").OrderBy(r => r.At).ToArray();
        Assert.Equal([500, 200], attempts.Select(a => a.Answered));
        Assert.True(attempts[1].At - attempts[0].At >= TimeSpan.FromSeconds(1), $"retried after {(attempts[1].At - attempts[0].At).TotalMilliseconds:0} ms, tier is 1 s");

        var retry = Assert.Single(scenario.RetryRecords(Lane.Messages));
        Assert.Equal(scenario.Topology[Lane.Messages].RetryTiers[0].Name, retry.Topic);
        Assert.Equal("491111", retry.Key);
        Assert.Equal("1", retry.Header(HeaderNames.Attempt));
        Assert.Equal("500", retry.Header(HeaderNames.LastStatusCode));
        Assert.Contains("500", retry.Header(HeaderNames.LastError));
        Assert.Equal(scenario.Topology[Lane.Messages].Main.Name, retry.Header(HeaderNames.OriginTopic));
        Assert.Equal("wamid.retry-once", retry.Header(HeaderNames.EventId));
        var firstFailed = DateTimeOffset.Parse(retry.Header(HeaderNames.FirstFailedAt)!);
        Assert.Equal(TimeSpan.FromSeconds(1), DateTimeOffset.Parse(retry.Header(HeaderNames.NotBefore)!) - firstFailed);
        Assert.Empty(scenario.DeadLetters(Lane.Messages));
    }

    [Fact]
    public async Task A_429_retry_after_longer_than_the_tier_is_honoured()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        scenario.Stub.Reply = (_, attempt) => attempt == 1 ? new StubReply(429, RetryAfter: "3") : StubReply.Ok;
        await scenario.StartWorkerAsync(Lane.Statuses);
        scenario.Produce(Lane.Statuses, [("wamid.slow-down:read", "492222")]);

        Assert.Empty(await scenario.WaitSettledAsync(Lane.Statuses, ["wamid.slow-down:read"], Settle));
        var attempts = scenario.Stub.Receipts.Where(r => r.EventId == "wamid.slow-down:read").OrderBy(r => r.At).ToArray();
        Assert.Equal([429, 200], attempts.Select(a => a.Answered));
        Assert.True(attempts[1].At - attempts[0].At >= TimeSpan.FromSeconds(3), $"retried after {(attempts[1].At - attempts[0].At).TotalMilliseconds:0} ms, Retry-After was 3 s");
    }

    [Fact]
    public async Task A_404_is_dead_lettered_at_once_after_one_attempt()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        scenario.Stub.Reply = (r, _) => r.EventId == "wamid.gone" ? new StubReply(404) : StubReply.Ok;
        await scenario.StartWorkerAsync(Lane.Messages);
        scenario.Produce(Lane.Messages, [("wamid.gone", "493333"), ("wamid.fine", "493333")]);

        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, ["wamid.gone", "wamid.fine"], Settle));
        Assert.Equal(1, scenario.Stub.Attempts("wamid.gone"));
        var (record, letter) = Assert.Single(scenario.DeadLetters(Lane.Messages));
        Assert.Equal(DeadLetterReasons.Terminal4xx, letter.Reason);
        Assert.Equal("messages", letter.Lane);
        Assert.Equal(404, letter.LastStatusCode);
        Assert.Equal(1, letter.Attempts);
        Assert.Equal("default", letter.Destination); // the one endpoint, DELIVERY_URL, without DESTINATIONS_FILE
        Assert.Equal("493333", letter.Key);
        Assert.Equal("493333", record.Key);
        Assert.Equal(scenario.Topology[Lane.Messages].Main.Name, letter.SourceTopic);
        Assert.Equal("wamid.gone", letter.OriginalHeaders[HeaderNames.EventId]);
        Assert.Equal("wamid.gone", record.Header(HeaderNames.EventId));
        Assert.Equal(DeadLetterReasons.Terminal4xx, record.Header(HeaderNames.DlqReason));
        Assert.Equal("wamid.gone", JsonDocument.Parse(letter.OriginalValue).RootElement.GetProperty("eventId").GetString());
        Assert.Empty(scenario.RetryRecords(Lane.Messages));
    }

    [Fact]
    public async Task An_always_failing_event_is_tried_once_per_tier_then_dead_lettered_as_exhausted()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        scenario.Stub.Reply = (r, _) => r.EventId == "wamid.doomed" ? new StubReply(503) : StubReply.Ok;
        await scenario.StartWorkerAsync(Lane.Messages);
        scenario.Produce(Lane.Messages, [("wamid.doomed", "494444")]);

        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, ["wamid.doomed"], Settle));
        Assert.Equal(3, scenario.Stub.Attempts("wamid.doomed"));
        var (_, letter) = Assert.Single(scenario.DeadLetters(Lane.Messages));
        Assert.Equal(DeadLetterReasons.RetriesExhausted, letter.Reason);
        Assert.Equal(3, letter.Attempts);
        Assert.Equal(503, letter.LastStatusCode);
        Assert.Equal(scenario.Topology[Lane.Messages].RetryTiers[1].Name, letter.SourceTopic);
        Assert.Equal(scenario.Topology[Lane.Messages].Main.Name, letter.OriginTopic);
        Assert.NotNull(letter.FirstFailedAt);
        Assert.True(letter.LastFailedAt - letter.FirstFailedAt >= TimeSpan.FromSeconds(3));
        Assert.Equal(["1", "2"], scenario.RetryRecords(Lane.Messages).Select(r => r.Header(HeaderNames.Attempt)).Order());
    }

    [Fact]
    public async Task A_garbage_record_is_dead_lettered_as_poison_and_its_partition_keeps_flowing()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        await scenario.StartWorkerAsync(Lane.Statuses);
        scenario.ProduceRaw(scenario.Topology[Lane.Statuses].Main.Name, "495555", "\u0001not json at all"u8.ToArray());
        scenario.ProduceRaw(scenario.Topology[Lane.Statuses].Main.Name, "495555", """{"eventId":"no-version"}"""u8.ToArray());
        scenario.Produce(Lane.Statuses, Events("after-poison", 20, keys: 1));

        var ids = Events("after-poison", 20, keys: 1).Select(e => e.Item1).ToArray();
        Assert.Empty(await scenario.WaitSettledAsync(Lane.Statuses, ids, Settle));
        Assert.Equal(ids.Order(), scenario.Stub.Delivered.Order());
        var letters = await Poll.UntilAsync(() => Task.FromResult(scenario.DeadLetters(Lane.Statuses)), l => l.Count == 2, Settle, "two poison letters");
        Assert.All(letters, l => Assert.Equal(DeadLetterReasons.Poison, l.Letter.Reason));
        Assert.Equal("\u0001not json at all"u8.ToArray(), letters.Select(l => l.Letter).Single(l => l.OriginalValue[0] == 1).OriginalValue);
    }

    [Fact]
    public async Task Order_within_a_key_is_kept_while_other_keys_proceed_concurrently()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        scenario.Stub.Reply = (r, _) => new StubReply(200, TimeSpan.FromMilliseconds(Random.Shared.Next(0, 15)));
        var events = Enumerable.Range(0, 200).Select(i => ($"ord-{i:D3}", $"k{i % 5}")).ToArray();
        scenario.Produce(Lane.Messages, events);
        await scenario.StartWorkerAsync(Lane.Messages);

        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, events.Select(e => e.Item1).ToArray(), Settle));
        foreach (var key in events.GroupBy(e => e.Item2))
        {
            var sent = key.Select(e => e.Item1).ToArray();
            var received = scenario.Stub.Receipts.Where(r => r.Key == key.Key).OrderBy(r => r.At).Select(r => r.EventId).ToArray();
            Assert.Equal(sent, received);
        }

        Assert.True(scenario.Stub.MaxConcurrency > 1, "different keys should be delivered concurrently");
    }

    [Fact]
    public async Task A_slow_endpoint_is_called_concurrently_beyond_one_request_per_partition()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        scenario.Stub.Reply = (_, _) => new StubReply(200, TimeSpan.FromMilliseconds(50));
        var events = Events("slow", 400, keys: 100).ToArray();
        scenario.Produce(Lane.Messages, events);
        await scenario.StartWorkerAsync(Lane.Messages, ("WORKER_MAX_IN_FLIGHT", "32"));

        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, events.Select(e => e.Item1).ToArray(), Settle));
        // 4 partitions: one-at-a-time per partition would cap concurrency at 4.
        Assert.True(scenario.Stub.MaxConcurrency > 4, $"max concurrency {scenario.Stub.MaxConcurrency}");
        Assert.True(scenario.Stub.MaxConcurrency <= 32, $"max concurrency {scenario.Stub.MaxConcurrency} exceeds WORKER_MAX_IN_FLIGHT");
    }
}
