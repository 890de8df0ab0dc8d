using System.Text.Json;
using Streaming.Contracts;
using Streaming.Ingress.Webhooks;
using Streaming.Kafka;
using Streaming.SchemaRegistry;

namespace Streaming.Ingress.Serialization;

/// <summary>
/// The value bytes of a webhook's records. Without SCHEMA_REGISTRY_URL: the splitter's plain JSON, as
/// it always was. With it: Confluent's JsonSerializer&lt;EventEnvelope&gt; (magic byte, schema id, JSON),
/// the schema registered under <c>&lt;topic&gt;-value</c>.
/// </summary>
public sealed class EnvelopeValues(RecordValueWriter<EventEnvelope> writer, Topology topology)
{
    /// <summary>One value per event, in order. Throws a registry error only before the schemas are known (start-up).</summary>
    public async ValueTask<byte[][]> WriteAsync(IReadOnlyList<OutboundEvent> events)
    {
        var values = new byte[events.Count][];
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            if (!writer.Framed)
            {
                values[i] = e.Value;
                continue;
            }

            // The splitter's envelope points into the request body, which is gone by now: the envelope is
            // read back from its own JSON, which also makes the framed record carry exactly that JSON.
            var envelope = JsonSerializer.Deserialize(e.Value, ContractsJsonContext.Default.EventEnvelope)!;
            values[i] = await writer.WriteAsync(envelope, topology[e.Lane].Main.Name, plain: e.Value);
        }

        return values;
    }
}
