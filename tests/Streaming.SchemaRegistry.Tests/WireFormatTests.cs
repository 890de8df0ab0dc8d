using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Streaming.Contracts;
using Streaming.Ingress.Webhooks;
using Streaming.SchemaRegistry;
using Streaming.Testing;

namespace Streaming.SchemaRegistry.Tests;

/// <summary>
/// Confluent's JsonSerializer writes through Newtonsoft; the rest of the system reads System.Text.Json.
/// These show the bytes after the 5-byte frame are the envelope the system reads: same names, casing,
/// order, nulls and payload.
/// </summary>
public sealed class WireFormatTests
{
    [Fact]
    public async Task Every_fixture_event_framed_by_the_serializer_is_the_envelope_the_plain_path_writes()
    {
        await using var stub = await SchemaRegistryStub.StartAsync();
        using var client = Registry.Client(stub);
        var writer = Registry.EnvelopeWriter(client);
        var reader = new RecordValueReader(new SchemaRegistryConnection(client));
        var topic = Registry.Topic("messages");
        var schema = await NJsonSchema.JsonSchema.FromJsonAsync(RegistrySchemas.EventEnvelope.SchemaString);
        var checkedEvents = 0;

        foreach (var (name, body) in Fixtures.All().Append(new("unicode", SchemaRegistryStub.MessageWebhook("wamid.ü", "4912345"))))
        {
            using var document = JsonDocument.Parse(body);
            foreach (var e in WebhookSplitter.Split(document.RootElement, DateTimeOffset.Parse("2026-12-01T18:00:00.1234567+00:00")).Events)
            {
                var plain = e.Value;
                var envelope = JsonSerializer.Deserialize(plain, ContractsJsonContext.Default.EventEnvelope)!;
                var framed = await writer.WriteAsync(envelope, topic);

                Assert.Equal(WireFormat.MagicByte, framed[0]);
                var id = BinaryPrimitives.ReadInt32BigEndian(framed.AsSpan(1, 4));
                Assert.Equal((await client.GetLatestSchemaAsync(RegistrySchemas.ValueSubject(topic))).Id, id);

                var json = framed.AsSpan(WireFormat.FrameLength).ToArray();
                var (framedNode, plainNode) = (JsonNode.Parse(json)!, JsonNode.Parse(plain)!);
                Assert.True(JsonNode.DeepEquals(framedNode, plainNode), $"{name} {e.EventId}:\n{Encoding.UTF8.GetString(json)}\n{Encoding.UTF8.GetString(plain)}");
                Assert.Equal(plainNode.AsObject().Select(p => p.Key), framedNode.AsObject().Select(p => p.Key));
                Assert.Empty(schema.Validate(Encoding.UTF8.GetString(json)));
                // Byte for byte, even, for Meta's samples: the payload passes through as raw text. Only a
                // non-ASCII envelope field (here an invented event id) differs, in escaping alone.
                if (name != "unicode")
                {
                    Assert.Equal(plain, json);
                }

                // Read back, both forms give the same envelope, and the worker passes on the JSON without the frame.
                var fromFramed = await reader.ReadEnvelopeAsync(framed);
                var fromPlain = await reader.ReadEnvelopeAsync(plain);
                Assert.Equal(ReadOutcome.Read, fromFramed.Outcome);
                Assert.Equal(id, fromFramed.SchemaId);
                Assert.Equal(json, fromFramed.Json);
                Assert.Same(plain, fromPlain.Json);
                Assert.Equal(
                    JsonSerializer.SerializeToUtf8Bytes(fromPlain.Value!, ContractsJsonContext.Default.EventEnvelope),
                    JsonSerializer.SerializeToUtf8Bytes(fromFramed.Value!, ContractsJsonContext.Default.EventEnvelope));
                checkedEvents++;
            }
        }

        Assert.True(checkedEvents >= 15, $"only {checkedEvents} events checked");
    }

    [Fact]
    public async Task A_framed_dead_letter_is_the_dead_letter_the_plain_path_writes()
    {
        await using var stub = await SchemaRegistryStub.StartAsync();
        using var client = Registry.Client(stub);
        var topic = Registry.Topic("messages.dlq");
        foreach (var letter in new[] { Letter(withNulls: true), Letter(withNulls: false) })
        {
            var plain = JsonSerializer.SerializeToUtf8Bytes(letter, ContractsJsonContext.Default.DeadLetter);
            var framed = await Registry.DeadLetterWriter(client).WriteAsync(letter, topic);

            Assert.Equal(WireFormat.MagicByte, framed[0]);
            var json = framed.AsSpan(WireFormat.FrameLength).ToArray();
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(json), JsonNode.Parse(plain)), $"{Encoding.UTF8.GetString(json)}\n{Encoding.UTF8.GetString(plain)}");
            Assert.Equal(JsonNode.Parse(plain)!.AsObject().Select(p => p.Key), JsonNode.Parse(json)!.AsObject().Select(p => p.Key));

