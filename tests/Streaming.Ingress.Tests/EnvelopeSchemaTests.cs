using NJsonSchema;
using Streaming.Ingress.Webhooks;
using Streaming.Testing;

namespace Streaming.Ingress.Tests;

public class EnvelopeSchemaTests
{
    private static readonly Lazy<JsonSchema> Schema = new(() =>
        JsonSchema.FromFileAsync(Path.Combine(Fixtures.RepositoryRoot, "docs", "schemas", "event-envelope.v1.json")).GetAwaiter().GetResult());

    [Fact]
    public void Every_event_of_every_fixture_matches_the_published_schema()
    {
        var checkedEvents = 0;
        foreach (var (name, body) in Fixtures.All())
        {
            using var document = System.Text.Json.JsonDocument.Parse(body);
            foreach (var e in WebhookSplitter.Split(document.RootElement, DateTimeOffset.UtcNow).Events)
            {
                var errors = Schema.Value.Validate(System.Text.Encoding.UTF8.GetString(e.Value));
                Assert.True(errors.Count == 0, $"{name} {e.EventId}: {string.Join("; ", errors)}");
                checkedEvents++;
            }
        }

        Assert.True(checkedEvents >= 15, $"only {checkedEvents} events checked");
    }

    [Fact]
    public void The_schema_rejects_an_envelope_without_an_event_id() =>
        Assert.NotEmpty(Schema.Value.Validate("""{"schemaVersion":1,"type":"message","lane":"messages","wabaId":"1","receivedAt":"2026-01-01T00:00:00Z","payload":{}}"""));
}
