using System.Text.RegularExpressions;

namespace Streaming.Deployment.Tests;

/// <summary>The values the guides show are values the chart takes: each Kafka example of docs/deployment.md with its
/// Values block, and the KEDA block of docs/scaling.md, render and validate.</summary>
public sealed partial class DeploymentGuideTests
{
    private static IReadOnlyList<string> YamlBlocks(string document) =>
        YamlBlock().Matches(Repo.Read(document)).Select(m => m.Groups[1].Value).ToArray();

    private static string Temp(string text)
    {
        var path = Path.Combine(Path.GetTempPath(), $"values-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Each_kafka_example_renders_with_the_guides_values()
    {
        var blocks = YamlBlocks("docs/deployment.md").Where(b => Yaml.Parse(b)["kind"].Str is null).ToArray();
        var values = blocks.Single(b => Yaml.Parse(b)["image"].Exists);
        var kafka = blocks.Where(b => Yaml.Parse(b)["kafka"].Exists && !Yaml.Parse(b)["image"].Exists).ToArray();
        Assert.Equal(3, kafka.Length); // Strimzi, MSK, Confluent Cloud
        var valuesFile = Temp(values);
        try
        {
            foreach (var example in kafka)
            {
                var exampleFile = Temp(example);
                try
                {
                    var result = Tool.Run(Repo.Helm, ["template", Helm.Release, Helm.Chart, "-n", "whatsapp-streaming", "--kube-version", Helm.KubeVersion,
                        "-f", Helm.DefaultValues, "-f", exampleFile, "-f", valuesFile]);
                    Assert.True(result.ExitCode == 0, $"{example}\n{result.Output}");
                    Assert.Empty(ManifestSchemas.Violations(result.Stdout));
                    var objects = Yaml.Objects(result.Stdout);
                    Assert.Contains(objects, o => o.Kind == "TriggerAuthentication");
                    Assert.Contains(objects, o => o.Kind == "PrometheusRule");
                }
                finally
                {
                    File.Delete(exampleFile);
                }
            }
        }
        finally
        {
            File.Delete(valuesFile);
        }
    }

    [Fact]
    public void The_scaling_guides_keda_values_render()
    {
        var block = YamlBlocks("docs/scaling.md").Single(b => Yaml.Parse(b)["keda"].Exists);
        var file = Temp(block);
        try
        {
            var result = Tool.Run(Repo.Helm, ["template", Helm.Release, Helm.Chart, "--kube-version", Helm.KubeVersion, "-f", Helm.DefaultValues, "-f", file]);
            Assert.True(result.ExitCode == 0, result.Output);
            Assert.Empty(ManifestSchemas.Violations(result.Stdout));
            Assert.Equal(2, Yaml.Objects(result.Stdout).Count(o => o.Kind == "ScaledObject"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void The_guide_goes_from_the_images_to_lag_in_kafka_ui()
    {
        var text = Repo.Read("docs/deployment.md");
        foreach (var step in new[]
        {
            "docker push $REGISTRY/whatsapp-streaming-ctl:$TAG", "kind: KafkaUser", "**Amazon MSK**", "**Confluent Cloud**",
            "helm upgrade --install whatsapp-streaming helm/whatsapp-streaming", "get scaledobject,triggerauthentication,hpa",
            "port-forward svc/whatsapp-streaming-kafka-ui 8088", "Consumers → `whatsapp-messages-worker`", "lag on the retry tiers",
            "helm -n whatsapp-streaming get notes whatsapp-streaming",
        })
        {
            Assert.Contains(step, text);
        }

        Assert.Contains("build-and-push-the-images", Markdown.Anchors(text));
        Assert.Contains("Build and push the images", Repo.Read(Helm.Chart + "/templates/_helpers.tpl"));
    }

    [GeneratedRegex(@"```yaml\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex YamlBlock();
}
