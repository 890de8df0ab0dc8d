using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Confluent.SchemaRegistry;
using Streaming.Contracts;

namespace Streaming.SchemaRegistry;

public enum ReadOutcome
{
    /// <summary>The value was read.</summary>
    Read,

    /// <summary>Not a value of this type, in either form: poison.</summary>
    Unreadable,

    /// <summary>Framed with a schema id the registry cannot answer for now: wait and read again, neither drop nor dead-letter.</summary>
    SchemaUnresolved,
}

/// <summary>A value read from a record: what it is, and the JSON itself (without the frame) to pass on.</summary>
public sealed record ValueRead<T>(ReadOutcome Outcome, T? Value, byte[]? Json, int? SchemaId, string? Error)
    where T : class
{
    public static ValueRead<T> Unreadable(string error, int? schemaId = null) => new(ReadOutcome.Unreadable, null, null, schemaId, error);
}

/// <summary>
/// The one reader of record values, for the workers and streamctl: plain JSON and framed values alike,
/// so a topic may hold both while a cluster switches over. With a registry, a framed value's schema id
/// is resolved first (the client caches it), the way Confluent's deserializers do; without one the frame
/// is only skipped, so readers can be upgraded before anyone writes framed records.
/// </summary>
public sealed class RecordValueReader(SchemaRegistryConnection registry)
{
    /// <summary>A reader that only skips frames (streamctl, and services without a registry).</summary>
    public static RecordValueReader Offline { get; } = new(new SchemaRegistryConnection((ISchemaRegistryClient?)null));

    public async ValueTask<ValueRead<EventEnvelope>> ReadEnvelopeAsync(byte[]? value, CancellationToken ct = default)
    {
        var read = await ReadAsync(value, ContractsJsonContext.Default.EventEnvelope, ct).ConfigureAwait(false);
        if (read.Outcome == ReadOutcome.Read
            && (read.Value!.SchemaVersion != EventEnvelope.CurrentSchemaVersion || string.IsNullOrEmpty(read.Value.EventId)))
        {
            return ValueRead<EventEnvelope>.Unreadable("the value is not an event envelope (JSON with eventId, schemaVersion 1)", read.SchemaId);
        }

        return read;
    }

    /// <summary>Dead letters are read for display and replay: the frame is skipped, the id is not resolved.</summary>
    public static ValueRead<DeadLetter> ReadDeadLetter(byte[]? value) =>
        Parse(value, ContractsJsonContext.Default.DeadLetter, schemaId: WireFormat.TryRead(value, out var wire) ? wire.SchemaId : null);

    public async ValueTask<ValueRead<T>> ReadAsync<T>(byte[]? value, JsonTypeInfo<T> type, CancellationToken ct = default)
        where T : class
    {
        if (!WireFormat.TryRead(value, out var wire))
        {
            return ValueRead<T>.Unreadable(value is null ? "empty value" : "starts with the magic byte but is shorter than a schema id");
        }

        if (wire.SchemaId is { } id && registry.Client is { } client)
        {
            Schema schema;
            try
            {
                schema = await client.GetSchemaAsync(id).WaitAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (SchemaRegistryConnection.IsRegistryError(e) && !ct.IsCancellationRequested)
            {
                return new ValueRead<T>(ReadOutcome.SchemaUnresolved, null, null, id, $"schema id {id}: {e.Message}");
            }

            if (schema.SchemaType != SchemaType.Json)
            {
                return ValueRead<T>.Unreadable($"framed with a {schema.SchemaType} schema (id {id}), not JSON", id);
            }
        }

        return Parse(value, type, wire.SchemaId);
    }

    private static ValueRead<T> Parse<T>(byte[]? value, JsonTypeInfo<T> type, int? schemaId)
        where T : class
    {
        if (!WireFormat.TryRead(value, out var wire) || wire.Json.Length == 0)
        {
            return ValueRead<T>.Unreadable("empty value", schemaId);
        }

        try
        {
            var read = JsonSerializer.Deserialize(wire.Json.Span, type);
            return read is null
                ? ValueRead<T>.Unreadable("the value is JSON null", schemaId)
                : new ValueRead<T>(ReadOutcome.Read, read, wire.JsonBytes(value!), schemaId, null);
        }
        catch (JsonException e)
        {
            return ValueRead<T>.Unreadable(e.Message, schemaId);
        }
    }
}
