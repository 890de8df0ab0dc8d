using System.Text.Json;
using System.Text.Json.Serialization;

namespace Streaming.Contracts;

/// <summary>
/// The value of every lane record. Versioned: readers accept <see cref="CurrentSchemaVersion"/> and
/// ignore fields they do not know, so new optional fields need no version bump.
/// Schema: docs/schemas/event-envelope.v1.json.
/// </summary>
public sealed record EventEnvelope
{
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;
    public required string EventId { get; init; }
    public required string Type { get; init; }
    public required string Lane { get; init; }
    public required string WabaId { get; init; }
    public string? PhoneNumberId { get; init; }
    public string? DisplayPhoneNumber { get; init; }
    public required DateTimeOffset ReceivedAt { get; init; }

    /// <summary>The matching <c>value.contacts[]</c> item, for messages only.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Contact { get; init; }

    /// <summary>The item exactly as Meta sent it.</summary>
    public required JsonElement Payload { get; init; }
}
