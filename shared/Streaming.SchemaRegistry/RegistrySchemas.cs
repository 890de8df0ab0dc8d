using Confluent.SchemaRegistry;

namespace Streaming.SchemaRegistry;

/// <summary>
/// The schemas registered under <c>&lt;topic&gt;-value</c>: the documented contract (docs/schemas), not
/// the one Confluent's serializer would generate from the C# types. The documented one is what readers
/// are promised and what the tests check every envelope against: <c>schemaVersion</c> const 1, the lane
/// enum, non-empty ids, <c>payload</c> and <c>contact</c> objects. The generated one (NJsonSchema, draft-04)
/// says none of that (<c>payload</c> is "anything", <c>contact</c> may be null) and would change, and
/// need a new registered version, whenever the C# type or the generator does.
/// </summary>
public static class RegistrySchemas
{
    public static Schema EventEnvelope { get; } = Load("event-envelope.v1.json");

    public static Schema DeadLetter { get; } = Load("dead-letter.v1.json");

    /// <summary>The subject name strategy Topic: what kafka-ui and other Confluent tools look up.</summary>
    public static string ValueSubject(string topic) => $"{topic}-value";

    private static Schema Load(string name)
    {
        using var stream = typeof(RegistrySchemas).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded schema {name} is missing");
        using var reader = new StreamReader(stream);
        // The same Schema value the serializer builds (no references, metadata or rules), so the
        // client's cache answers the serializer once start-up has registered it.
        return new Schema(reader.ReadToEnd(), [], SchemaType.Json);
    }
}
