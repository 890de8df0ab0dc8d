using System.Buffers.Binary;
using Confluent.SchemaRegistry;
using Streaming.Contracts;
using Streaming.SchemaRegistry;
using Streaming.Testing;

namespace Streaming.Worker.Tests;

/// <summary>Workers read framed and plain records alike, wait on unresolvable schema ids, and frame their dead letters.</summary>
public sealed class SchemaRegistryWorkerTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    /// <summary>Framed records, written by a real ingress through the registry.</summary>
    private static async Task PostFramedAsync(PipelineScenario scenario, SchemaRegistryStub registry, params string[] wamids)
    {
        await using var ingress = await IngressHost.StartAsync(scenario.Broker, [("RETRY_DELAYS", scenario.RetryDelays), .. registry.Settings]);
        await Poll.UntilAsync(async () => (await ingress.Client.GetAsync("/readyz")).IsSuccessStatusCode, s => s, Settle, "the ingress to be ready");
        foreach (var wamid in wamids)
        {
            var response = await ingress.PostSignedAsync(SchemaRegistryStub.MessageWebhook(wamid, "4912345"));
            Assert.True(response.IsSuccessStatusCode, $"{wamid}: {response.StatusCode}");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)] // the readers-first step of a switch-over: workers not yet given the registry
    public async Task A_lane_holding_framed_and_plain_records_is_delivered_whole_as_plain_json(bool workerHasRegistry)
    {
        await using var registry = await SchemaRegistryStub.StartAsync();
        await using var scenario = await PipelineScenario.StartAsync();
        scenario.Produce(Lane.Messages, [("wamid.plain.1", "4911111"), ("wamid.plain.2", "4922222")]);
        await PostFramedAsync(scenario, registry, "wamid.framed.1", "wamid.framed.2");
        scenario.Produce(Lane.Messages, [("wamid.plain.3", "4933333")]);

        var values = TopicReader.ReadAll(scenario.Broker.BootstrapServers, scenario.Topology[Lane.Messages].Main.Name).Select(r => r.Value).ToArray();
        Assert.Equal(2, values.Count(v => v[0] == WireFormat.MagicByte));
        Assert.Equal(3, values.Count(v => v[0] == (byte)'{'));

        await scenario.StartWorkerAsync(Lane.Messages, workerHasRegistry ? registry.Settings : [("SCHEMA_REGISTRY_URL", "")]);
        string[] ids = ["wamid.plain.1", "wamid.plain.2", "wamid.framed.1", "wamid.framed.2", "wamid.plain.3"];
        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, ids, Settle));
        Assert.Empty(scenario.DeadLetters(Lane.Messages));

        // The endpoint gets the envelope (JSON, signed over exactly those bytes), never the frame.
        foreach (var id in ids)
        {
            var receipt = scenario.Stub.Receipts.First(r => r.EventId == id && r.Answered == 200);
            Assert.True(receipt.SignatureValid);
            Assert.Equal(id, receipt.Envelope.GetProperty("eventId").GetString());
        }

        var framed = scenario.Stub.Receipts.First(r => r.EventId == "wamid.framed.1").Envelope;
        Assert.Equal("héllo é 😀", framed.GetProperty("payload").GetProperty("text").GetProperty("body").GetString());
        Assert.Equal("Zoë ✓", framed.GetProperty("contact").GetProperty("profile").GetProperty("name").GetString());
    }

    [Fact]
    public async Task A_record_whose_schema_id_cannot_be_resolved_waits_in_place_is_counted_and_is_delivered_once_the_registry_is_back()
    {
        await using var registry = await SchemaRegistryStub.StartAsync();
        await using var scenario = await PipelineScenario.StartAsync();
        await PostFramedAsync(scenario, registry, "wamid.waiting");

        await registry.SetStateAsync(RegistryState.Refusing);
        // A fresh worker: its client has no cached id. The wait between reads is a quarter of the break.
        var worker = await scenario.StartWorkerAsync(Lane.Messages, [.. registry.Settings, ("CIRCUIT_BREAK_SECONDS", "1")]);
        await Poll.UntilAsync(async () => MetricsText.Value(await worker.Client.GetStringAsync("/metrics"), "whatsapp_worker_schema_unresolved_total{lane=\"messages\""),
            v => v >= 3, Settle, "the unresolved-schema metric to count the waits");

        Assert.DoesNotContain(scenario.Stub.Receipts, r => r.EventId == "wamid.waiting");
        Assert.Empty(scenario.DeadLetters(Lane.Messages));
        Assert.Empty(scenario.RetryRecords(Lane.Messages));
        Assert.Equal(0, scenario.Committed(Lane.Messages));

        await registry.SetStateAsync(RegistryState.Up);
        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, ["wamid.waiting"], Settle));
        Assert.Contains("wamid.waiting", scenario.Stub.Delivered);
        Assert.Empty(scenario.DeadLetters(Lane.Messages));
    }

    [Fact]
    public async Task Dead_letters_are_framed_under_the_dlq_subject_and_keep_the_framed_original()
    {
        await using var registry = await SchemaRegistryStub.StartAsync();
        await using var scenario = await PipelineScenario.StartAsync();
        scenario.Stub.Reply = (_, _) => new StubReply(404);
        await PostFramedAsync(scenario, registry, "wamid.dead.framed");
        scenario.Produce(Lane.Messages, [("wamid.dead.plain", "4911111")]);
        var worker = await scenario.StartWorkerAsync(Lane.Messages, registry.Settings);
        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, ["wamid.dead.framed", "wamid.dead.plain"], Settle));
        await Poll.UntilAsync(async () => (await worker.Client.GetAsync("/readyz")).IsSuccessStatusCode, s => s, Settle, "the worker to be ready");

        var dlq = scenario.Topology[Lane.Messages].DeadLetter.Name;
        using var client = new CachedSchemaRegistryClient(new SchemaRegistryConfig
        {
            Url = registry.Url, BasicAuthCredentialsSource = AuthCredentialsSource.UserInfo, BasicAuthUserInfo = SchemaRegistryStub.UserInfo,
        });
        var dlqSchema = await client.GetLatestSchemaAsync(RegistrySchemas.ValueSubject(dlq));
        Assert.Equal(RegistrySchemas.DeadLetter.SchemaString, dlqSchema.SchemaString);

        foreach (var (record, letter) in scenario.DeadLetters(Lane.Messages))
        {
            Assert.Equal(WireFormat.MagicByte, record.Value[0]);
            Assert.Equal(dlqSchema.Id, BinaryPrimitives.ReadInt32BigEndian(record.Value.AsSpan(1, 4)));
            Assert.Equal(DeadLetterReasons.Terminal4xx, letter.Reason);
            // The original value byte for byte: framed for the ingress's record, plain for the other.
            Assert.Equal(letter.EventId == "wamid.dead.framed" ? WireFormat.MagicByte : (byte)'{', letter.OriginalValue[0]);
            var original = await RecordValueReader.Offline.ReadEnvelopeAsync(letter.OriginalValue);
            Assert.Equal(letter.EventId, original.Value!.EventId);
        }
    }

    [Fact]
    public async Task Every_event_answered_200_is_delivered_while_the_registry_flaps_and_a_worker_restarts()
    {
        await using var registry = await SchemaRegistryStub.StartAsync();
        await using var scenario = await PipelineScenario.StartAsync();
        await using var ingress = await IngressHost.StartAsync(scenario.Broker, [("RETRY_DELAYS", scenario.RetryDelays), .. registry.Settings]);
        await Poll.UntilAsync(async () => (await ingress.Client.GetAsync("/readyz")).IsSuccessStatusCode, s => s, Settle, "the ingress to be ready");
        var first = await scenario.StartWorkerAsync(Lane.Messages, [.. registry.Settings, ("CIRCUIT_BREAK_SECONDS", "1")]);

        using var stopFlapping = new CancellationTokenSource();
        var flapping = Task.Run(async () =>
        {
            RegistryState[] states = [RegistryState.Unavailable, RegistryState.Up, RegistryState.Refusing, RegistryState.Up];
            for (var i = 0; !stopFlapping.IsCancellationRequested; i++)
            {
                await registry.SetStateAsync(states[i % states.Length]);
                await Task.Delay(250);
            }

            await registry.SetStateAsync(RegistryState.Up);
        });

        var accepted = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            if (i == 20)
            {
                // A fresh worker has no cached ids: its records wait for the registry instead of being lost.
                await first.StopAsync();
                await scenario.StartWorkerAsync(Lane.Messages, [.. registry.Settings, ("CIRCUIT_BREAK_SECONDS", "1")]);
            }

            var wamid = $"wamid.flap.{i}";
            if ((await ingress.PostSignedAsync(SchemaRegistryStub.MessageWebhook(wamid, $"49{i % 5}"))).StatusCode == System.Net.HttpStatusCode.OK)
            {
                accepted.Add(wamid);
            }

            await Task.Delay(50);
        }

        await stopFlapping.CancelAsync();
        await flapping;
        Assert.Equal(40, accepted.Count); // cached ids: the flapping registry never cost a 200
        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, accepted, TimeSpan.FromSeconds(120)));
        Assert.Empty(scenario.DeadLetters(Lane.Messages));
        Assert.All(accepted, id => Assert.Contains(id, scenario.Stub.Delivered));
    }
}
