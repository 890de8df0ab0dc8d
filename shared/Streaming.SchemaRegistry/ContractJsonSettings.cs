using System.Reflection;
using Newtonsoft.Json;
using Newtonsoft.Json.Serialization;
using StjIgnore = System.Text.Json.Serialization.JsonIgnoreAttribute;
using StjIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition;
using StjPropertyName = System.Text.Json.Serialization.JsonPropertyNameAttribute;

namespace Streaming.SchemaRegistry;

/// <summary>
/// Confluent's JSON serializer writes through Newtonsoft.Json, while the contracts are System.Text.Json
/// records (<c>ContractsJsonContext</c>: camelCase, nulls written, <c>[JsonIgnore(WhenWritingNull)]</c>,
/// <c>JsonElement</c> for Meta's payloads). These settings make Newtonsoft write the same JSON: the same
/// names in the same order, the same nulls, dictionary keys untouched, and a <c>JsonElement</c> as its raw
/// text (Newtonsoft alone serializes the struct's public properties instead of the JSON it holds).
/// </summary>
public static class ContractJsonSettings
{
    public static JsonSerializerSettings Create() => new()
    {
        ContractResolver = new SystemTextJsonContractResolver(),
        Converters = { new JsonElementConverter() },
        DateFormatHandling = DateFormatHandling.IsoDateFormat,
        DateTimeZoneHandling = DateTimeZoneHandling.RoundtripKind,
        DateParseHandling = DateParseHandling.None,
        Formatting = Formatting.None,
    };

    /// <summary>Honours the System.Text.Json attributes the contracts carry, with camelCase names.</summary>
    private sealed class SystemTextJsonContractResolver : DefaultContractResolver
    {
        public SystemTextJsonContractResolver() =>
            NamingStrategy = new CamelCaseNamingStrategy { ProcessDictionaryKeys = false, OverrideSpecifiedNames = false };

        protected override JsonProperty CreateProperty(MemberInfo member, MemberSerialization memberSerialization)
        {
            var property = base.CreateProperty(member, memberSerialization);
            if (member.GetCustomAttribute<StjPropertyName>() is { } name)
            {
                property.PropertyName = name.Name;
            }

            switch (member.GetCustomAttribute<StjIgnore>()?.Condition)
            {
                case StjIgnoreCondition.Always:
                    property.Ignored = true;
                    break;
                case StjIgnoreCondition.WhenWritingNull:
                    property.NullValueHandling = NullValueHandling.Ignore;
                    break;
                case StjIgnoreCondition.WhenWritingDefault:
                    property.DefaultValueHandling = DefaultValueHandling.Ignore;
                    break;
            }

            return property;
        }
    }

    /// <summary>Writes a <c>JsonElement</c> (or <c>JsonElement?</c>) exactly as it was received: the payload passes through.</summary>
    private sealed class JsonElementConverter : JsonConverter
    {
        public override bool CanConvert(Type objectType) =>
            objectType == typeof(System.Text.Json.JsonElement) || objectType == typeof(System.Text.Json.JsonElement?);

        public override void WriteJson(JsonWriter writer, object? value, JsonSerializer serializer)
        {
            if (value is System.Text.Json.JsonElement element)
            {
                writer.WriteRawValue(element.GetRawText());
            }
            else
            {
                writer.WriteNull();
            }
        }

        public override object? ReadJson(JsonReader reader, Type objectType, object? existingValue, JsonSerializer serializer)
        {
            if (reader.TokenType == JsonToken.Null && objectType == typeof(System.Text.Json.JsonElement?))
            {
                return null;
            }

            using var document = System.Text.Json.JsonDocument.Parse(Newtonsoft.Json.Linq.JToken.ReadFrom(reader).ToString(Formatting.None));
            return document.RootElement.Clone();
        }
    }
}
