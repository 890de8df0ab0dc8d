using System.Globalization;
using System.Text.RegularExpressions;
using System.Text.Json.Nodes;
using NJsonSchema;
using NJsonSchema.Validation;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Streaming.Deployment.Tests;

/// <summary>
/// Offline validation of rendered manifests against strict schemas (unknown fields are errors, as with
/// `kubectl apply --validate=strict`): the Kubernetes kinds from Schemas/kubernetes-strict.json, and the custom
/// resources (KEDA, prometheus-operator) from the openAPIV3Schema of their CRDs in Schemas/crds/, made strict
/// the same way. See Schemas/README.md for where each file comes from.
/// </summary>
public static partial class ManifestSchemas
{
    private static readonly Lazy<(JsonSchema Root, IReadOnlyDictionary<string, string> Kinds)> Loaded = new(Load);

    /// <summary>apiVersion/kind of every kind a schema is vendored for.</summary>
    public static IEnumerable<string> Kinds => Loaded.Value.Kinds.Keys;

    /// <summary>Every violation in a multi-document YAML stream, as "Kind/name: error at path"; empty when all is valid.</summary>
    public static IReadOnlyList<string> Violations(string manifests)
    {
        var (root, kinds) = Loaded.Value;
        var problems = new List<string>();
        foreach (var document in TypedDocuments(manifests))
        {
            if (document is not JsonObject obj)
            {
                problems.Add($"a document is not an object: {document?.ToJsonString()}");
                continue;
            }

            var gvk = $"{obj["apiVersion"]}/{obj["kind"]}";
            var name = $"{obj["kind"]}/{obj["metadata"]?["name"]}";
            if (!kinds.TryGetValue(gvk, out var definition))
            {
                problems.Add($"{name}: no schema vendored for {gvk}");
                continue;
            }

            var errors = root.Definitions[definition].Validate(obj.ToJsonString());
            problems.AddRange(Flatten(errors).Select(e => $"{name}: {e}"));
        }

        return problems;
    }

    private static IEnumerable<string> Flatten(IEnumerable<ValidationError> errors) =>
        errors.SelectMany(e => e is ChildSchemaValidationError child && child.Errors.Count > 0
            ? child.Errors.Values.SelectMany(Flatten).DefaultIfEmpty($"{e.Kind} at {e.Path}")
            : [$"{e.Kind} at {e.Path}"]);

    /// <summary>
    /// YAML documents as JSON with the types of YAML 1.2's core schema, as the API server reads them: an unquoted
    /// 3 is a number, a quoted "3" a string.
    /// </summary>
    public static IReadOnlyList<JsonNode?> TypedDocuments(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return stream.Documents.Where(d => d.RootNode is not YamlScalarNode { Value: null or "" or "null" or "~" })
            .Select(d => ToJson(d.RootNode)).ToArray();
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, ToJson(kv.Value)))),
        YamlSequenceNode list => new JsonArray(list.Children.Select(ToJson).ToArray()),
        YamlScalarNode { Style: not ScalarStyle.Plain } quoted => JsonValue.Create(quoted.Value ?? ""),
        YamlScalarNode plain => Plain(plain.Value ?? ""),
        _ => throw new NotSupportedException(node.NodeType.ToString()),
    };

    private static JsonNode? Plain(string value)
    {
        if (value is "" or "~" or "null" or "Null" or "NULL")
        {
            return null;
        }

        if (value is "true" or "True" or "TRUE" or "false" or "False" or "FALSE")
        {
            return JsonValue.Create(bool.Parse(value));
        }

        if (IntegerPattern().IsMatch(value))
        {
            return JsonValue.Create(long.Parse(value, CultureInfo.InvariantCulture));
        }

        if (FloatPattern().IsMatch(value))
        {
            return JsonValue.Create(double.Parse(value, CultureInfo.InvariantCulture));
        }

        return JsonValue.Create(value);
    }

    [GeneratedRegex(@"^[-+]?[0-9]+$")]
    private static partial Regex IntegerPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatPattern();

    private static (JsonSchema, IReadOnlyDictionary<string, string>) Load()
    {
        var document = JsonNode.Parse(Repo.Read("tests/Streaming.Deployment.Tests/Schemas/kubernetes-strict.json"))!.AsObject();
        var definitions = document["definitions"]!.AsObject();
        var kinds = document["x-kinds"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>());

        foreach (var file in Directory.EnumerateFiles(Repo.PathOf("tests/Streaming.Deployment.Tests/Schemas/crds"), "*.yaml").Order())
        {
            var crd = TypedDocuments(File.ReadAllText(file)).Single()!;
            var group = crd["spec"]!["group"]!.GetValue<string>();
            var kind = crd["spec"]!["names"]!["kind"]!.GetValue<string>();
            foreach (var version in crd["spec"]!["versions"]!.AsArray())
            {
                var schema = version!["schema"]!["openAPIV3Schema"]!.DeepClone().AsObject();
                Strict(schema);
                var properties = schema["properties"]!.AsObject();
                var apiVersion = $"{group}/{version["name"]}";
                properties["apiVersion"] = new JsonObject { ["type"] = "string", ["enum"] = new JsonArray(apiVersion) };
                properties["kind"] = new JsonObject { ["type"] = "string", ["enum"] = new JsonArray(kind) };
                properties["metadata"] = new JsonObject { ["$ref"] = "#/definitions/V1ObjectMeta" };
                var name = $"{kind}.{version["name"]}.{group}";
                definitions[name] = schema;
                kinds[$"{apiVersion}/{kind}"] = name;
            }
        }

        var root = JsonSchema.FromJsonAsync(document.ToJsonString()).GetAwaiter().GetResult();
        return (root, kinds);
    }

    /// <summary>
    /// An openAPIV3Schema made strict like the API server's field validation: an object that lists its properties
    /// and neither declares additionalProperties nor preserves unknown fields accepts no other property.
    /// </summary>
    private static void Strict(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                var preserves = obj["x-kubernetes-preserve-unknown-fields"] is JsonValue v && v.TryGetValue<bool>(out var b) && b;
                if (obj["properties"] is JsonObject && obj["additionalProperties"] is null && !preserves)
                {
                    obj["additionalProperties"] = false;
                }

                foreach (var (_, child) in obj.ToArray())
                {
                    Strict(child);
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    Strict(child);
                }

                break;
        }
    }
}
