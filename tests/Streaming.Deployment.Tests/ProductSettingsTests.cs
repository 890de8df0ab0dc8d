using static Streaming.Deployment.Tests.Workloads;

namespace Streaming.Deployment.Tests;

/// <summary>Destinations (issue 10), ORDERING (issue 11) and the Schema Registry (issue 12) as the chart, the kustomize base and compose set them.</summary>
public sealed class ProductSettingsTests
{
    private const string Prefix = Helm.Release;

    private static IReadOnlyList<K8sObject> Full => Helm.Render("-f", Helm.FullValues);

    [Fact]
    public void Destinations_render_to_a_mounted_configmap_without_secrets()
    {
        var map = Single(Full, "ConfigMap", $"{Prefix}-destinations");
        var file = map.Node["data"]["destinations.yaml"].Str!;
        var table = Yaml.Parse(file)["destinations"].Items;
        Assert.Equal(["acme", "globex"], table.Select(d => d["name"].Str));
        Assert.Equal("/etc/whatsapp-streaming-secrets/ACME_SIGNING_SECRET", table[0]["signingSecretFile"].Str);
        Assert.Equal(["106540352242922"], table[0]["phoneNumberIds"].Items.Select(i => i.Str));
        Assert.Equal("16", table[0]["maxConcurrency"].Str);
        Assert.All(table, d => Assert.False(d["signingSecret"].Exists || d["signingSecretKey"].Exists));
        Assert.DoesNotContain("whsec_", file);

        foreach (var lane in Contract.Lanes)
        {
            var deployment = Single(Full, "Deployment", $"{Prefix}-{lane}-worker");
            var container = Containers(deployment).Single();
            Assert.Equal(Contract.DestinationsFile, Env(container)["DESTINATIONS_FILE"]["value"].Str);
            var mounts = container["volumeMounts"].Items.ToDictionary(m => m["name"].Str!);
            Assert.Equal("/etc/whatsapp-streaming", mounts["destinations"]["mountPath"].Str);
            Assert.False(mounts["destinations"]["subPath"].Exists, "a subPath mount never sees an updated ConfigMap");
            Assert.Equal("/etc/whatsapp-streaming-secrets", mounts["destination-secrets"]["mountPath"].Str);
            var volumes = PodSpec(deployment)["volumes"].Items.ToDictionary(v => v["name"].Str!);
            Assert.Equal($"{Prefix}-destinations", volumes["destinations"].At("configMap.name").Str);
            Assert.Equal("whatsapp-streaming-credentials", volumes["destination-secrets"].At("secret.secretName").Str);
            Assert.Equal(["ACME_SIGNING_SECRET", "GLOBEX_SIGNING_SECRET"], volumes["destination-secrets"].At("secret.items").Items.Select(i => i["key"].Str));
        }

        Assert.False(Env(Containers(Single(Full, "Deployment", $"{Prefix}-ingress")).Single()).ContainsKey("DESTINATIONS_FILE"));
        Assert.DoesNotContain(Helm.Render("-f", Helm.DefaultValues), o => o.Kind == "ConfigMap");
        Assert.False(Env(Containers(Single(Helm.Render("-f", Helm.DefaultValues), "Deployment", $"{Prefix}-messages-worker")).Single()).ContainsKey("DESTINATIONS_FILE"));
    }

    [Fact]
    public void Destination_secrets_live_in_the_chart_secret_and_are_checked()
    {
        string[] values = ["-f", Helm.DefaultValues, "--set", "destinations[0].name=acme", "--set-string", "destinations[0].phoneNumberIds[0]=1065",
            "--set", "destinations[0].messagesUrl=https://acme.example/wa", "--set", "destinations[0].signingSecretKey=acme"];
        var missing = Helm.Template(values);
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("destinations[acme].signingSecretKey \"acme\" is not a key of secrets.destinationSigningSecrets", missing.Stderr);

        var objects = Helm.Render([.. values, "--set", "secrets.destinationSigningSecrets.acme=whsec_YWNtZQ=="]);
        var secret = Single(objects, "Secret", $"{Prefix}-secrets");
        Assert.Equal("whsec_YWNtZQ==", System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(secret.Node["data"]["acme"].Str!)));
        Assert.DoesNotContain("whsec_", Single(objects, "ConfigMap", $"{Prefix}-destinations").Node["data"]["destinations.yaml"].Str);

