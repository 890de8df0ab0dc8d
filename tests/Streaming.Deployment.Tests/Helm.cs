using System.Collections.Concurrent;

namespace Streaming.Deployment.Tests;

/// <summary>Renders and lints helm/whatsapp-streaming; renders are cached per argument list.</summary>
public static class Helm
{
    public const string Chart = "helm/whatsapp-streaming";
    public const string Release = "whatsapp-streaming";
    public const string Namespace = "whatsapp";

    /// <summary>The minimum an install needs (chart defaults for everything else).</summary>
    public const string DefaultValues = Chart + "/ci/default-values.yaml";

    /// <summary>KEDA, ServiceMonitor, kafka-ui, existingSecret, SASL/TLS and the public Ingress all on.</summary>
    public const string FullValues = Chart + "/ci/full-values.yaml";

    private static readonly ConcurrentDictionary<string, ToolResult> Renders = new();

    /// <summary>The Kubernetes version renders assume (the chart's kubeVersion is checked against it).</summary>
    public const string KubeVersion = "1.33.0";

    public static ToolResult Template(params string[] args) =>
        Renders.GetOrAdd(string.Join('\u0001', args), _ =>
            Tool.Run(Repo.Helm, ["template", Release, Chart, "--namespace", Namespace, "--kube-version", KubeVersion, .. args]));

    /// <summary>Rendered objects; fails the test with helm's output when rendering fails.</summary>
    public static IReadOnlyList<K8sObject> Render(params string[] args)
    {
        var result = Template(args);
        Assert.True(result.ExitCode == 0, $"helm template {string.Join(' ', args)} failed:\n{result.Output}");
        return Yaml.Objects(result.Stdout);
    }

    public static ToolResult Lint(params string[] args) => Tool.Run(Repo.Helm, ["lint", Chart, "--strict", .. args]);
}
