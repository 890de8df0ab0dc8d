using static Streaming.Deployment.Tests.Workloads;

namespace Streaming.Deployment.Tests;

public sealed class KustomizeTests
{
    private const string Ingress = "whatsapp-streaming-ingress";

    public static TheoryData<string, int, int, int> Overlays => new()
    {
        // overlay, ingress, messages-worker, statuses-worker replicas
        { "k8s/overlays/dev", 1, 1, 1 },
        { "k8s/overlays/production", 3, 6, 4 },
    };

    public static TheoryData<string> OverlayNames => new() { "k8s/overlays/dev", "k8s/overlays/production" };

    private static string Build(string directory)
    {
        var result = Kubectl.Kustomize(directory);
        Assert.True(result.ExitCode == 0, $"kubectl kustomize {directory} failed:\n{result.Output}");
        return result.Stdout;
    }

    [Fact]
    public void The_base_is_namespace_agnostic_and_complete()
    {
        var objects = Yaml.Objects(Build("k8s/base"));

        Assert.All(objects, o => Assert.False(o.Node.At("metadata.namespace").Exists, $"{o} sets a namespace"));
        Assert.Equal(
            ["ConfigMap", "ConfigMap", "Deployment", "Deployment", "Deployment", "Job", "PodDisruptionBudget", "PodDisruptionBudget", "PodDisruptionBudget", "Service", "Service", "Service"],
            objects.Select(o => o.Kind).Order());
        var job = Single(objects, "Job", "whatsapp-streaming-topics");
        Assert.Equal(["topics", "create"], Containers(job).Single()["args"].Items.Select(a => a.Str));
        var config = objects.Single(o => o.Kind == "ConfigMap" && o.Name.StartsWith("whatsapp-streaming-config-", StringComparison.Ordinal));
        foreach (var variable in (string[])["KAFKA_BOOTSTRAP_SERVERS", .. Contract.TopologyVariables, .. Contract.RunVariables])
        {
            Assert.True(config.Node["data"][variable].Exists, $"the base ConfigMap lacks {variable}");
        }

        Assert.True(File.Exists(Repo.PathOf("k8s/base/secret.example.yaml")));
        var example = Yaml.Objects(Repo.Read("k8s/base/secret.example.yaml")).Single();
        Assert.Equal(Contract.SecretVariables.Order(), example.Node["stringData"].Keys.Order());
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Overlays_set_each_lanes_replicas(string overlay, int ingress, int messages, int statuses)
    {
        var objects = Yaml.Objects(Build(overlay));

        Assert.Equal(ingress, Single(objects, "Deployment", Ingress).Node.At("spec.replicas").Int);
        Assert.Equal(messages, Single(objects, "Deployment", "whatsapp-streaming-messages-worker").Node.At("spec.replicas").Int);
        Assert.Equal(statuses, Single(objects, "Deployment", "whatsapp-streaming-statuses-worker").Node.At("spec.replicas").Int);

        var config = objects.Single(o => o.Kind == "ConfigMap" && o.Name.StartsWith("whatsapp-streaming-config-", StringComparison.Ordinal)).Node["data"];
        Assert.True(messages <= config["MESSAGES_PARTITIONS"].Int, "more messages workers than partitions");
        Assert.True(statuses <= config["STATUSES_PARTITIONS"].Int, "more statuses workers than partitions");
        foreach (var lane in Contract.Lanes)
        {
            Assert.StartsWith("http", config[$"{lane.ToUpperInvariant()}_DELIVERY_URL"].Str);
        }
    }

    [Theory]
    [MemberData(nameof(OverlayNames))]
    public void Overlays_render_hardened_probed_workloads_wired_to_their_config_and_secret(string overlay)
    {
        var objects = Yaml.Objects(Build(overlay));
        var configName = objects.Single(o => o.Kind == "ConfigMap" && o.Name.StartsWith("whatsapp-streaming-config-", StringComparison.Ordinal)).Name;
        var secretName = objects.SingleOrDefault(o => o.Kind == "Secret")?.Name ?? "whatsapp-streaming-secrets";
        var ours = objects.Where(o => PodKinds.Contains(o.Kind) && o.Name.StartsWith("whatsapp-streaming-", StringComparison.Ordinal)).ToArray();
        Assert.Equal(4, ours.Length);

        foreach (var workload in ours)
        {
            AssertHardened(workload);
            if (workload.Kind == "Deployment")
            {
                AssertProbes(workload);
            }

            var container = Containers(workload).Single();
            Assert.Equal(configName, container["envFrom"][0].At("configMapRef.name").Str);
            foreach (var envVar in Env(container).Values.Where(e => e.At("valueFrom.secretKeyRef").Exists))
            {
                Assert.Equal(secretName, SecretRef(envVar));
                Assert.Contains(envVar.At("valueFrom.secretKeyRef.key").Str, Contract.SecretVariables);
            }

            Assert.All(Env(container).Keys, name => Assert.Contains(name, Contract.AllVariables));
        }

        foreach (var lane in Contract.Lanes)
        {
            var env = Env(Containers(Single(objects, "Deployment", $"whatsapp-streaming-{lane}-worker")).Single());
            Assert.Equal(lane, env["WORKER_LANE"]["value"].Str);
            Assert.Equal($"{lane.ToUpperInvariant()}_DELIVERY_URL", env["DELIVERY_URL"].At("valueFrom.configMapKeyRef.key").Str);
            Assert.Equal(secretName, SecretRef(env["DELIVERY_SIGNING_SECRET"]));
        }
    }

    [Fact]
    public void Production_pins_images_and_expects_an_external_secret()
    {
        var objects = Yaml.Objects(Build("k8s/overlays/production"));
        Assert.DoesNotContain(objects, o => o.Kind == "Secret");
        Assert.All(objects.Where(o => PodKinds.Contains(o.Kind)).SelectMany(Containers),
            c => Assert.Matches(@"^ghcr\.io/acme/whatsapp-streaming-(ingress|worker|ctl):\d+\.\d+\.\d+$", c["image"].Str));
        Assert.All(objects, o => Assert.Equal("whatsapp-streaming", o.Node.At("metadata.namespace").Str));
    }

    [Fact]
    public void The_dev_overlay_has_a_read_only_kafka_ui_on_its_kafka()
    {
        var objects = Yaml.Objects(Build("k8s/overlays/dev"));
        var ui = Single(objects, "Deployment", "kafka-ui");
        var container = Containers(ui).Single();
        Assert.StartsWith("ghcr.io/kafbat/kafka-ui:", container["image"].Str);
        var env = Env(container);
        Assert.Equal("kafka:9092", env["KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS"]["value"].Str);
        Assert.Equal("true", env["KAFKA_CLUSTERS_0_READONLY"]["value"].Str);
        AssertHardened(ui);
        Assert.Equal("8088", Single(objects, "Service", "kafka-ui").Node.At("spec.ports")[0]["port"].Str);
    }

    [Theory]
    [MemberData(nameof(OverlayNames))]
    public void Kubectl_decodes_every_overlay_object_offline(string overlay)
    {
        Kubectl.AssertDecodes(Build(overlay));
    }
}
