using Microsoft.Extensions.DependencyInjection;
using Streaming.Contracts;
using Streaming.Kafka;
using Streaming.Testing;
using Streaming.Worker.Consuming;
using Xunit.Abstractions;

namespace Streaming.Worker.Tests;

/// <summary>
/// Scaling out (docs/design.md): every worker replica owns an even share (±1) of its lane's main topic and
/// of each retry tier, after any sequence of joins and leaves, and the replicas deliver a backlog once
/// each, in key order, each its part.
/// </summary>
[Collection(SharedKafkaContainer.Collection)]
public sealed class ReplicaScalingTests(ITestOutputHelper output)
{
    private const int LanePartitions = 12;
    private const int RetryPartitions = 6;
    private const int Keys = 240;
    private const int EventsPerKey = 4;
    private static readonly TimeSpan Rebalance = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Replicas_joining_one_after_another_and_one_leaving_each_own_an_even_share_of_the_main_topic_and_every_tier()
    {
        await using var scenario = await PipelineScenario.StartAsync(lanePartitions: LanePartitions, retryPartitions: RetryPartitions);
        // A little latency; every 40th event fails its first attempt, so its key's events go through a retry
        // tier, whose partition another replica may hold: per-key order must hold across replicas too.
        scenario.Stub.Reply = (r, attempt) => FailsOnce(r.EventId) && attempt == 1 ? new StubReply(503) : new StubReply(200, TimeSpan.FromMilliseconds(2));
        var lane = scenario.Topology[Lane.Messages];
        var replicas = new List<(string Name, WorkerHost Host)>();

        foreach (var name in new[] { "a", "b", "c" })
        {
            var url = new Uri(scenario.Stub.LaneUrl(Lane.Messages) + "?replica=" + name);
            // A generous delivery timeout: "once" must not depend on a loaded machine answering in 2 s.
            replicas.Add((name, await scenario.StartWorkerAsync(Lane.Messages, ("DELIVERY_URL", url.ToString()), ("DELIVERY_TIMEOUT_MS", "15000"))));
            await AssertEvenShareAsync(lane, replicas, $"{replicas.Count} replica(s) after {name} joined");
            await AssertBacklogDeliveredOnceInKeyOrderAsync(scenario, replicas, $"join-{name}");
        }

        await replicas[0].Host.StopAsync();
        replicas.RemoveAt(0);
        await AssertEvenShareAsync(lane, replicas, "2 replicas after a left");
        await AssertBacklogDeliveredOnceInKeyOrderAsync(scenario, replicas, "leave-a");
    }

    private static bool FailsOnce(string eventId) => int.Parse(eventId[^5..], System.Globalization.CultureInfo.InvariantCulture) % 40 == 7;

    /// <summary>Until each topic's partitions are all held, each by one replica, and every replica holds ⌊n/r⌋ or ⌈n/r⌉.</summary>
    private async Task AssertEvenShareAsync(LaneTopics lane, IReadOnlyList<(string Name, WorkerHost Host)> replicas, string step)
    {
        TopicDefinition[] topics = [lane.Main, .. lane.RetryTiers];
        var layout = await Poll.UntilAsync(() => Task.FromResult(Layout()), l => l.Even, Rebalance, $"an even share of every topic, {step}");
        output.WriteLine($"{step}: {layout.Text}");

        (bool Even, string Text) Layout()
        {
            var even = true;
            var text = new List<string>();
            foreach (var topic in topics)
            {
                var held = replicas.Select(r => r.Host.Services.GetRequiredService<AssignedPartitions>().Of(topic.Name)).ToArray();
                var all = held.SelectMany(p => p).ToArray();
                var low = topic.Partitions / replicas.Count;
                var high = (topic.Partitions + replicas.Count - 1) / replicas.Count;
                even &= all.Length == topic.Partitions && all.Distinct().Count() == topic.Partitions && held.All(p => p.Count >= low && p.Count <= high);
                text.Add($"{topic.Name}: " + string.Join(" ", replicas.Select((r, i) => $"{r.Name}=[{string.Join(",", held[i])}]")));
            }

            return (even, string.Join("; ", text));
        }
    }

    /// <summary>
    /// A backlog over many keys, some of it through a retry tier: every event delivered exactly once, each key's
    /// events in order, each replica its part.
    /// </summary>
    private async Task AssertBacklogDeliveredOnceInKeyOrderAsync(PipelineScenario scenario, IReadOnlyList<(string Name, WorkerHost Host)> replicas, string run)
    {
        var events = Enumerable.Range(0, Keys * EventsPerKey).Select(i => ($"wamid.{run}-{i:D5}", $"4917{i % Keys:D6}")).ToArray();
        scenario.Produce(Lane.Messages, events);
        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, events.Select(e => e.Item1).ToArray(), Settle));

        var ids = events.Select(e => e.Item1).ToHashSet();
        var receipts = scenario.Stub.Receipts.Where(r => ids.Contains(r.EventId) && r.Answered is >= 200 and < 300).ToArray();
        Assert.Equal(events.Length, receipts.Length); // once each: no duplicates
        Assert.All(events.Where(e => FailsOnce(e.Item1)), e => Assert.Equal(2, scenario.Stub.Attempts(e.Item1))); // through a tier
        foreach (var key in events.GroupBy(e => e.Item2))
        {
            // The stub records arrivals in order; a key's next event is sent only once the previous one is answered.
            Assert.Equal(key.Select(e => e.Item1), receipts.Where(r => r.Key == key.Key).Select(r => r.EventId));
        }

        var byReplica = replicas.ToDictionary(r => r.Name, r => receipts.Count(x => x.Replica == r.Name));
        output.WriteLine($"{run}: delivered by " + string.Join(", ", byReplica.Select(kv => $"{kv.Key}={kv.Value}")));
        Assert.Equal(events.Length, byReplica.Values.Sum());
        // Each holds a third (or a half) of the main partitions, and the keys spread over them: at least half
        // its fair share, whatever the hash does to 240 keys.
        Assert.All(byReplica, kv => Assert.True(kv.Value >= events.Length / replicas.Count / 2, $"replica {kv.Key} delivered {kv.Value} of {events.Length}"));
        Assert.Empty(scenario.DeadLetters(Lane.Messages));
    }
}
