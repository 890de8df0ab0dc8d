using Confluent.SchemaRegistry;

namespace Streaming.SchemaRegistry;

/// <summary>
/// The schemas registered under <c>&lt;topic&gt;-value</c>: the documented contract (docs/schemas), not
/// the one Confluent's serializer would generate from the C# types. The generated one describes what
/// Newtonsoft sees by reflection (a <c>JsonElement</c> as an object with a <c>valueKind</c>), while the
/// documented one is what readers are promised and what the tests check the envelope against.
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
