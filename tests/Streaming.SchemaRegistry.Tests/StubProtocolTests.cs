using System.Net;
using Confluent.SchemaRegistry;
using Streaming.SchemaRegistry;
using Streaming.Testing;

namespace Streaming.SchemaRegistry.Tests;

/// <summary>The stub answers each call Confluent's client makes, the way the client expects (checked through the client itself).</summary>
public sealed class StubProtocolTests
{
    [Fact]
    public async Task Register_lookup_get_by_id_latest_and_compatibility_work_through_the_real_client()
    {
        await using var stub = await SchemaRegistryStub.StartAsync();
        using var client = Registry.Client(stub);
        var subject = RegistrySchemas.ValueSubject(Registry.Topic("messages"));

        var registered = await client.RegisterSchemaWithResponseAsync(subject, RegistrySchemas.EventEnvelope, normalize: false);
        Assert.True(registered.Id > 0);

        // A second client (no cache): registering the same schema again finds the same id.
        using var other = Registry.Client(stub);
        Assert.Equal(registered.Id, await other.RegisterSchemaAsync(subject, RegistrySchemas.EventEnvelope));
        var found = await other.LookupSchemaAsync(subject, RegistrySchemas.EventEnvelope, ignoreDeletedSchemas: true);
        Assert.Equal(registered.Id, found.Id);
        Assert.True(found.Version >= 1);

        var byId = await other.GetSchemaAsync(registered.Id);
        Assert.Equal(SchemaType.Json, byId.SchemaType);
        Assert.Equal(RegistrySchemas.EventEnvelope.SchemaString, byId.SchemaString);

        var latest = await other.GetLatestSchemaAsync(subject);
        Assert.Equal(registered.Id, latest.Id);
        Assert.Equal(subject, latest.Subject);

        Assert.True(await other.IsCompatibleAsync(subject, RegistrySchemas.EventEnvelope));
        // eventId changes type: incompatible under any compatibility level of a real registry, and for the stub's rule.
        Assert.False(await other.IsCompatibleAsync(subject,
            new Schema("""{"type":"object","properties":{"eventId":{"type":"integer"}},"required":["eventId"],"additionalProperties":false}""", SchemaType.Json)));

        if (!stub.ForwardsToRealRegistry)
        {
            Assert.Equal(
                [
                    $"POST /subjects/{subject}/versions", $"POST /subjects/{subject}/versions", $"POST /subjects/{subject}",
                    $"GET /schemas/ids/{registered.Id}", $"GET /subjects/{subject}/versions/latest",
                    $"POST /compatibility/subjects/{subject}/versions/latest", $"POST /compatibility/subjects/{subject}/versions/latest",
                ],
                stub.Calls);
        }
    }

    [Fact]
    public async Task Unknown_ids_and_subjects_are_the_registrys_404s()
    {
        await using var stub = await SchemaRegistryStub.StartAsync();
        using var client = Registry.Client(stub);

        var id = await Assert.ThrowsAsync<SchemaRegistryException>(() => client.GetSchemaAsync(987_654_321));
        Assert.Equal(HttpStatusCode.NotFound, id.Status);
        Assert.Equal(40403, id.ErrorCode);

        var subject = await Assert.ThrowsAsync<SchemaRegistryException>(() => client.GetLatestSchemaAsync(Registry.Topic("none") + "-value"));
        Assert.Equal(40401, subject.ErrorCode);
    }

    [Fact]
    public async Task Wrong_or_missing_credentials_are_refused()
    {
        await using var stub = await SchemaRegistryStub.StartAsync();
        using var wrong = Registry.Client(stub, "registry-user:wrong");
        using var none = Registry.Client(stub, null);
        var subject = RegistrySchemas.ValueSubject(Registry.Topic("messages"));

        var e = await Assert.ThrowsAsync<SchemaRegistryException>(() => wrong.RegisterSchemaAsync(subject, RegistrySchemas.EventEnvelope));
        Assert.Equal(HttpStatusCode.Unauthorized, e.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Assert.ThrowsAsync<SchemaRegistryException>(() => none.GetSchemaAsync(1))).Status);
    }

    [Fact]
    public async Task The_stub_goes_down_with_503s_or_refused_connections_and_comes_back_on_its_port()
    {
        await using var stub = await SchemaRegistryStub.StartAsync();
        var url = stub.Url;
        var subject = RegistrySchemas.ValueSubject(Registry.Topic("messages"));

        await stub.SetStateAsync(RegistryState.Unavailable);
        using (var client = Registry.Client(stub))
        {
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.RegisterSchemaAsync(subject, RegistrySchemas.EventEnvelope));
        }

        await stub.SetStateAsync(RegistryState.Refusing);
        using (var client = Registry.Client(stub))
        {
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.RegisterSchemaAsync(subject, RegistrySchemas.EventEnvelope));
        }

        await stub.SetStateAsync(RegistryState.Up);
        Assert.Equal(url, stub.Url);
        using (var client = Registry.Client(stub))
        {
            Assert.True(await client.RegisterSchemaAsync(subject, RegistrySchemas.EventEnvelope) > 0);
        }
    }

    [Fact]
    public async Task Pointed_at_a_real_registry_the_stub_forwards_every_call_and_still_goes_down_on_demand()
    {
        await using var real = await SchemaRegistryStub.StartAsync("upstream-user:upstream-pw");
        await using var stub = await SchemaRegistryStub.StartAsync(upstream: real.Url, upstreamUserInfo: "upstream-user:upstream-pw");
        Assert.True(stub.ForwardsToRealRegistry);
        using var client = Registry.Client(stub);
        var subject = RegistrySchemas.ValueSubject(Registry.Topic("messages"));

        var id = await client.RegisterSchemaAsync(subject, RegistrySchemas.EventEnvelope);
        using var other = Registry.Client(stub);
        Assert.Equal(RegistrySchemas.EventEnvelope.SchemaString, (await other.GetSchemaAsync(id)).SchemaString);
        Assert.Equal(id, (await other.GetLatestSchemaAsync(subject)).Id);
        Assert.Equal([$"POST /subjects/{subject}/versions", $"GET /schemas/ids/{id}", $"GET /subjects/{subject}/versions/latest"], real.Calls);

        await stub.SetStateAsync(RegistryState.Unavailable);
        using var third = Registry.Client(stub);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => third.GetSchemaAsync(id));
        Assert.Equal(3, real.Calls.Count);
    }
}
