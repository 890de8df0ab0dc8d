using System.Text.Json;
using Streaming.Contracts;
using Streaming.Ingress.Webhooks;
using Streaming.Testing;

namespace Streaming.Ingress.Tests;

public class WebhookSplitterTests
{
    private static readonly DateTimeOffset ReceivedAt = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    private static SplitResult Split(string fixture) => Split(Fixtures.Get(fixture));

    private static SplitResult Split(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        return WebhookSplitter.Split(document.RootElement, ReceivedAt);
    }

    private static SplitResult SplitText(string json) => Split(System.Text.Encoding.UTF8.GetBytes(json));

    private static JsonElement Envelope(OutboundEvent e) => JsonDocument.Parse(e.Value).RootElement;

    public static TheoryData<string> AllFixtures() => new(Fixtures.All().Keys.Order());

    [Theory]
    [MemberData(nameof(AllFixtures))]
    public void Every_fixture_is_a_webhook_with_at_least_one_event(string fixture)
    {
        var result = Split(fixture);
        Assert.True(result.IsWebhook, result.Error);
        Assert.NotEmpty(result.Events);
        Assert.All(result.Events, e => Assert.False(string.IsNullOrEmpty(e.Key)));
    }

    [Theory]
    [MemberData(nameof(AllFixtures))]
    public void Every_item_of_every_fixture_becomes_exactly_one_event(string fixture)
    {
        using var document = JsonDocument.Parse(Fixtures.Get(fixture));
        var messages = 0;
        var statuses = 0;
        var others = 0;
        foreach (var change in document.RootElement.GetProperty("entry").EnumerateArray().SelectMany(e => e.GetProperty("changes").EnumerateArray()))
        {
            var value = change.GetProperty("value");
            var m = value.TryGetProperty("messages", out var ms) ? ms.GetArrayLength() : 0;
            var s = value.TryGetProperty("statuses", out var ss) ? ss.GetArrayLength() : 0;
            messages += m;
            statuses += s;
            others += value.TryGetProperty("errors", out _) || m + s == 0 ? 1 : 0;
        }

        var events = Split(fixture).Events;
        Assert.Equal(messages, events.Count(e => e.Type == EventTypes.Message));
        Assert.Equal(statuses, events.Count(e => e.Type == EventTypes.Status));
        Assert.Equal(others, events.Count(e => e.Type is not EventTypes.Message and not EventTypes.Status));
        Assert.All(events, e => Assert.Equal(e.Type == EventTypes.Message ? Lane.Messages : Lane.Statuses, e.Lane));
    }

    [Fact]
    public void Mixed_batch_puts_messages_on_the_high_lane_and_statuses_on_the_low_lane()
    {
        var events = Split("mixed-batch.json").Events;
        var messages = events.Where(e => e.Lane == Lane.Messages).ToArray();
        var statuses = events.Where(e => e.Lane == Lane.Statuses).ToArray();

        Assert.Equal(["5511987654321", "818012345678"], messages.Select(e => e.Key));
        Assert.Equal("wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFDNBMDFFQzU1QjY0RTJBNzM4QTZEAA==", messages[0].EventId);
        Assert.Equal(["5511987654321", "447700900456"], statuses.Select(e => e.Key));
        Assert.Equal("wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEkQ4QjA3RDc0MjJGMjZGRTU0MwA=:read", statuses[0].EventId);
        Assert.Equal("wamid.HBgMNDQ3NzAwOTAwNDU2FQIAERgSMkE5QzFGNjBDRTQ0QjdBQjU2AA==:sent", statuses[1].EventId);
    }

    [Fact]
    public void Each_status_of_one_message_is_a_distinct_event()
    {
        var statuses = Split("batched-entries.json").Events.Where(e => e.Type == EventTypes.Status).Select(e => e.EventId).ToArray();
        Assert.Equal(["wamid.out.1:sent", "wamid.out.1:delivered", "wamid.out.1:read"], statuses);
    }

