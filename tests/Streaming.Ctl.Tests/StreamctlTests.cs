using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Streaming.Contracts;
using Streaming.Testing;

namespace Streaming.Ctl.Tests;

/// <summary>streamctl end to end on a real pipeline: a dead letter listed, shown, replayed once, delivered.</summary>
[Collection(SharedKafkaContainer.Collection)]
public sealed class StreamctlTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    private sealed record Run(int ExitCode, string Out, string Error);

    private static async Task<Run> Ctl(PipelineScenario scenario, params string[] args) =>
        await Ctl(scenario.Broker.Settings(("RETRY_DELAYS", scenario.RetryDelays)), args);

    private static async Task<Run> Ctl(Dictionary<string, string?> settings, params string[] args)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await Cli.RunAsync(args, configuration, stdout, stderr);
        return new Run(code, stdout.ToString(), stderr.ToString());
    }

    private static JsonElement[] Json(Run run) => JsonDocument.Parse(run.Out).RootElement.EnumerateArray().ToArray();

    [Fact]
    public async Task A_dead_letter_is_listed_shown_replayed_once_and_delivered()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        var endpointBroken = true;
        scenario.Stub.Reply = (r, _) => r.EventId == "wamid.dead" && Volatile.Read(ref endpointBroken) ? new StubReply(404) : StubReply.Ok;
        await scenario.StartWorkerAsync(Lane.Messages);
        scenario.Produce(Lane.Messages, [("wamid.dead", "496666"), ("wamid.alive", "497777")]);
        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, ["wamid.dead", "wamid.alive"], Settle));

        var list = await Ctl(scenario, "dlq", "list", "--lane", "messages", "--json");
        Assert.Equal(0, list.ExitCode);
        var letter = Assert.Single(Json(list));
        Assert.Equal("wamid.dead", letter.GetProperty("letter").GetProperty("eventId").GetString());
        Assert.Equal("terminal-4xx", letter.GetProperty("letter").GetProperty("reason").GetString());
        Assert.Equal(JsonValueKind.Null, letter.GetProperty("replayedAt").ValueKind);

        Assert.Empty(Json(await Ctl(scenario, "dlq", "list", "--lane", "messages", "--reason", "poison", "--json")));
        Assert.Single(Json(await Ctl(scenario, "dlq", "list", "--lane", "messages", "--status", "404", "--key", "496666", "--since", "1h", "--json")));
        var table = await Ctl(scenario, "dlq", "list", "--lane", "messages");
        Assert.Contains("wamid.dead", table.Out);
        Assert.Contains("1 dead letters (1 not replayed)", table.Out);

        var show = await Ctl(scenario, "dlq", "show", "--lane", "messages", "wamid.dead");
        Assert.Equal(0, show.ExitCode);
        Assert.Equal("wamid.dead", Json(show).Single().GetProperty("originalEnvelope").GetProperty("eventId").GetString());
        Assert.Equal(0, (await Ctl(scenario, "dlq", "show", "--lane", "messages", letter.GetProperty("position").GetString()!)).ExitCode);

        var mainBefore = TopicReader.ReadAll(scenario.Broker.BootstrapServers, scenario.Topology[Lane.Messages].Main.Name).Count;
        var dry = await Ctl(scenario, "dlq", "replay", "--lane", "messages", "--event-id", "wamid.dead", "--dry-run");
        Assert.Equal(0, dry.ExitCode);
        Assert.Contains("1 would be replayed", dry.Out);
        Assert.Equal(mainBefore, TopicReader.ReadAll(scenario.Broker.BootstrapServers, scenario.Topology[Lane.Messages].Main.Name).Count);
        Assert.Empty(TopicReader.ReadAll(scenario.Broker.BootstrapServers, scenario.Topology[Lane.Messages].ReplayLedger.Name));

        Volatile.Write(ref endpointBroken, false);
        var replay = await Ctl(scenario, "dlq", "replay", "--lane", "messages", "--event-id", "wamid.dead");
        Assert.True(replay.ExitCode == 0, replay.Error);
        Assert.Contains("replayed 1", replay.Out);
        await Poll.UntilAsync(() => scenario.Stub.Receipts.Any(r => r.EventId == "wamid.dead" && r.Answered == 200), Settle, "the replayed event to be delivered");
        var replayed = TopicReader.ReadAll(scenario.Broker.BootstrapServers, scenario.Topology[Lane.Messages].Main.Name).Single(r => r.Header(HeaderNames.ReplayedFrom) is not null);
        Assert.Equal($"{scenario.Topology[Lane.Messages].DeadLetter.Name}/{letter.GetProperty("position").GetString()}", replayed.Header(HeaderNames.ReplayedFrom));
        Assert.Equal("496666", replayed.Key);
        Assert.Null(replayed.Header(HeaderNames.Attempt));
        // Its place in an ORDERING=key chain of the failed journey is not carried over: a replay is a new event.
        Assert.Null(replayed.Header(HeaderNames.OrderChain));
        Assert.Null(replayed.Header(HeaderNames.AfterDeadLetter));

        var again = await Ctl(scenario, "dlq", "replay", "--lane", "messages", "--event-id", "wamid.dead");
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("replayed 0", again.Out);
        Assert.Contains("1 already replayed", again.Out);
        Assert.Single(TopicReader.ReadAll(scenario.Broker.BootstrapServers, scenario.Topology[Lane.Messages].Main.Name), r => r.Header(HeaderNames.ReplayedFrom) is not null);
        Assert.Equal(2, scenario.Stub.Attempts("wamid.dead"));
        Assert.NotEqual(JsonValueKind.Null, Json(await Ctl(scenario, "dlq", "list", "--lane", "messages", "--json")).Single().GetProperty("replayedAt").ValueKind);
    }

    [Fact]
    public async Task Lag_matches_what_was_produced_and_what_the_workers_consumed()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        scenario.Produce(Lane.Statuses, Enumerable.Range(0, 30).Select(i => ($"lag-{i}", $"k{i % 6}")));

        var before = Json(await Ctl(scenario, "lag", "--lane", "statuses", "--json"));
        var main = before.Where(r => r.GetProperty("topic").GetString() == scenario.Topology[Lane.Statuses].Main.Name).ToArray();
        Assert.Equal(30, main.Sum(r => r.GetProperty("lag").GetInt64()));
        Assert.Equal(30, main.Sum(r => r.GetProperty("end").GetInt64()));
        Assert.All(main, r => Assert.Equal(JsonValueKind.Null, r.GetProperty("committed").ValueKind));
        Assert.All(before, r => Assert.Equal(scenario.Topology.ConsumerGroup(Lane.Statuses), r.GetProperty("group").GetString()));

        await scenario.StartWorkerAsync(Lane.Statuses);
        var after = await Poll.UntilAsync(async () => Json(await Ctl(scenario, "lag", "--lane", "statuses", "--json")),
            rows => rows.Sum(r => r.GetProperty("lag").GetInt64()) == 0, Settle, "the group's lag to reach 0");
        Assert.Equal(30, after.Where(r => r.GetProperty("topic").GetString() == scenario.Topology[Lane.Statuses].Main.Name)
            .Sum(r => r.GetProperty("committed").ValueKind == JsonValueKind.Null ? 0 : r.GetProperty("committed").GetInt64()));
        Assert.Equal(30, scenario.Stub.Delivered.Count);

        var table = await Ctl(scenario, "lag");
        Assert.Contains($"{scenario.Topology.ConsumerGroup(Lane.Statuses)}: total lag 0", table.Out);
        Assert.Contains($"{scenario.Topology.ConsumerGroup(Lane.Messages)}: total lag 0", table.Out);
    }

    [Fact]
    public async Task Topics_describe_reports_the_topology_and_create_is_idempotent()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        var describe = await Ctl(scenario, "topics", "describe");
        Assert.Equal(0, describe.ExitCode);
        foreach (var topic in scenario.Topology.Topics)
        {
            Assert.Contains(topic.Name, describe.Out);
        }

        Assert.Equal(0, (await Ctl(scenario, "topics", "create")).ExitCode);

        var other = await Ctl(scenario.Broker.Settings(("TOPIC_PREFIX", "absent")), "topics", "describe");
        Assert.Equal(CtlException.Refused, other.ExitCode);
        Assert.Contains("missing or do not match", other.Error);
    }

    [Fact]
    public async Task Replay_refuses_while_the_lanes_circuit_is_open_unless_forced()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        scenario.Stub.Reply = (_, attempt) => attempt == 1 ? new StubReply(410) : StubReply.Ok;
        await scenario.StartWorkerAsync(Lane.Messages);
        scenario.Produce(Lane.Messages, [("wamid.c1", "491")]);
        await Poll.UntilAsync(() => scenario.DeadLetters(Lane.Messages).Count == 1, Settle, "a dead letter");

        await using var metrics = await FakeMetricsAsync("whatsapp_worker_circuit_state{lane=\"messages\"} 2\n");
        var refused = await Ctl(scenario, "dlq", "replay", "--lane", "messages", "--all", "--worker-metrics", metrics.Urls.First() + "/metrics");
        Assert.Equal(CtlException.Refused, refused.ExitCode);
        Assert.Contains("circuit is open", refused.Error);
        Assert.Empty(TopicReader.ReadAll(scenario.Broker.BootstrapServers, scenario.Topology[Lane.Messages].ReplayLedger.Name));

        var forced = await Ctl(scenario, "dlq", "replay", "--lane", "messages", "--all", "--force", "--worker-metrics", metrics.Urls.First() + "/metrics");
        Assert.True(forced.ExitCode == 0, forced.Error);
        await Poll.UntilAsync(() => scenario.Stub.Delivered.Contains("wamid.c1"), Settle, "the forced replay to be delivered");
    }

    [Theory]
    [InlineData(new[] { "dlq", "list", "--lane", "vip" }, CtlException.Usage, "unknown lane 'vip'")]
    [InlineData(new[] { "dlq", "list", "--lane", "messages", "--reason", "bored" }, CtlException.Usage, "unknown reason 'bored'")]
    [InlineData(new[] { "dlq", "list", "--lane", "messages", "--since", "yesterday" }, CtlException.Usage, "--since 'yesterday'")]
    [InlineData(new[] { "dlq", "list", "--lane", "messages", "--status", "999" }, CtlException.Usage, "not an HTTP status code")]
    [InlineData(new[] { "dlq", "replay", "--lane", "messages" }, CtlException.Usage, "say what to replay")]
    [InlineData(new[] { "dlq", "replay", "--lane", "messages", "--all", "--rate", "0" }, CtlException.Usage, "--rate")]
    public async Task Bad_input_gets_a_clear_error_and_a_non_zero_exit(string[] args, int exitCode, string message)
    {
        await using var scenario = await PipelineScenario.StartAsync();
        var run = await Ctl(scenario, args);
        Assert.Equal(exitCode, run.ExitCode);
        Assert.Contains(message, run.Error);
        Assert.DoesNotContain("   at ", run.Error);
    }

    [Fact]
    public async Task Parse_errors_and_missing_settings_are_refused_without_a_stack_trace()
    {
        var unknownOption = await Ctl(new Dictionary<string, string?> { ["KAFKA_BOOTSTRAP_SERVERS"] = "127.0.0.1:1" }, "dlq", "list", "--lane", "messages", "--colour");
        Assert.NotEqual(0, unknownOption.ExitCode);
        Assert.Contains("--colour", unknownOption.Error);

        var noBroker = await Ctl(new Dictionary<string, string?>(), "lag");
        Assert.Equal(CtlException.Usage, noBroker.ExitCode);
        Assert.Contains("KAFKA_BOOTSTRAP_SERVERS is required", noBroker.Error);
    }

    [Fact]
    public async Task An_unreachable_broker_is_named_in_the_error()
    {
        var run = await Ctl(new Dictionary<string, string?> { ["KAFKA_BOOTSTRAP_SERVERS"] = "127.0.0.1:1" }, "topics", "describe");
        Assert.Equal(CtlException.Unreachable, run.ExitCode);
        Assert.Contains("cannot reach Kafka at 127.0.0.1:1", run.Error);
    }

    private static async Task<WebApplication> FakeMetricsAsync(string body)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapGet("/metrics", () => Results.Text(body));
        await app.StartAsync();
        return app;
    }
}