        // A literal secret in the values is refused: only references.
        Assert.NotEqual(0, Helm.Template([.. values, "--set", "destinations[0].signingSecret=whsec_eA=="]).ExitCode);
        Assert.NotEqual(0, Helm.Template([.. values, "--set", "secrets.destinationSigningSecrets.acme=whsec_YWNtZQ==", "--set", "destinations[0].name=default"]).ExitCode);
    }

    [Fact]
    public void Each_lane_sets_its_ordering()
    {
        foreach (var (lane, ordering) in new[] { ("messages", "key"), ("statuses", "none") })
        {
            var env = Env(Containers(Single(Helm.Render("-f", Helm.DefaultValues), "Deployment", $"{Prefix}-{lane}-worker")).Single());
            Assert.Equal(ordering, env["ORDERING"]["value"].Str);
        }

        var none = Env(Containers(Single(Helm.Render("-f", Helm.DefaultValues, "--set", "workers.messages.ordering=none"), "Deployment", $"{Prefix}-messages-worker")).Single());
        Assert.Equal("none", none["ORDERING"]["value"].Str);
        Assert.NotEqual(0, Helm.Template("-f", Helm.DefaultValues, "--set", "workers.messages.ordering=strict").ExitCode);

        var kustomized = Yaml.Objects(Kubectl.Kustomize("k8s/base").Stdout);
        var compose = Yaml.Parse(Repo.Read("docker-compose.kafka.yml"))["services"];
        foreach (var (lane, ordering) in new[] { ("messages", "key"), ("statuses", "none") })
        {
            Assert.Equal(ordering, Env(Containers(Single(kustomized, "Deployment", $"whatsapp-streaming-{lane}-worker")).Single())["ORDERING"]["value"].Str);
            Assert.EndsWith($":-{ordering}}}", compose.At($"{lane}-worker.environment.ORDERING").Str);
        }
    }

    [Fact]
    public void The_schema_registry_reaches_ingress_workers_and_the_topics_job_with_auth_from_a_secret()
    {
        foreach (var (kind, name) in new[] { ("Deployment", "ingress"), ("Deployment", "messages-worker"), ("Deployment", "statuses-worker"), ("Job", "topics") })
        {
            var env = Env(Containers(Single(Full, kind, $"{Prefix}-{name}")).Single());
            Assert.Equal("http://schema-registry.kafka.svc:8081", env["SCHEMA_REGISTRY_URL"]["value"].Str);
            Assert.Equal("whatsapp-streaming-schema-registry", SecretRef(env["SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO"]));
            Assert.False(env["SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO"]["value"].Exists);
        }

        Assert.DoesNotContain(Helm.Render("-f", Helm.DefaultValues).Where(o => PodKinds.Contains(o.Kind)).SelectMany(Containers).SelectMany(c => Env(c).Keys),
            k => k.StartsWith("SCHEMA_REGISTRY_", StringComparison.Ordinal));
        Assert.Contains("schemaRegistry.url is empty", Helm.Template("-f", Helm.DefaultValues, "--set", "schemaRegistry.basicAuthSecret.name=x").Stderr);
    }

    [Fact]
    public void Secret_valued_variables_never_appear_as_literals()
    {
        foreach (var render in new[] { Helm.Render("-f", Helm.DefaultValues), Full, Yaml.Objects(Kubectl.Kustomize("k8s/overlays/production").Stdout) })
        {
            foreach (var env in render.Where(o => PodKinds.Contains(o.Kind)).SelectMany(Containers).SelectMany(c => Env(c)))
            {
                if (Contract.SecretValuedVariables.Contains(env.Key))
                {
                    Assert.False(env.Value["value"].Exists, $"{env.Key} is a literal");
                    Assert.NotNull(SecretRef(env.Value));
                }
            }
        }
    }

    [Fact]
    public void The_kustomize_base_mounts_a_reloadable_destinations_table()
    {
        var objects = Yaml.Objects(Kubectl.Kustomize("k8s/base").Stdout);
        var map = Single(objects, "ConfigMap", "whatsapp-streaming-destinations");
        Assert.NotNull(Yaml.Parse(map.Node["data"]["destinations.yaml"].Str!)["destinations"]);
        foreach (var lane in Contract.Lanes)
        {
            var deployment = Single(objects, "Deployment", $"whatsapp-streaming-{lane}-worker");
            var container = Containers(deployment).Single();
            Assert.Equal(Contract.DestinationsFile, Env(container)["DESTINATIONS_FILE"]["value"].Str);
            Assert.Contains(container["volumeMounts"].Items, m => m["mountPath"].Str == "/etc/whatsapp-streaming" && !m["subPath"].Exists);
            var secrets = PodSpec(deployment)["volumes"].Items.Single(v => v["name"].Str == "destination-secrets");
            Assert.Equal("true", secrets.At("secret.optional").Str);
        }
    }
}