            var read = RecordValueReader.ReadDeadLetter(framed);
            Assert.Equal(ReadOutcome.Read, read.Outcome);
            Assert.Equal(letter.OriginalValue, read.Value!.OriginalValue);
            Assert.Equal(letter.OriginalHeaders, read.Value.OriginalHeaders);
            Assert.Equal(letter.LastFailedAt, read.Value.LastFailedAt);
        }
    }

    [Fact]
    public void The_registered_schemas_are_the_documented_ones()
    {
        foreach (var (name, schema) in new[] { ("event-envelope.v1.json", RegistrySchemas.EventEnvelope), ("dead-letter.v1.json", RegistrySchemas.DeadLetter) })
        {
            var documented = File.ReadAllText(Path.Combine(Fixtures.RepositoryRoot, "docs", "schemas", name));
            Assert.True(documented == schema.SchemaString,
                $"shared/Streaming.SchemaRegistry/Schemas/{name} differs from docs/schemas/{name}: copy the documented one over");
        }
    }

    /// <summary>The serializer validates every dead letter: a reason the schema lacks would be written unframed.</summary>
    [Fact]
    public void Every_dead_letter_reason_is_in_the_registered_schema()
    {
        var allowed = JsonNode.Parse(RegistrySchemas.DeadLetter.SchemaString)!["properties"]!["reason"]!["enum"]!.AsArray().Select(n => n!.GetValue<string>()).ToHashSet();
        var reasons = typeof(DeadLetterReasons).GetFields().Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!).ToArray();
        Assert.NotEmpty(reasons);
        Assert.All(reasons, r => Assert.Contains(r, allowed));
    }

    [Fact]
    public async Task Without_a_registry_values_are_plain_json_and_frames_are_only_skipped()
    {
        var envelope = JsonSerializer.Deserialize(PipelineScenario.Envelope(Lane.Messages, "wamid.1", "15550001"), ContractsJsonContext.Default.EventEnvelope)!;
        var plain = await Registry.EnvelopeWriter(null).WriteAsync(envelope, "any");
        Assert.Equal((byte)'{', plain[0]);
        Assert.Equal(plain, JsonSerializer.SerializeToUtf8Bytes(envelope, ContractsJsonContext.Default.EventEnvelope));

        // An id no registry knows: offline readers (streamctl, workers without SCHEMA_REGISTRY_URL) skip the frame.
        var framed = WireFormat.Frame(424242, plain);
        var read = await RecordValueReader.Offline.ReadEnvelopeAsync(framed);
        Assert.Equal(ReadOutcome.Read, read.Outcome);
        Assert.Equal(424242, read.SchemaId);
        Assert.Equal(plain, read.Json);
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 0 }, "shorter than a schema id")]
    [InlineData(new byte[] { 0, 0, 0, 0, 7 }, "empty value")]
    [InlineData(new byte[] { (byte)'[', (byte)']' }, "JSON value could not be converted")]
    [InlineData(new byte[] { (byte)'{', (byte)'}' }, "required properties")]
    public async Task Values_that_are_no_envelope_in_either_form_are_unreadable(byte[] value, string error)
    {
        var read = await RecordValueReader.Offline.ReadEnvelopeAsync(value);
        Assert.Equal(ReadOutcome.Unreadable, read.Outcome);
        Assert.Contains(error, read.Error);
    }

    [Fact]
    public async Task An_envelope_of_another_schema_version_is_unreadable()
    {
        var v2 = Encoding.UTF8.GetString(PipelineScenario.Envelope(Lane.Messages, "wamid.5", "1555")).Replace("\"schemaVersion\":1", "\"schemaVersion\":2");
        var read = await RecordValueReader.Offline.ReadEnvelopeAsync(Encoding.UTF8.GetBytes(v2));
        Assert.Equal(ReadOutcome.Unreadable, read.Outcome);
        Assert.Contains("not an event envelope", read.Error);
    }

    private static DeadLetter Letter(bool withNulls) => new()
    {
        Reason = DeadLetterReasons.Terminal4xx,
        Lane = LaneNames.Messages,
        EventId = withNulls ? null : "wamid.x",
        SourceTopic = "whatsapp.messages.retry.5s",
        SourcePartition = 3,
        SourceOffset = 12345678901,
        OriginTopic = "whatsapp.messages",
        Attempts = 2,
        FirstFailedAt = withNulls ? null : DateTimeOffset.Parse("2026-12-01T18:00:00.12+02:00"),
        LastFailedAt = DateTimeOffset.Parse("2026-12-01T18:00:05.1234567Z"),
        LastStatusCode = withNulls ? null : 404,
        Error = withNulls ? null : "HTTP 404 Not Found \"quoted\" ünïcode ✓",
        Key = withNulls ? null : "15550001",
        OriginalValue = WireFormat.Frame(7, "{\"eventId\":\"x\"}"u8),
        OriginalHeaders = new Dictionary<string, string> { ["event-id"] = "wamid.x", ["X-Upper-Case"] = "kept", ["traceparent"] = "00-abc-def-01" },
    };
}