    [Fact]
    public void The_envelope_carries_metadata_contact_and_the_item_exactly_as_sent()
    {
        var e = Split("text-message.json").Events.Single();
        var envelope = Envelope(e);
        using var original = JsonDocument.Parse(Fixtures.Get("text-message.json"));
        var value = original.RootElement.GetProperty("entry")[0].GetProperty("changes")[0].GetProperty("value");

        Assert.Equal(1, envelope.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(e.EventId, envelope.GetProperty("eventId").GetString());
        Assert.Equal("message", envelope.GetProperty("type").GetString());
        Assert.Equal("messages", envelope.GetProperty("lane").GetString());
        Assert.Equal("102290129340398", envelope.GetProperty("wabaId").GetString());
        Assert.Equal(value.GetProperty("metadata").GetProperty("phone_number_id").GetString(), envelope.GetProperty("phoneNumberId").GetString());
        Assert.Equal(value.GetProperty("metadata").GetProperty("display_phone_number").GetString(), envelope.GetProperty("displayPhoneNumber").GetString());
        Assert.Equal(ReceivedAt, envelope.GetProperty("receivedAt").GetDateTimeOffset());
        Assert.True(JsonElement.DeepEquals(value.GetProperty("contacts")[0], envelope.GetProperty("contact")));
        Assert.True(JsonElement.DeepEquals(value.GetProperty("messages")[0], envelope.GetProperty("payload")));
    }

    [Fact]
    public void Batched_contacts_are_matched_to_their_sender()
    {
        var messages = Split("batched-entries.json").Events.Where(e => e.Lane == Lane.Messages).ToArray();
        Assert.Equal(3, messages.Length);
        Assert.All(messages, m => Assert.Equal(m.Key, Envelope(m).GetProperty("contact").GetProperty("wa_id").GetString()));
    }

    [Fact]
    public void Unknown_fields_are_kept_in_the_payload()
    {
        var payload = Envelope(Split("unknown-fields.json").Events.Single()).GetProperty("payload");
        Assert.Equal("2.50", payload.GetProperty("brand_new_field").GetProperty("nested")[1].GetRawText());
        Assert.Equal("unsupported", payload.GetProperty("type").GetString());
    }

    [Fact]
    public void Value_level_errors_become_one_low_priority_event_keyed_by_the_account()
    {
        var e = Split("value-errors.json").Events.Single();
        Assert.Equal((Lane.Statuses, EventTypes.Errors, "102290129340398"), (e.Lane, e.Type, e.Key));
        Assert.Matches("^[0-9a-f]{64}$", e.EventId);
        Assert.Equal(131047, Envelope(e).GetProperty("payload").GetProperty("value").GetProperty("errors")[0].GetProperty("code").GetInt32());
    }

    [Fact]
    public void Other_fields_are_typed_by_their_field_name_on_the_low_lane()
    {
        var template = Split("template-status-update.json").Events.Single();
        Assert.Equal((Lane.Statuses, "message_template_status_update", "102290129340398"), (template.Lane, template.Type, template.Key));

        var account = Split("account-update.json").Events;
        Assert.Equal(["account_update", "phone_number_quality_update"], account.Select(e => e.Type));
        Assert.All(account, e => Assert.Equal("209876543210987", e.Key));
        Assert.NotEqual(account[0].EventId, account[1].EventId);
    }

    [Fact]
    public void Hashed_event_ids_ignore_key_order_and_whitespace_but_not_content()
    {
        var a = SplitText("""{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"account_update","value":{"a":1,"b":{"c":"x","d":[1,2]}}}]}]}""");
        var b = SplitText("""{ "entry": [ { "changes": [ { "value": { "b": { "d": [1, 2], "c": "x" }, "a": 1 }, "field": "account_update" } ], "id": "1" } ], "object": "whatsapp_business_account" }""");
        var c = SplitText("""{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"account_update","value":{"a":2,"b":{"c":"x","d":[1,2]}}}]}]}""");
        var otherAccount = SplitText("""{"object":"whatsapp_business_account","entry":[{"id":"2","changes":[{"field":"account_update","value":{"a":1,"b":{"c":"x","d":[1,2]}}}]}]}""");

        Assert.Equal(a.Events.Single().EventId, b.Events.Single().EventId);
        Assert.NotEqual(a.Events.Single().EventId, c.Events.Single().EventId);
        Assert.NotEqual(a.Events.Single().EventId, otherAccount.Events.Single().EventId);
    }

    [Theory]
    [MemberData(nameof(AllFixtures))]
    public void Splitting_the_same_webhook_twice_yields_the_same_event_ids(string fixture) =>
        Assert.Equal(Split(fixture).Events.Select(e => e.EventId), Split(fixture).Events.Select(e => e.EventId));

    [Fact]
    public void An_empty_entry_list_is_a_webhook_with_no_events()
    {
        var result = SplitText("""{"object":"whatsapp_business_account","entry":[]}""");
        Assert.True(result.IsWebhook);
        Assert.Empty(result.Events);
    }

    [Theory]
    [InlineData("[]", "not a JSON object")]
    [InlineData("{}", "missing \"object\"")]
    [InlineData("""{"object":"page","entry":[]}""", "expected \"whatsapp_business_account\"")]
    [InlineData("""{"object":"whatsapp_business_account"}""", "missing \"entry\"")]
    [InlineData("""{"object":"whatsapp_business_account","entry":[{"changes":[]}]}""", "entry[0] has no \"id\"")]
    [InlineData("""{"object":"whatsapp_business_account","entry":[{"id":"1"}]}""", "entry[0] has no \"changes\"")]
    [InlineData("""{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"value":{}}]}]}""", "changes[0] has no \"field\"")]
    [InlineData("""{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":[]}]}]}""", "no \"value\" object")]
    [InlineData("""{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":{}}}]}]}""", "messages is not an array")]
    [InlineData("""{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"statuses":[1]}}]}]}""", "not an object")]
    public void A_body_that_is_not_a_webhook_says_why(string json, string reason)
    {
        var result = SplitText(json);
        Assert.False(result.IsWebhook);
        Assert.Contains(reason, result.Error);
    }
}
