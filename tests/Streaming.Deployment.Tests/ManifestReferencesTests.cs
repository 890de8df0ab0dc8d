using System.Text.RegularExpressions;
using static Streaming.Deployment.Tests.Workloads;

namespace Streaming.Deployment.Tests;

/// <summary>
/// What the schemas cannot see and the API server or the kubelet refuses on first install: names too long or
/// malformed, mounts of volumes that do not exist, selectors that select nothing, autoscalers of missing
/// targets, and ConfigMaps or Secrets referenced but neither rendered nor documented as created beforehand.
/// </summary>
public sealed partial class ManifestReferencesTests
{
    /// <summary>Secrets the operator creates before installing (docs/deployment.md), by the CI values' names.</summary>
    private static readonly HashSet<string> ExternalSecrets =
    [
        "whatsapp-streaming-credentials", "whatsapp-streaming-kafka-user", "whatsapp-cluster-ca-cert", "whatsapp-streaming-schema-registry",
        "whatsapp-streaming-secrets", "whatsapp-streaming-destination-secrets",
    ];

    public static TheoryData<string> Renders
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var file in Directory.EnumerateFiles(Repo.PathOf(Helm.Chart + "/ci"), "*values.yaml").Order())
            {
                data.Add($"{Helm.Chart}/ci/{Path.GetFileName(file)}");
            }

            data.Add("k8s/overlays/dev");
            data.Add("k8s/overlays/production");
            return data;
        }
    }

    private static IReadOnlyList<K8sObject> Render(string source)
    {
        if (source.StartsWith("k8s/", StringComparison.Ordinal))
        {
            var result = Kubectl.Kustomize(source);
            Assert.True(result.ExitCode == 0, result.Output);
            return Yaml.Objects(result.Stdout);
        }

        return Helm.Render("-f", source);
    }

    [Theory]
    [MemberData(nameof(Renders))]
    public void Names_labels_and_ports_are_what_the_api_server_accepts(string source)
    {
        foreach (var o in Render(source))
        {
            Assert.Matches(DnsSubdomain(), o.Name);
            Assert.True(o.Name.Length <= (o.Kind is "Service" ? 63 : 253), $"{o}: name too long");
            foreach (var (key, value) in o.Node.At("metadata.labels").Entries)
            {
                Assert.True(value.Str!.Length <= 63 && LabelValue().IsMatch(value.Str), $"{o}: label {key}={value.Str}");
            }

            if (!PodKinds.Contains(o.Kind))
            {
                continue;
            }

            foreach (var c in Containers(o))
            {
                Assert.All(c["ports"].Items.Select(p => p["name"].Str).OfType<string>(), n => Assert.True(n.Length <= 15 && PortName().IsMatch(n), $"{o}: port name {n}"));
                Assert.All(Env(c).Keys, n => Assert.Matches(EnvName(), n));
                var names = Env(c).Keys.ToList();
                Assert.Equal(names.Count, names.Distinct().Count());
            }
        }
    }

    [Theory]
    [MemberData(nameof(Renders))]
    public void Every_reference_resolves(string source)
    {
        var objects = Render(source);
        string[] Named(string kind) => objects.Where(o => o.Kind == kind).Select(o => o.Name).ToArray();
        var configMaps = Named("ConfigMap");
        var secrets = Named("Secret").Concat(ExternalSecrets).ToHashSet();
        var workloads = objects.Where(o => PodKinds.Contains(o.Kind)).ToArray();

        foreach (var o in workloads)
        {
            var pod = PodSpec(o);
            var volumes = pod["volumes"].Items.ToDictionary(v => v["name"].Str!);
            foreach (var c in pod["containers"].Items)
            {
                foreach (var mount in c["volumeMounts"].Items)
                {
                    Assert.True(volumes.ContainsKey(mount["name"].Str!), $"{o}: mount of a missing volume {mount["name"]}");
                }

                foreach (var env in c["env"].Items)
                {
                    if (env.At("valueFrom.configMapKeyRef.name").Str is { } map)
                    {
                        Assert.Contains(map, configMaps);
                    }

                    if (env.At("valueFrom.secretKeyRef.name").Str is { } secret)
                    {
                        Assert.Contains(secret, secrets);
                    }
                }

                foreach (var from in c["envFrom"].Items)
                {
                    if (from.At("configMapRef.name").Str is { } map)
                    {
                        Assert.Contains(map, configMaps);
                    }
                }
            }

            foreach (var volume in volumes.Values)
            {
                if (volume.At("configMap.name").Str is { } map)
                {
                    Assert.Contains(map, configMaps);
                }

                if (volume.At("secret.secretName").Str is { } secret)
                {
                    Assert.Contains(secret, secrets);
                }
            }

            // A Deployment's selector must match its own template (the API server refuses it otherwise).
            if (o.Kind == "Deployment")
            {
                Assert.True(Selects(o.Node.At("spec.selector.matchLabels"), o.Node.At("spec.template.metadata.labels")), $"{o}: selector does not match its template");
            }
        }

        foreach (var o in objects.Where(o => o.Kind is "Service" or "PodDisruptionBudget"))
        {
            var selector = o.Kind == "Service" ? o.Node.At("spec.selector") : o.Node.At("spec.selector.matchLabels");
            Assert.True(workloads.Any(w => Selects(selector, w.Node.At("spec.template.metadata.labels"))), $"{o} selects no pod");
        }

        foreach (var o in objects.Where(o => o.Kind is "HorizontalPodAutoscaler" or "ScaledObject"))
        {
            Assert.Contains(o.Node.At("spec.scaleTargetRef.name").Str, Named("Deployment"));
        }

        // The OpenAPI schema has no minimum here; the API server refuses an HPA below one replica.
        foreach (var o in objects.Where(o => o.Kind == "HorizontalPodAutoscaler"))
        {
            Assert.True(o.Node.At("spec.minReplicas").Int >= 1, $"{o}: minReplicas below 1");
            Assert.True(o.Node.At("spec.maxReplicas").Int >= o.Node.At("spec.minReplicas").Int, $"{o}: maxReplicas below minReplicas");
        }

        foreach (var o in objects.Where(o => o.Kind == "ScaledObject"))
        {
            if (o.Node.At("spec.triggers")[0].At("authenticationRef.name").Str is { } auth)
            {
                Assert.Contains(auth, Named("TriggerAuthentication"));
            }
        }
    }

    private static bool Selects(Node selector, Node labels) =>
        selector.Entries.Any() && selector.Entries.All(kv => labels[kv.Key].Str == kv.Value.Str);

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]
    private static partial Regex DnsSubdomain();

    [GeneratedRegex(@"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")]
    private static partial Regex LabelValue();

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex PortName();

    [GeneratedRegex(@"^[-._a-zA-Z][-._a-zA-Z0-9]*$")]
    private static partial Regex EnvName();
}
