using System.Text.Json;
using Streaming.Contracts;

namespace Streaming.Worker.Ordering;

/// <summary>
/// The conversation an event belongs to for ORDERING=key: one business phone number id and one customer.
/// The Kafka partition key is the customer alone (so a conversation stays on one partition), but a chain
/// keyed by it would hold a customer's messages to business B behind a failing business A, and hand B the
/// id of A's dead-lettered message. Events without a customer (account-level changes, keyed by the WABA)
/// are not chained at all: one failing template update must not hold the whole account.
/// </summary>
public static class ChainKey
{
    /// <summary>The chain key, or null when the event has no conversation to keep in order.</summary>
    public static string? Of(EventEnvelope envelope)
    {
        var customer = envelope.Type switch
        {
            EventTypes.Message => Text(envelope.Payload, "from"),
            EventTypes.Status => Text(envelope.Payload, "recipient_id"),
            _ => null,
        };

        // An unknown phone number id (older envelopes) is its own business: still one chain per customer.
        return string.IsNullOrEmpty(customer) ? null : $"{envelope.PhoneNumberId ?? ""}|{customer}";
    }

    private static string? Text(JsonElement payload, string name) =>
        payload.ValueKind == JsonValueKind.Object && payload.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
