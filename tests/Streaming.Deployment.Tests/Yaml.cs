using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace Streaming.Deployment.Tests;

/// <summary>
/// A read-only view of parsed YAML/JSON: maps, lists and scalars (all scalars as strings). A missing key
/// yields <see cref="Missing"/>, so paths can be walked without null checks and asserted at the end.
/// </summary>
public sealed class Node
{
    public static readonly Node Missing = new(null, "(missing)");

    private readonly object? _value;

    public Node(object? value, string path = "")
    {
        _value = value;
        Path = path;
    }

    public string Path { get; }

    public bool Exists => _value is not null;

    public Node this[string key] =>
        _value is IDictionary<object, object> map && map.TryGetValue(key, out var v) && v is not null ? new Node(v, $"{Path}.{key}") : Missing;

    public Node this[int index] =>
        _value is IList<object> list && index < list.Count ? new Node(list[index], $"{Path}[{index}]") : Missing;

    /// <summary>Walks a dotted path: <c>spec.template.spec</c>.</summary>
    public Node At(string dotted) => dotted.Split('.').Aggregate(this, (node, key) => node[key]);

    public string? Str => _value as string;

    public int Int => int.Parse(Str ?? throw new InvalidOperationException($"{Path} is missing"), System.Globalization.CultureInfo.InvariantCulture);

    public bool Bool => bool.Parse(Str ?? throw new InvalidOperationException($"{Path} is missing"));

    public IReadOnlyList<Node> Items =>
        _value is IList<object> list ? list.Select((v, i) => new Node(v, $"{Path}[{i}]")).ToArray() : [];

    public IEnumerable<string> Keys =>
        _value is IDictionary<object, object> map ? map.Keys.Select(k => k.ToString()!) : [];

    public IEnumerable<KeyValuePair<string, Node>> Entries =>
        _value is IDictionary<object, object> map ? map.Select(kv => new KeyValuePair<string, Node>(kv.Key.ToString()!, new Node(kv.Value, $"{Path}.{kv.Key}"))) : [];

    public override string ToString() => Str ?? (Exists ? Path : "(missing)");
}

/// <summary>Kubernetes-style object: kind/name shortcuts over a <see cref="Node"/>.</summary>
public sealed record K8sObject(Node Node)
{
    public string Kind => Node["kind"].Str ?? "";

    public string Name => Node.At("metadata.name").Str ?? "";

    public override string ToString() => $"{Kind}/{Name}";
}

public static class Yaml
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder().Build();

    /// <summary>Every non-empty document of a (multi-document) YAML stream; merge keys (&lt;&lt;: *anchor) are resolved.</summary>
    public static IReadOnlyList<Node> ParseAll(string text)
    {
        var parser = new MergingParser(new Parser(new StringReader(text)));
        parser.Consume<StreamStart>();
        var documents = new List<Node>();
        while (parser.Accept<DocumentStart>(out _))
        {
            var value = Deserializer.Deserialize<object?>(parser);
            if (value is not null)
            {
                documents.Add(new Node(value, $"doc{documents.Count}"));
            }
        }

        return documents;
    }

    public static Node Parse(string text) => ParseAll(text).Single();

    public static IReadOnlyList<K8sObject> Objects(string text) => ParseAll(text).Select(n => new K8sObject(n)).ToArray();
}
