using Microsoft.Extensions.Configuration;
using Streaming.Contracts;
using Streaming.Ctl;
using Streaming.Testing;
using Xunit.Abstractions;

namespace Streaming.Worker.Tests.Destinations;

/// <summary>
/// One lane, three destinations behind stubs: healthy answers at once, slow after 2 s, dead 503 and
/// then refuses connections. What happens to one costs the others nothing, and nothing is lost.
/// </summary>
public sealed class DestinationIsolationTests(ITestOutputHelper output)
{
    private const string HealthySecret = "whsec_aGVhbHRoeS1kZXN0aW5hdGlvbi1zaWduaW5nLWtleQ==";
    private const string SlowSecret = "whsec_c2xvdy1kZXN0aW5hdGlvbi1zaWduaW5nLWtleS0xMg==";
    private const string DeadSecret = "whsec_ZGVhZC1kZXN0aW5hdGlvbi1zaWduaW5nLWtleS0xMjM=";
    private const int SlowLimit = 3;
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_slow_and_a_dead_destination_cost_the_healthy_one_nothing_and_the_dead_ones_letters_replay_by_destination()
    {
        await using var scenario = await PipelineScenario.StartAsync("1s,2s");
        using var kit = new DestinationKit(scenario);
        await using var healthy = await DownstreamStub.StartAsync(HealthySecret);
        await using var slow = await DownstreamStub.StartAsync(SlowSecret);
        slow.Reply = (_, _) => new StubReply(200, TimeSpan.FromSeconds(2));
        var deadPort = DestinationKit.FreePort();
        var dead = await DownstreamStub.StartAsync(DeadSecret, deadPort);
        dead.Reply = (_, _) => new StubReply(503);
        var deadSecretFile = kit.WriteSecret("dead.secret", DeadSecret);
        kit.Write($$"""
            destinations:
              - name: healthy
                phoneNumberIds: ["1001"]
                messagesUrl: {{healthy.LaneUrl(Lane.Messages)}}
                signingSecret: {{HealthySecret}}
              - name: slow
                phoneNumberIds: ["1002"]
                messagesUrl: {{slow.LaneUrl(Lane.Messages)}}
                signingSecret: {{SlowSecret}}
                maxConcurrency: {{SlowLimit}}
              - name: dead
                phoneNumberIds: ["1003"]
                messagesUrl: {{dead.LaneUrl(Lane.Messages)}}
                signingSecretFile: {{deadSecretFile}}
            """);
        var worker = await scenario.StartWorkerAsync(Lane.Messages,
            ("DESTINATIONS_FILE", kit.File), ("DELIVERY_URL", ""), ("DELIVERY_TIMEOUT_MS", "5000"),
            ("CIRCUIT_BREAK_SECONDS", "1"), ("CIRCUIT_MIN_THROUGHPUT", "4"));

        var healthyIds = DestinationKit.Ids("healthy", 300);
        var slowIds = DestinationKit.Ids("slow", 24);
        var deadIds = DestinationKit.Ids("dead", 24);
        kit.Produce("1002", slowIds);
        kit.Produce("1003", deadIds);
        kit.Produce("1001", healthyIds.Take(150));

        // dead answers 503 a few times, then is gone: connection refused.
        await Poll.UntilAsync(() => dead.Receipts.Count >= 4, Settle, "dead's first 503s");
        await dead.DisposeAsync();
        kit.Produce("1001", healthyIds.Skip(150));

        Assert.Empty(await kit.WaitSettledAsync(healthyIds, Settle, healthy));
        var metrics = await worker.Client.GetStringAsync("/metrics");
        output.WriteLine($"when healthy was done: dead circuit {DestinationKit.Metric(metrics, "whatsapp_worker_destination_circuit_state", "dead")}, " +
            $"slow in flight {DestinationKit.Metric(metrics, "whatsapp_worker_destination_in_flight", "slow")}");

        var all = healthyIds.Concat(slowIds).Concat(deadIds).ToArray();
        Assert.Empty(await kit.WaitSettledAsync(slowIds.Concat(deadIds).ToArray(), Settle, slow));

        // healthy: every event delivered first time, signed with its own secret, none held back in a retry tier.
        Assert.All(healthy.Receipts, r => Assert.True(r.SignatureValid));
        var healthyLetters = scenario.DeadLetters(Lane.Messages).Where(d => healthyIds.Contains(d.Letter.EventId)).ToArray();
        Assert.True(healthyLetters.Length == 0, string.Join("\n", healthyLetters.Take(5).Select(d => $"{d.Letter.EventId} {d.Letter.Reason} {d.Letter.Destination} {d.Letter.Error}")));
        Assert.Empty(healthyIds.Except(healthy.Delivered));
        var retried = scenario.RetryRecords(Lane.Messages);
        Assert.DoesNotContain(retried, r => r.Header(HeaderNames.Destination) == "healthy");
        Assert.DoesNotContain(scenario.DeadLetters(Lane.Messages), d => d.Letter.Destination == "healthy");

        // slow: never more concurrent requests than its limit; what did not fit waited in a tier, not in memory.
        Assert.InRange(slow.MaxConcurrency, 1, SlowLimit);
        Assert.NotEmpty(slow.Delivered);
        var slowLetters = scenario.DeadLetters(Lane.Messages).Where(d => d.Letter.Destination == "slow").ToArray();
        Assert.All(slowLetters, d => Assert.Equal(DeadLetterReasons.DestinationSaturated, d.Letter.Reason));
        output.WriteLine($"slow: {slow.Delivered.Count} delivered, {slowLetters.Length} dead-lettered as saturated, " +
            $"{retried.Count(r => r.Header(HeaderNames.Destination) == "slow")} retry records");

        // dead: retried through the tiers, then dead-lettered with its name, in the field and the header.
        var deadLetters = scenario.DeadLetters(Lane.Messages).Where(d => deadIds.Contains(d.Letter.EventId)).ToArray();
        Assert.Equal(deadIds.ToHashSet(), deadLetters.Select(d => d.Letter.EventId!).ToHashSet());
        Assert.All(deadLetters, d =>
        {
            Assert.Equal("dead", d.Letter.Destination);
            Assert.Equal("dead", d.Record.Header(HeaderNames.Destination));
            // After a break, dead's tier comes back at once to a limit of 1: what cannot wait is saturated.
            Assert.Contains(d.Letter.Reason, new[] { DeadLetterReasons.RetriesExhausted, DeadLetterReasons.DestinationSaturated });
        });
        Assert.Contains(retried, r => r.Header(HeaderNames.Destination) == "dead" && r.Header(HeaderNames.LastError) == "circuit open");
        Assert.Contains(retried, r => r.Header(HeaderNames.Destination) == "dead" && r.Header(HeaderNames.LastStatusCode) == "503");
        output.WriteLine("dead letters of dead by reason: " + string.Join(", ", deadLetters.GroupBy(d => d.Letter.Reason).Select(g => $"{g.Key} {g.Count()}")));
        Assert.DoesNotContain(DeadSecret[6..], string.Join("\n", scenario.DeadLetters(Lane.Messages).Select(d => d.Record.ValueText)));

        // The ledger: every event is delivered somewhere or dead-lettered.
        Assert.Empty(await kit.WaitSettledAsync(all, TimeSpan.FromSeconds(1), healthy, slow));

        // dead comes back: a replay of its letters alone delivers them.
        await using var revived = await DownstreamStub.StartAsync(DeadSecret, deadPort);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(scenario.Broker.Settings(("RETRY_DELAYS", scenario.RetryDelays))).Build();
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await Cli.RunAsync(["dlq", "replay", "--lane", "messages", "--destination", "dead"], configuration, stdout, stderr);
        Assert.True(code == 0, stderr.ToString());
        Assert.Contains($"replayed {deadIds.Count} ", stdout.ToString());
        await Poll.UntilAsync(() => revived.Delivered.Count == deadIds.Count, Settle, "the replayed letters of dead to be delivered");
        Assert.Equal(deadIds.ToHashSet(), revived.Delivered.ToHashSet());
        Assert.All(revived.Receipts, r => Assert.True(r.SignatureValid));
        Assert.Empty(revived.Delivered.Intersect(healthy.Delivered.Concat(slow.Delivered)));
    }
}
