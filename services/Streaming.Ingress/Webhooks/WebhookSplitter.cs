using System.Text.Json;
using Streaming.Contracts;

namespace Streaming.Ingress.Webhooks;

/// <summary>
/// Splits a WhatsApp Business Account webhook into events: each <c>messages[]</c> item to the messages
/// lane; each <c>statuses[]</c> item, value-level <c>errors</c> and every other change field to the
/// statuses lane. Nothing Meta sends is dropped: a change that yields no item becomes one event itself.
/// </summary>
public static class WebhookSplitter
{
    public const string ObjectType = "whatsapp_business_account";

    public static SplitResult Split(JsonElement root, DateTimeOffset receivedAt)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return SplitResult.Invalid("the body is not a JSON object");
        }

        if (!root.TryGetProperty("object", out var objectType) || objectType.ValueKind != JsonValueKind.String)
        {
            return SplitResult.Invalid("missing \"object\": not a webhook");
        }

        if (objectType.GetString() != ObjectType)
        {
            return SplitResult.Invalid($"\"object\" is \"{objectType.GetString()}\", expected \"{ObjectType}\"");
        }

        if (!root.TryGetProperty("entry", out var entries) || entries.ValueKind != JsonValueKind.Array)
        {
            return SplitResult.Invalid("missing \"entry\" array");
        }

        var events = new List<OutboundEvent>();
        var entryIndex = 0;
        foreach (var entry in entries.EnumerateArray())
        {
            var where = $"entry[{entryIndex++}]";
            if (entry.ValueKind != JsonValueKind.Object || !TryGetString(entry, "id", out var wabaId))
            {
                return SplitResult.Invalid($"{where} has no \"id\" (the WhatsApp Business Account id)");
            }

            if (!entry.TryGetProperty("changes", out var changes) || changes.ValueKind != JsonValueKind.Array)
            {
                return SplitResult.Invalid($"{where} has no \"changes\" array");
            }

            var changeIndex = 0;
            foreach (var change in changes.EnumerateArray())
            {
                var error = SplitChange(change, wabaId, receivedAt, $"{where}.changes[{changeIndex++}]", events);
                if (error is not null)
                {
                    return SplitResult.Invalid(error);
                }
            }
        }

        return new SplitResult(events, null);
    }

    private static string? SplitChange(JsonElement change, string wabaId, DateTimeOffset receivedAt, string where, List<OutboundEvent> events)
    {
        if (change.ValueKind != JsonValueKind.Object || !TryGetString(change, "field", out var field))
        {
            return $"{where} has no \"field\"";
        }

        if (!change.TryGetProperty("value", out var value) || value.ValueKind != JsonValueKind.Object)
        {
            return $"{where} has no \"value\" object";
        }

        var context = ChangeContext.From(wabaId, value, receivedAt);
        var before = events.Count;

        if (value.TryGetProperty("messages", out var messages))
        {
            if (messages.ValueKind != JsonValueKind.Array)
            {
                return $"{where}.value.messages is not an array";
            }

            foreach (var message in messages.EnumerateArray())
            {
                if (message.ValueKind != JsonValueKind.Object)
                {
                    return $"{where}.value.messages has an item that is not an object";
                }

                var from = TryGetString(message, "from", out var f) ? f : wabaId;
                var id = TryGetString(message, "id", out var wamid) ? wamid : CanonicalJson.Sha256Hex(wabaId, change, message);
                events.Add(context.Event(Lane.Messages, from, id, EventTypes.Message, message, FindContact(value, from)));
            }
        }

        if (value.TryGetProperty("statuses", out var statuses))
        {
            if (statuses.ValueKind != JsonValueKind.Array)
            {
                return $"{where}.value.statuses is not an array";
            }

            foreach (var status in statuses.EnumerateArray())
            {
                if (status.ValueKind != JsonValueKind.Object)
                {
                    return $"{where}.value.statuses has an item that is not an object";
                }

                var recipient = TryGetString(status, "recipient_id", out var r) ? r : wabaId;
                // sent, delivered and read of one message are distinct events.
                var id = TryGetString(status, "id", out var wamid) && TryGetString(status, "status", out var state)
                    ? $"{wamid}:{state}"
                    : CanonicalJson.Sha256Hex(wabaId, change, status);
                events.Add(context.Event(Lane.Statuses, recipient, id, EventTypes.Status, status, null));
            }
        }

        if (value.TryGetProperty("errors", out _) || events.Count == before)
        {
            // Value-level errors, other fields (template and account updates, ...) and anything
            // unforeseen: the whole change is the event, keyed by the account.
            var type = field == "messages" ? EventTypes.Errors : field;
            events.Add(context.Event(Lane.Statuses, wabaId, CanonicalJson.Sha256Hex(wabaId, change), type, change, null));
        }

        return null;
    }

    private static JsonElement? FindContact(JsonElement value, string waId)
    {
        if (!value.TryGetProperty("contacts", out var contacts) || contacts.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        JsonElement? first = null;
        foreach (var contact in contacts.EnumerateArray())
        {
            first ??= contact;
            if (contact.ValueKind == JsonValueKind.Object && TryGetString(contact, "wa_id", out var id) && id == waId)
            {
                return contact;
            }
        }

        // One contact per message is Meta's usual shape, even when wa_id is normalised differently.
        return contacts.GetArrayLength() == 1 ? first : null;
    }

    private static bool TryGetString(JsonElement element, string name, out string value)
    {
        if (element.TryGetProperty(name, out var property) && property.ValueKind == JsonValueKind.String && property.GetString() is { Length: > 0 } text)
        {
            value = text;
            return true;
        }

        value = "";
        return false;
    }

    private readonly record struct ChangeContext(string WabaId, string? PhoneNumberId, string? DisplayPhoneNumber, DateTimeOffset ReceivedAt)
    {
        public static ChangeContext From(string wabaId, JsonElement value, DateTimeOffset receivedAt)
        {
            string? phoneNumberId = null, display = null;
            if (value.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object)
            {
                phoneNumberId = TryGetString(metadata, "phone_number_id", out var p) ? p : null;
                display = TryGetString(metadata, "display_phone_number", out var d) ? d : null;
            }

            return new ChangeContext(wabaId, phoneNumberId, display, receivedAt);
        }

        public OutboundEvent Event(Lane lane, string key, string eventId, string type, JsonElement payload, JsonElement? contact)
        {
            var envelope = new EventEnvelope
            {
                EventId = eventId,
                Type = type,
                Lane = lane.ToName(),
                WabaId = WabaId,
                PhoneNumberId = PhoneNumberId,
                DisplayPhoneNumber = DisplayPhoneNumber,
                ReceivedAt = ReceivedAt,
                Contact = contact,
                Payload = payload,
            };
            return new OutboundEvent(lane, key, eventId, type, JsonSerializer.SerializeToUtf8Bytes(envelope, ContractsJsonContext.Default.EventEnvelope));
        }
    }
}
