using YamlDotNet.Serialization;

namespace Streaming.Deployment.Tests.Alerting;

/// <summary>
/// The alert rules as promtool and a test Prometheus load them: the shipped file, or the chart's rendered
/// PrometheusRule, written as a plain rules file. Annotations can be left out for `promtool test rules`,
/// whose expected alerts must otherwise repeat every rendered description; expressions, `for:` and labels
/// are never changed here.
/// </summary>
public static class AlertRules
{
    public const string Shipped = "docs/observability/prometheus-alerts.yaml";

    private static readonly IDeserializer Reader = new DeserializerBuilder().Build();
    private static readonly ISerializer Writer = new SerializerBuilder().Build();

    /// <summary>The shipped rules file's groups.</summary>
    public static List<object> ShippedGroups() => Groups(Reader.Deserialize<Dictionary<object, object>>(Repo.Read(Shipped)));

    /// <summary>The groups of the chart's PrometheusRule rendered with these helm arguments.</summary>
    public static List<object> ChartGroups(params string[] helmArgs)
    {
        var result = Helm.Template(helmArgs);
        Assert.True(result.ExitCode == 0, result.Output);
        foreach (var document in result.Stdout.Split("\n---"))
        {
            if (Reader.Deserialize<Dictionary<object, object>?>(document) is { } obj && obj.TryGetValue("kind", out var kind) && (string)kind == "PrometheusRule")
            {
                return Groups((Dictionary<object, object>)obj["spec"]);
            }
        }

        throw new InvalidOperationException($"no PrometheusRule in helm template {string.Join(' ', helmArgs)}");
    }

    public static IEnumerable<Dictionary<object, object>> Rules(List<object> groups) =>
        groups.Cast<Dictionary<object, object>>().SelectMany(g => ((List<object>)g["rules"]).Cast<Dictionary<object, object>>());

    /// <summary>Writes a rules file; optionally without annotations, or with every alert's `for:` replaced (the live test).</summary>
    public static string Write(List<object> groups, string path, bool annotations = true, string? forDuration = null)
    {
        foreach (var rule in Rules(groups))
        {
            if (!annotations)
            {
                rule.Remove("annotations");
            }

            if (forDuration is not null && rule.ContainsKey("for"))
            {
                rule["for"] = forDuration;
            }
        }

        File.WriteAllText(path, Writer.Serialize(new Dictionary<string, object> { ["groups"] = groups }));
        return path;
    }

    private static List<object> Groups(Dictionary<object, object> root) => (List<object>)root["groups"];
}
