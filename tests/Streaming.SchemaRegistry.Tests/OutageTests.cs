using Confluent.SchemaRegistry;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Streaming.Contracts;
using Streaming.SchemaRegistry;
using Streaming.Testing;

namespace Streaming.SchemaRegistry.Tests;

/// <summary>Registry outages: not ready until registered; cached ids keep writers going; unresolved ids wait.</summary>
public sealed class OutageTests
{
    [Fact]
    public async Task Registration_is_unhealthy_until_the_registry_answers_then_healthy()
    {
        await using var stub = await SchemaRegistryStub.StartAsync();
        await stub.SetStateAsync(RegistryState.Refusing);
        using var connection = new SchemaRegistryConnection(Options.Create(new SchemaRegistryOptions { Url = stub.Url, BasicAuthUserInfo = SchemaRegistryStub.UserInfo }));
        var topics = new[] { Registry.Topic("messages"), Registry.Topic("statuses") };
        using var registration = new SchemaRegistration(connection, topics.Select(t => (t, RegistrySchemas.EventEnvelope)).ToArray(),
            NullLogger<SchemaRegistration>.Instance, TimeProvider.System);
        await registration.StartAsync(CancellationToken.None);
        try
        {
            await Task.Delay(300);
            var down = await registration.CheckHealthAsync(new HealthCheckContext());
            Assert.Equal(HealthStatus.Unhealthy, down.Status);
            Assert.Contains($"{topics[0]}-value", down.Description);
            Assert.DoesNotContain("registry-secret", down.Description);

            await stub.SetStateAsync(RegistryState.Up);
            await Poll.UntilAsync(() => Task.FromResult(registration.Done), d => d, TimeSpan.FromSeconds(30), "registration once the registry is back");
            Assert.Equal(HealthStatus.Healthy, (await registration.CheckHealthAsync(new HealthCheckContext())).Status);
            Assert.All(topics, t => Assert.Contains($"POST /subjects/{t}-value/versions", stub.Calls));
        }
        finally
        {
            await registration.StopAsync(CancellationToken.None);
        }
    }

    [Theory]
    [InlineData(RegistryState.Unavailable)]
    [InlineData(RegistryState.Refusing)]
    public async Task Once_registered_a_writer_keeps_writing_while_the_registry_is_down(RegistryState down)
    {
        await using var stub = await SchemaRegistryStub.StartAsync();
        using var client = Registry.Client(stub);
        var topic = Registry.Topic("messages");
        var id = await client.RegisterSchemaAsync(RegistrySchemas.ValueSubject(topic), RegistrySchemas.EventEnvelope);
        var writer = Registry.EnvelopeWriter(client);
        var envelope = System.Text.Json.JsonSerializer.Deserialize(PipelineScenario.Envelope(Lane.Messages, "wamid.1", "1555"), ContractsJsonContext.Default.EventEnvelope)!;

        await stub.SetStateAsync(down);
        var calls = stub.Calls.Count;
        for (var i = 0; i < 3; i++)
        {
            var framed = await writer.WriteAsync(envelope, topic);
            Assert.Equal(id, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(framed.AsSpan(1, 4)));
        }

        Assert.Equal(calls, stub.Calls.Count);

        // What the cache does not hold needs the registry: a subject never registered fails while it is down.
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => writer.WriteAsync(envelope, Registry.Topic("other")));
    }

    [Fact]
    public async Task A_framed_value_whose_id_cannot_be_resolved_is_unresolved_not_unreadable_until_the_registry_is_back()
    {
        await using var stub = await SchemaRegistryStub.StartAsync();
        using var producerSide = Registry.Client(stub);
        var topic = Registry.Topic("messages");
        var envelope = System.Text.Json.JsonSerializer.Deserialize(PipelineScenario.Envelope(Lane.Messages, "wamid.2", "1555"), ContractsJsonContext.Default.EventEnvelope)!;
        var framed = await Registry.EnvelopeWriter(producerSide).WriteAsync(envelope, topic);

        using var readerSide = Registry.Client(stub);
        var reader = new RecordValueReader(new SchemaRegistryConnection(readerSide));
        foreach (var down in new[] { RegistryState.Unavailable, RegistryState.Refusing })
        {
            await stub.SetStateAsync(down);
            var waiting = await reader.ReadEnvelopeAsync(framed);
            Assert.Equal(ReadOutcome.SchemaUnresolved, waiting.Outcome);
            Assert.Null(waiting.Value);
        }

        await stub.SetStateAsync(RegistryState.Up);
        var read = await reader.ReadEnvelopeAsync(framed);
        Assert.Equal(ReadOutcome.Read, read.Outcome);
        Assert.Equal("wamid.2", read.Value!.EventId);

        // Resolved once, cached: a later outage no longer matters for this id.
        await stub.SetStateAsync(RegistryState.Refusing);
        Assert.Equal(ReadOutcome.Read, (await reader.ReadEnvelopeAsync(framed)).Outcome);
    }

    [Fact]
    public async Task A_value_framed_with_a_schema_that_is_not_json_is_unreadable()
    {
        await using var stub = await SchemaRegistryStub.StartAsync();
        using var client = Registry.Client(stub);
        var avro = await client.RegisterSchemaAsync(Registry.Topic("avro") + "-value", new Schema("\"string\"", SchemaType.Avro));
        var reader = new RecordValueReader(new SchemaRegistryConnection(client));

        var read = await reader.ReadEnvelopeAsync(WireFormat.Frame(avro, PipelineScenario.Envelope(Lane.Messages, "wamid.3", "1555")));
        Assert.Equal(ReadOutcome.Unreadable, read.Outcome);
        Assert.Contains("Avro", read.Error);
    }

    [Fact]
    public async Task A_value_that_breaks_the_schema_is_kept_as_plain_json_rather_than_lost()
    {
        await using var stub = await SchemaRegistryStub.StartAsync();
        using var client = Registry.Client(stub);
        var envelope = System.Text.Json.JsonSerializer.Deserialize(PipelineScenario.Envelope(Lane.Messages, "wamid.4", "1555"), ContractsJsonContext.Default.EventEnvelope)! with { Lane = "no-such-lane" };

        var value = await Registry.EnvelopeWriter(client).WriteAsync(envelope, Registry.Topic("messages"));
        Assert.Equal((byte)'{', value[0]);
        Assert.Equal("no-such-lane", (await RecordValueReader.Offline.ReadAsync(value, ContractsJsonContext.Default.EventEnvelope)).Value!.Lane);
    }

    [Theory]
    [InlineData("http://user:pw-secret@registry:8081", "", "must not carry credentials")]
    [InlineData("registry:8081", "", "absolute http(s)")]
    [InlineData("http://registry:8081", "no-colon-secret", "user:password")]
    [InlineData("", "user:pw-secret", "SCHEMA_REGISTRY_URL is not")]
    public void Bad_settings_are_refused_at_start_up_without_echoing_the_secret(string url, string userInfo, string message)
    {
        var failures = new SchemaRegistryOptions { Url = url, BasicAuthUserInfo = userInfo }.Validate().ToArray();
        var failure = Assert.Single(failures);
        Assert.Contains(message, failure);
        Assert.DoesNotContain("secret", failure);
    }
}
