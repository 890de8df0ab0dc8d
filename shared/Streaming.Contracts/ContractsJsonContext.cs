using System.Text.Json.Serialization;

namespace Streaming.Contracts;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(EventEnvelope))]
[JsonSerializable(typeof(DeadLetter))]
public sealed partial class ContractsJsonContext : JsonSerializerContext;
