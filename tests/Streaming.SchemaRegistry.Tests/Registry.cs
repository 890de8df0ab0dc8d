using Confluent.SchemaRegistry;
using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Contracts;
using Streaming.SchemaRegistry;
using Streaming.Testing;

namespace Streaming.SchemaRegistry.Tests;

/// <summary>The real client over HTTP, against the stub (which forwards to a real registry when SCHEMA_REGISTRY_URL is set).</summary>
internal static class Registry
{
    public static CachedSchemaRegistryClient Client(SchemaRegistryStub stub, string? userInfo = SchemaRegistryStub.UserInfo) =>
        new(new SchemaRegistryConfig
        {
            Url = stub.Url,
            BasicAuthCredentialsSource = userInfo is null ? null : AuthCredentialsSource.UserInfo,
            BasicAuthUserInfo = userInfo,
            RequestTimeoutMs = 5000,
            MaxRetries = 1,
        });

    /// <summary>Subjects are named after topics: a fresh prefix per test keeps tests apart on a real registry.</summary>
    public static string Topic(string name) => $"t{Guid.NewGuid():N}"[..13] + "." + name;

    public static RecordValueWriter<EventEnvelope> EnvelopeWriter(ISchemaRegistryClient? client) =>
        new(new SchemaRegistryConnection(client), RegistrySchemas.EventEnvelope, ContractsJsonContext.Default.EventEnvelope,
            NullLogger.Instance, TimeProvider.System);

    public static RecordValueWriter<DeadLetter> DeadLetterWriter(ISchemaRegistryClient? client) =>
        new(new SchemaRegistryConnection(client), RegistrySchemas.DeadLetter, ContractsJsonContext.Default.DeadLetter,
            NullLogger.Instance, TimeProvider.System);
}
