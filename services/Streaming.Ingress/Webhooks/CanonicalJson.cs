using System.Security.Cryptography;
using System.Text.Json;

namespace Streaming.Ingress.Webhooks;

/// <summary>
/// A stable byte form of a JSON value (object keys sorted, no whitespace, numbers as sent), so the same
/// change hashes to the same event id however Meta orders or spaces it on redelivery.
/// </summary>
public static class CanonicalJson
{
    /// <param name="scope">Where the parts come from (the account id), so equal changes of two accounts differ.</param>
    public static string Sha256Hex(string scope, params ReadOnlySpan<JsonElement> parts)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            writer.WriteStringValue(scope);
            foreach (var part in parts)
            {
                Write(writer, part);
            }

            writer.WriteEndArray();
        }

        return Convert.ToHexStringLower(SHA256.HashData(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)));
    }

    private static void Write(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    Write(writer, property.Value);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }
}
