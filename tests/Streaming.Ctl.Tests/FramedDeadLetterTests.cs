using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Streaming.Contracts;
using Streaming.SchemaRegistry;
using Streaming.Testing;

namespace Streaming.Ctl.Tests;

/// <summary>A DLQ holding plain and framed dead letters (a cluster mid switch-over): streamctl lists, shows and replays both.</summary>
public sealed class FramedDeadLetterTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    private static async Task<(int Code, string Out, string Error)> Ctl(PipelineScenario scenario, params string[] args)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(scenario.Broker.Settings(("RETRY_DELAYS", scenario.RetryDelays))).Build();
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var code = await Cli.RunAsync(args, configuration, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Plain_and_framed_dead_letters_in_one_topic_are_listed_shown_and_replayed()
    {
        await using var registry = await SchemaRegistryStub.StartAsync();
        await using var scenario = await PipelineScenario.StartAsync();
        var broken = true;
        scenario.Stub.Reply = (_, _) => Volatile.Read(ref broken) ? new StubReply(404) : StubReply.Ok;

        // Before the switch: a worker without the registry writes a plain dead letter of a plain record.
        var before = await scenario.StartWorkerAsync(Lane.Messages, ("SCHEMA_REGISTRY_URL", ""));
        scenario.Produce(Lane.Messages, [("wamid.dlq.plain", "4911111")]);
        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, ["wamid.dlq.plain"], Settle));
        await before.StopAsync();

        // After: the ingress and the worker on the registry, a framed dead letter of a framed record.
        await scenario.StartWorkerAsync(Lane.Messages, registry.Settings);
        await using (var ingress = await IngressHost.StartAsync(scenario.Broker, [("RETRY_DELAYS", scenario.RetryDelays), .. registry.Settings]))
        {
            await Poll.UntilAsync(async () => (await ingress.Client.GetAsync("/readyz")).IsSuccessStatusCode, s => s, Settle, "the ingress to be ready");
            Assert.True((await ingress.PostSignedAsync(SchemaRegistryStub.MessageWebhook("wamid.dlq.framed", "4922222"))).IsSuccessStatusCode);
        }

        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, ["wamid.dlq.framed"], Settle));
        var dlq = TopicReader.ReadAll(scenario.Broker.BootstrapServers, scenario.Topology[Lane.Messages].DeadLetter.Name);
        Assert.Equal([(byte)'{', WireFormat.MagicByte], dlq.Select(r => r.Value[0]).Order().Reverse());

        var list = await Ctl(scenario, "dlq", "list", "--lane", "messages", "--json");
        Assert.True(list.Code == 0, list.Error);
        var letters = JsonDocument.Parse(list.Out).RootElement.EnumerateArray().ToArray();
        Assert.Equal(["wamid.dlq.framed", "wamid.dlq.plain"], letters.Select(l => l.GetProperty("letter").GetProperty("eventId").GetString()).Order());
        Assert.All(letters, l => Assert.Equal("terminal-4xx", l.GetProperty("letter").GetProperty("reason").GetString()));

        var show = await Ctl(scenario, "dlq", "show", "--lane", "messages", "wamid.dlq.framed");
        Assert.True(show.Code == 0, show.Error);
        var shown = JsonDocument.Parse(show.Out).RootElement[0];
        Assert.Equal("wamid.dlq.framed", shown.GetProperty("originalEnvelope").GetProperty("eventId").GetString());

        Volatile.Write(ref broken, false);
        var replay = await Ctl(scenario, "dlq", "replay", "--lane", "messages", "--all");
        Assert.True(replay.Code == 0, replay.Error);
        Assert.Contains("replayed 2", replay.Out);
        await Poll.UntilAsync(() => scenario.Stub.Receipts.Count(r => r.Answered == 200) == 2, Settle, "both replayed events to be delivered");
        Assert.All(scenario.Stub.Receipts.Where(r => r.Answered == 200), r => Assert.True(r.SignatureValid));
    }
}
