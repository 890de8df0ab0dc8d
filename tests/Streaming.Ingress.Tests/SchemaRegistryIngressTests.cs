using System.Buffers.Binary;
using System.Net;
using Confluent.SchemaRegistry;
using Streaming.Contracts;
using Streaming.Kafka;
using Streaming.SchemaRegistry;
using Streaming.Testing;

namespace Streaming.Ingress.Tests;

/// <summary>The ingress on the Schema Registry: not ready until registered, then serving on cached ids whatever the registry does.</summary>
public sealed class SchemaRegistryIngressTests : IAsyncLifetime
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);
    private KafkaBroker _broker = null!;
    private Topology _topology = null!;
    private SchemaRegistryStub _registry = null!;

    public async Task InitializeAsync()
    {
        _broker = await KafkaBroker.StartAsync();
        _topology = _broker.Topology();
        await _broker.ProvisionAsync(_topology);
        _registry = await SchemaRegistryStub.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _registry.DisposeAsync();
        await _broker.DisposeAsync();
    }

    private CachedSchemaRegistryClient Client() => new(new SchemaRegistryConfig
    {
        Url = _registry.Url, BasicAuthCredentialsSource = AuthCredentialsSource.UserInfo, BasicAuthUserInfo = SchemaRegistryStub.UserInfo,
    });

    private IReadOnlyList<ReadRecord> Lane(Lane lane) => TopicReader.ReadAll(_broker.BootstrapServers, _topology[lane].Main.Name);

    [Fact]
    public async Task The_ingress_is_not_ready_until_its_schemas_are_registered_and_answers_503_until_then()
    {
        await _registry.SetStateAsync(RegistryState.Refusing);
        await using var ingress = await IngressHost.StartAsync(_broker, _registry.Settings);
        await Task.Delay(500);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await ingress.Client.GetAsync("/readyz")).StatusCode);

        // Traffic that reaches it anyway gets a 503 that Meta retries, never a 500 or a 200 for an unwritten record.
        var early = await ingress.PostSignedAsync(Fixtures.Get("text-message.json"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, early.StatusCode);
        Assert.True(early.Headers.RetryAfter is not null);
        Assert.Empty(Lane(Contracts.Lane.Messages));

        await _registry.SetStateAsync(RegistryState.Up);
        await Poll.UntilAsync(async () => (await ingress.Client.GetAsync("/readyz")).StatusCode, s => s == HttpStatusCode.OK, Settle, "readiness once the registry answers");
        using var client = Client();
        foreach (var lane in LaneNames.All)
        {
            var registered = await client.GetLatestSchemaAsync(RegistrySchemas.ValueSubject(_topology[lane].Main.Name));
            Assert.Equal(RegistrySchemas.EventEnvelope.SchemaString, registered.SchemaString);
        }
    }

    [Theory]
    [InlineData(RegistryState.Refusing)]
    [InlineData(RegistryState.Unavailable)]
    public async Task Once_ready_cached_schema_ids_keep_the_ingress_storing_framed_records_while_the_registry_is_down(RegistryState down)
    {
        await using var ingress = await IngressHost.StartAsync(_broker, _registry.Settings);
        await Poll.UntilAsync(async () => (await ingress.Client.GetAsync("/readyz")).StatusCode, s => s == HttpStatusCode.OK, Settle, "the ingress to be ready");
        using var client = Client();
        var messagesId = (await client.GetLatestSchemaAsync(RegistrySchemas.ValueSubject(_topology[Contracts.Lane.Messages].Main.Name))).Id;

        await _registry.SetStateAsync(down);
        var calls = _registry.Calls.Count;
        Assert.Equal(HttpStatusCode.OK, (await ingress.PostSignedAsync(SchemaRegistryStub.MessageWebhook("wamid.cached.1", "4912345"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ingress.PostSignedAsync(Fixtures.Get("mixed-batch.json"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ingress.Client.GetAsync("/readyz")).StatusCode);
        Assert.Equal(calls, _registry.Calls.Count);

        var records = Lane(Contracts.Lane.Messages).Concat(Lane(Contracts.Lane.Statuses)).ToArray();
        Assert.True(records.Length >= 3);
        foreach (var record in records)
        {
            Assert.Equal(WireFormat.MagicByte, record.Value[0]);
            var read = await RecordValueReader.Offline.ReadEnvelopeAsync(record.Value);
            Assert.Equal(record.Header(HeaderNames.EventId), read.Value!.EventId);
            if (record.Topic == _topology[Contracts.Lane.Messages].Main.Name)
            {
                Assert.Equal(messagesId, BinaryPrimitives.ReadInt32BigEndian(record.Value.AsSpan(1, 4)));
            }
        }
    }

    [Fact]
    public async Task Without_SCHEMA_REGISTRY_URL_records_are_plain_json_as_before()
    {
        await using var ingress = await IngressHost.StartAsync(_broker, ("SCHEMA_REGISTRY_URL", ""), ("SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", ""));
        Assert.Equal(HttpStatusCode.OK, (await ingress.PostSignedAsync(Fixtures.Get("text-message.json"))).StatusCode);
        var record = Assert.Single(Lane(Contracts.Lane.Messages));
        Assert.Equal((byte)'{', record.Value[0]);
        Assert.Empty(_registry.Calls);
    }
}
