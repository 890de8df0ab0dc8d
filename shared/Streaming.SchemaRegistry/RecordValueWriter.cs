using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using Microsoft.Extensions.Logging;
using NJsonSchema.NewtonsoftJson.Generation;

namespace Streaming.SchemaRegistry;

/// <summary>
/// Writes one record type's values. Without a registry: plain JSON (System.Text.Json, as always). With
/// one: Confluent's <see cref="JsonSerializer{T}"/>, one per topic so each keeps its own subject
/// (<c>&lt;topic&gt;-value</c>, strategy Topic) and schema id, given the documented schema rather than a
/// generated one, and validating every value against it before it is written.
/// </summary>
public sealed class RecordValueWriter<T>(
    SchemaRegistryConnection registry, Schema schema, JsonTypeInfo<T> plainJson, ILogger logger, TimeProvider time)
    where T : class
{
    private static readonly JsonSerializerConfig SerializerConfig = new()
    {
        // Registers, or finds, the schema on first use of a subject; start-up has usually done it already
        // (SchemaRegistration), and the client's cache then answers without a call.
        AutoRegisterSchemas = true,
        SubjectNameStrategy = SubjectNameStrategy.Topic,
        Validate = true,
    };

    private readonly ConcurrentDictionary<string, JsonSerializer<T>> _serializers = new();

    public bool Framed => registry.Client is not null;

    /// <summary>
    /// The value's bytes for <paramref name="topic"/>. <paramref name="plain"/> is the System.Text.Json
    /// form when the caller has it already. Throws when the registry is needed and cannot answer.
    /// </summary>
    public async Task<byte[]> WriteAsync(T value, string topic, byte[]? plain = null)
    {
        if (registry.Client is not { } client)
        {
            return plain ?? JsonSerializer.SerializeToUtf8Bytes(value, plainJson);
        }

        var serializer = _serializers.GetOrAdd(topic, _ => new JsonSerializer<T>(client, schema, SerializerConfig,
            new NewtonsoftJsonSchemaGeneratorSettings { SerializerSettings = ContractJsonSettings.Create() }));
        try
        {
            return await serializer.SerializeAsync(value, new SerializationContext(MessageComponentType.Value, topic)).ConfigureAwait(false);
        }
        catch (InvalidDataException e)
        {
            // Our own value breaks our own contract: a bug to fix, but never a reason to lose the record
            // (readers take plain JSON too).
            logger.ValidationFallback(typeof(T).Name, topic, e.Message);
            return plain ?? JsonSerializer.SerializeToUtf8Bytes(value, plainJson);
        }
    }

    /// <summary>As <see cref="WriteAsync"/>, but waits out a registry outage (the caller's record stays where it is).</summary>
    public async Task<byte[]> WriteUntilDoneAsync(T value, string topic, CancellationToken ct)
    {
        var backoff = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            try
            {
                return await WriteAsync(value, topic).ConfigureAwait(false);
            }
            catch (Exception e) when (SchemaRegistryConnection.IsRegistryError(e))
            {
                logger.WriteRetry(topic, e.Message, (long)backoff.TotalMilliseconds);
                await Task.Delay(backoff, time, ct).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }
}
