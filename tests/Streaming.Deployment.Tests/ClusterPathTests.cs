using System.Text.Json.Nodes;
using static Streaming.Deployment.Tests.Workloads;

namespace Streaming.Deployment.Tests;

/// <summary>What renders fine and goes wrong only on a running cluster (issue 13, "On the cluster"), checked in the rendered output.</summary>
public sealed class ClusterPathTests
{
    private const string Prefix = Helm.Release;

    private static IReadOnlyList<K8sObject> Full => Helm.Render("-f", Helm.FullValues);

    private static string Fails(params string[] args)
    {
        var result = Helm.Template(args);
        Assert.True(result.ExitCode != 0, $"rendering succeeded: helm template {string.Join(' ', args)}");
        return result.Stderr;
    }

    [Fact]
    public void Keda_refuses_broker_names_its_operator_cannot_resolve()
    {
        var error = Fails("-f", Helm.FullValues, "--set", "kafka.bootstrapServers=kafka-0.kafka:9093");
        Assert.Contains("KEDA's operator resolves broker names from its own namespace", error);
        Assert.Contains("keda.bootstrapServers", error);

        // keda.bootstrapServers takes over for the trigger only; the pods keep kafka.bootstrapServers.
        var objects = Helm.Render("-f", Helm.FullValues, "--set", "kafka.bootstrapServers=kafka-0.kafka:9093", "--set", "keda.bootstrapServers=kafka-0.kafka.kafka.svc:9093");
        var trigger = Single(objects, "ScaledObject", $"{Prefix}-messages-worker").Node.At("spec.triggers")[0];
        Assert.Equal("kafka-0.kafka.kafka.svc:9093", trigger.At("metadata.bootstrapServers").Str);
        Assert.Equal("kafka-0.kafka:9093", Env(Containers(Single(objects, "Deployment", $"{Prefix}-messages-worker")).Single())["KAFKA_BOOTSTRAP_SERVERS"]["value"].Str);

        // Without KEDA, short names are the operator's business (they resolve in the release's namespace).
        Assert.Equal(0, Helm.Template("-f", Helm.DefaultValues, "--set", "kafka.bootstrapServers=kafka:9092").ExitCode);
    }

    [Fact]
    public void Keda_authenticates_like_the_services_from_the_same_values()
    {
        var auth = Single(Full, "TriggerAuthentication", $"{Prefix}-kafka");
        var refs = auth.Node.At("spec.secretTargetRef").Items.ToDictionary(r => r["parameter"].Str!, r => (r["name"].Str, r["key"].Str));
        Assert.Equal(("whatsapp-streaming-kafka-user", "password"), refs["password"]);
        Assert.Equal(("whatsapp-cluster-ca-cert", "ca.crt"), refs["ca"]);
        var username = Assert.Single(auth.Node.At("spec.env").Items);
        Assert.Equal(("username", "KAFKA_SASL_USERNAME", "worker"), (username["parameter"].Str, username["name"].Str, username["containerName"].Str));
        var worker = Containers(Single(Full, "Deployment", $"{Prefix}-messages-worker")).Single();
        Assert.Equal("worker", worker["name"].Str);
        Assert.Equal("whatsapp-streaming", Env(worker)["KAFKA_SASL_USERNAME"]["value"].Str);

        foreach (var lane in Contract.Lanes)
        {
            var trigger = Single(Full, "ScaledObject", $"{Prefix}-{lane}-worker").Node.At("spec.triggers")[0];
            Assert.Equal("scram_sha512", trigger.At("metadata.sasl").Str);
            Assert.Equal("enable", trigger.At("metadata.tls").Str);
            Assert.Equal($"{Prefix}-kafka", trigger.At("authenticationRef.name").Str);
        }

        // An existing TriggerAuthentication replaces the rendered one; a plaintext cluster needs none.
        var own = Helm.Render("-f", Helm.FullValues, "--set", "keda.authenticationRef=mine");
        Assert.DoesNotContain(own, o => o.Kind == "TriggerAuthentication");
        Assert.Equal("mine", Single(own, "ScaledObject", $"{Prefix}-messages-worker").Node.At("spec.triggers")[0].At("authenticationRef.name").Str);
        var plain = Helm.Render("-f", Helm.DefaultValues, "--set", "workers.messages.autoscaling.enabled=true", "--set", "kafka.bootstrapServers=kafka.kafka.svc:9092");
        Assert.DoesNotContain(plain, o => o.Kind == "TriggerAuthentication");
        Assert.False(Single(plain, "ScaledObject", $"{Prefix}-messages-worker").Node.At("spec.triggers")[0]["authenticationRef"].Exists);
    }

    [Fact]
    public void Keda_ignores_frozen_lag_and_scales_down_as_slowly_as_the_hpa()
    {
        var scaled = Single(Full, "ScaledObject", $"{Prefix}-messages-worker").Node;
        var metadata = scaled.At("spec.triggers")[0]["metadata"];
        Assert.Equal("true", metadata["excludePersistentLag"].Str);
        Assert.Equal("true", metadata["limitToPartitionsWithLag"].Str);
        Assert.Equal("false", metadata["allowIdleConsumers"].Str); // limitToPartitionsWithLag requires it (and a topic)
        Assert.Equal("whatsapp.messages", metadata["topic"].Str);
        var kedaWindow = scaled.At("spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds").Int;

        var hpa = Single(Helm.Render("-f", Helm.FullValues, "--set", "workers.messages.autoscaling.type=hpa"), "HorizontalPodAutoscaler", $"{Prefix}-messages-worker");
        Assert.Equal(kedaWindow, hpa.Node.At("spec.behavior.scaleDown.stabilizationWindowSeconds").Int);
        Assert.Equal(600, kedaWindow);
    }

    [Fact]
    public void Never_two_autoscalers_on_one_deployment()
    {
        foreach (var ingress in new[] { "true", "false" })
        {
            foreach (var messages in new[] { "keda", "hpa", "off" })
            {
                foreach (var statuses in new[] { "keda", "hpa", "off" })
                {
                    var objects = Helm.Render("-f", Helm.FullValues, "--set", $"ingress.autoscaling.enabled={ingress}",
                        "--set", $"workers.messages.autoscaling.enabled={messages != "off"}", "--set", $"workers.messages.autoscaling.type={(messages == "off" ? "keda" : messages)}",
                        "--set", $"workers.statuses.autoscaling.enabled={statuses != "off"}", "--set", $"workers.statuses.autoscaling.type={(statuses == "off" ? "keda" : statuses)}");
                    var targets = objects.Where(o => o.Kind is "HorizontalPodAutoscaler" or "ScaledObject").Select(o => o.Node.At("spec.scaleTargetRef.name").Str!).ToArray();
                    Assert.Equal(targets.Length, targets.Distinct().Count());
                    foreach (var deployment in objects.Where(o => o.Kind == "Deployment" && o.Name.StartsWith(Prefix, StringComparison.Ordinal)))
                    {
                        // An autoscaled Deployment leaves its replicas to the autoscaler, an unscaled one sets them.
                        Assert.Equal(targets.Contains(deployment.Name), !deployment.Node.At("spec.replicas").Exists);
                    }
                }
            }
        }
    }

    [Fact]
    public void An_hpa_refuses_zero_replicas_keda_may_scale_to_zero()
    {
        Assert.Contains("minReplicas", Fails("-f", Helm.FullValues, "--set", "workers.messages.autoscaling.type=hpa", "--set", "workers.messages.autoscaling.minReplicas=0"));
        var keda = Helm.Render("-f", Helm.FullValues, "--set", "workers.messages.autoscaling.minReplicas=0");
        Assert.Equal("0", Single(keda, "ScaledObject", $"{Prefix}-messages-worker").Node.At("spec.minReplicaCount").Str);
        Assert.Contains("minReplicas", Fails("-f", Helm.DefaultValues, "--set", "ingress.autoscaling.minReplicas=0"));
    }

    [Theory]
    [InlineData("kafkaUI.enabled=true")]
    [InlineData("workers.messages.autoscalling.enabled=true")]
    [InlineData("metrics.prometheusRules.enabled=true")]
    [InlineData("kafka.sasl.mechanism=GSSAPI")]
    [InlineData("kafka.sasl.mechanism=OAUTHBEARER")]
    public void The_values_schema_refuses_unknown_keys_and_unsupported_mechanisms(string set)
    {
        Fails("-f", Helm.DefaultValues, "--set", set);
    }

    [Fact]
    public void The_image_registry_is_required_with_a_clear_message()
    {
        var error = Fails("-f", Helm.DefaultValues, "--set", "image.registry=");
        Assert.Contains("image.registry is required", error);
        Assert.All(Helm.Render("-f", Helm.DefaultValues).Where(o => PodKinds.Contains(o.Kind)).SelectMany(Containers),
            c => Assert.StartsWith("registry.example.com/whatsapp/whatsapp-streaming-", c["image"].Str));
    }

    [Fact]
    public void The_chart_declares_its_kubernetes_versions_and_has_a_readme()
    {
        var chart = Yaml.Parse(Repo.Read(Helm.Chart + "/Chart.yaml"));
        Assert.Equal(">=1.23.0-0", chart["kubeVersion"].Str);
        Assert.NotEqual(0, Tool.Run(Repo.Helm, ["template", "x", Helm.Chart, "-f", Helm.DefaultValues, "--kube-version", "1.22.0"]).ExitCode);
        var readme = Repo.Read(Helm.Chart + "/README.md");
        foreach (var value in new[] { "image.registry", "kafka.bootstrapServers", "keda.bootstrapServers", "destinations", "schemaRegistry.url", "metrics.prometheusRule.enabled", "workers.<lane>.ordering" })
        {
            Assert.Contains($"`{value}`", readme);
        }
    }

    [Fact]
    public void No_ingress_pdb_at_one_replica()
    {
        Assert.DoesNotContain(Helm.Render("-f", Helm.DefaultValues, "--set", "ingress.autoscaling.enabled=false", "--set", "ingress.replicaCount=1"),
            o => o.Kind == "PodDisruptionBudget" && o.Name == $"{Prefix}-ingress");
        Assert.DoesNotContain(Helm.Render("-f", Helm.DefaultValues, "--set", "ingress.autoscaling.minReplicas=1"),
            o => o.Kind == "PodDisruptionBudget" && o.Name == $"{Prefix}-ingress");
        Assert.Contains(Helm.Render("-f", Helm.DefaultValues), o => o.Kind == "PodDisruptionBudget" && o.Name == $"{Prefix}-ingress");
    }

    [Fact]
    public void Topology_spread_selects_each_components_own_pods()
    {
        foreach (var component in new[] { "ingress", "messages-worker", "statuses-worker" })
        {
            var constraint = Assert.Single(PodSpec(Single(Full, "Deployment", $"{Prefix}-{component}"))["topologySpreadConstraints"].Items);
            Assert.Equal(component, constraint.At("labelSelector.matchLabels")["app.kubernetes.io/component"].Str);
        }

        var production = Yaml.Objects(Kubectl.Kustomize("k8s/overlays/production").Stdout);
        foreach (var component in new[] { "ingress", "messages-worker", "statuses-worker" })
        {
            var constraints = PodSpec(Single(production, "Deployment", $"whatsapp-streaming-{component}"))["topologySpreadConstraints"].Items;
            Assert.NotEmpty(constraints);
            Assert.All(constraints, c => Assert.Equal(component, c.At("labelSelector.matchLabels")["app.kubernetes.io/component"].Str));
        }
    }

    [Fact]
    public void Kafka_ui_connects_to_a_secured_cluster_with_the_services_settings()
    {
        var ui = Containers(Single(Full, "Deployment", $"{Prefix}-kafka-ui")).Single();
        var env = Env(ui);
        Assert.StartsWith("ghcr.io/kafbat/kafka-ui:", ui["image"].Str);
        Assert.Equal("SASL_SSL", env["KAFKA_CLUSTERS_0_PROPERTIES_SECURITY_PROTOCOL"]["value"].Str);
        Assert.Equal("SCRAM-SHA-512", env["KAFKA_CLUSTERS_0_PROPERTIES_SASL_MECHANISM"]["value"].Str);
        Assert.Equal("org.apache.kafka.common.security.scram.ScramLoginModule required username=\"whatsapp-streaming\" password=\"$(KAFKA_SASL_PASSWORD)\";",
            env["KAFKA_CLUSTERS_0_PROPERTIES_SASL_JAAS_CONFIG"]["value"].Str);
        // $(VAR) is expanded only from variables defined before it in the same container.
        var names = ui["env"].Items.Select(e => e["name"].Str).ToList();
        Assert.True(names.IndexOf("KAFKA_SASL_PASSWORD") < names.IndexOf("KAFKA_CLUSTERS_0_PROPERTIES_SASL_JAAS_CONFIG"));
        Assert.Equal("whatsapp-streaming-kafka-user", SecretRef(env["KAFKA_SASL_PASSWORD"]));
        Assert.Equal("PEM", env["KAFKA_CLUSTERS_0_PROPERTIES_SSL_TRUSTSTORE_TYPE"]["value"].Str);
        Assert.Equal("/etc/kafka-ca/ca.crt", env["KAFKA_CLUSTERS_0_PROPERTIES_SSL_TRUSTSTORE_LOCATION"]["value"].Str);
        Assert.Contains(ui["volumeMounts"].Items, m => m["mountPath"].Str == "/etc/kafka-ca");
        Assert.Equal("http://schema-registry.kafka.svc:8081", env["KAFKA_CLUSTERS_0_SCHEMAREGISTRY"]["value"].Str);
        Assert.Equal("true", env["KAFKA_CLUSTERS_0_READONLY"]["value"].Str);
        Assert.True(ui.At("securityContext.readOnlyRootFilesystem").Bool);

        var plain = Env(Containers(Single(Helm.Render("-f", Helm.DefaultValues, "--set", "kafkaUi.enabled=true"), "Deployment", $"{Prefix}-kafka-ui")).Single());
        Assert.DoesNotContain(plain.Keys, k => k.StartsWith("KAFKA_CLUSTERS_0_PROPERTIES_", StringComparison.Ordinal));
        Assert.DoesNotContain("KAFKA_SASL_PASSWORD", plain.Keys);
    }

    [Fact]
    public void The_prometheus_rule_ships_the_documented_alerts_with_runbook_urls()
    {
        Assert.Equal(Repo.Read(MetricReferences.AlertsPath), Repo.Read(Helm.Chart + "/files/prometheus-alerts.yaml"));
        Assert.DoesNotContain(Helm.Render("-f", Helm.DefaultValues), o => o.Kind == "PrometheusRule");
        Assert.Contains("metrics.prometheusRule.runbookBaseUrl is required", Fails("-f", Helm.DefaultValues, "--set", "metrics.prometheusRule.enabled=true"));

        var rule = Single(Full, "PrometheusRule", Prefix);
        Assert.Equal("kube-prometheus-stack", rule.Node.At("metadata.labels")["release"].Str);
        // One alert name may have one rule per lane (WhatsAppWorkerLaneDown).
        static string Key(Node r) => $"{r["alert"].Str}/{r.At("labels.lane").Str}";
        var documented = Yaml.Parse(Repo.Read(MetricReferences.AlertsPath))["groups"].Items.SelectMany(g => g["rules"].Items).ToDictionary(Key);
        var shipped = rule.Node.At("spec.groups").Items.SelectMany(g => g["rules"].Items).ToArray();
        Assert.Equal(documented.Keys.Order(), shipped.Select(Key).Order());
        // The absence rules' catch-all namespace matcher becomes the release's namespace and jobs.
        const string Scope = $"namespace=\"{Helm.Namespace}\", job=~\"{Prefix}-(ingress|messages-worker|statuses-worker)\"";
        foreach (var r in shipped)
        {
            var doc = documented[Key(r)];
            Assert.Equal(doc["expr"].Str!.Replace("namespace=~\".*\"", Scope, StringComparison.Ordinal), r["expr"].Str);
            Assert.Equal(doc["for"].Str, r["for"].Str);
            Assert.Equal(doc.At("labels.severity").Str, r.At("labels.severity").Str);
            Assert.Equal("https://git.example.com/acme/whatsapp-streaming/blob/main/docs/operations.md#" + doc.At("annotations.runbook").Str!.Split('#')[1], r.At("annotations.runbook_url").Str);
            Assert.False(r.At("annotations.runbook").Exists);
        }
    }

    [Fact]
    public void The_alerts_fire_when_a_lane_or_the_ingress_is_gone()
    {
        var rules = Yaml.Parse(Repo.Read(MetricReferences.AlertsPath))["groups"].Items.SelectMany(g => g["rules"].Items).ToArray();
        foreach (var lane in Contract.Lanes)
        {
            Assert.Contains(rules, r => r["expr"].Str!.Contains($"absent(whatsapp_worker_circuit_state{{lane=\"{lane}\", namespace=~\".*\"}})", StringComparison.Ordinal) && r.At("labels.severity").Str == "critical");
        }

        Assert.Contains(rules, r => r["expr"].Str!.Contains("absent(whatsapp_ingress_producer_inflight_bytes{namespace=~\".*\"})", StringComparison.Ordinal));
        // The absent() series are observable gauges: exported from start-up, before any event, so an idle lane is not "down".
        var telemetry = Repo.Read("services/Streaming.Worker/Telemetry/WorkerTelemetry.cs");
        Assert.Contains("CreateObservableGauge(\"circuit_state\"", telemetry);
        Assert.Contains("CreateObservableGauge(\"producer_inflight_bytes\"", Repo.Read("services/Streaming.Ingress/Telemetry/IngressTelemetry.cs"));
    }

    [Fact]
    public void The_notes_streamctl_command_carries_the_security_settings()
    {
        var notes = RenderNotes("-f", Helm.FullValues);
        var overrides = System.Text.RegularExpressions.Regex.Match(notes, "--overrides='([^']+)'").Groups[1].Value;
        var pod = JsonNode.Parse(overrides)!;
        var container = pod["spec"]!["containers"]![0]!;
        Assert.Equal("streamctl", container["name"]!.GetValue<string>());
        var env = container["env"]!.AsArray().ToDictionary(e => e!["name"]!.GetValue<string>(), e => e!);
        foreach (var name in new[] { "KAFKA_BOOTSTRAP_SERVERS", "KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME", "KAFKA_SSL_CA_LOCATION", "TOPIC_PREFIX", "SCHEMA_REGISTRY_URL" })
        {
            Assert.True(env.ContainsKey(name), $"NOTES streamctl lacks {name}");
        }

        Assert.Equal("whatsapp-streaming-kafka-user", env["KAFKA_SASL_PASSWORD"]["valueFrom"]!["secretKeyRef"]!["name"]!.GetValue<string>());
        Assert.Contains(pod["spec"]!["volumes"]!.AsArray(), v => v!["name"]!.GetValue<string>() == "kafka-ca");
        Assert.Contains("--override-type=strategic", notes);
        Assert.Contains("-- dlq list --lane messages", notes);
    }

    /// <summary>helm template leaves NOTES.txt out: render it from a copy of the chart where it is an ordinary template.</summary>
    internal static string RenderNotes(params string[] args)
    {
        var copy = Path.Combine(Path.GetTempPath(), $"chart-notes-{Guid.NewGuid():N}", "whatsapp-streaming");
        foreach (var file in Directory.EnumerateFiles(Repo.PathOf(Helm.Chart), "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(Repo.PathOf(Helm.Chart), file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        File.Move(Path.Combine(copy, "templates", "NOTES.txt"), Path.Combine(copy, "notes.txt"));
        File.WriteAllText(Path.Combine(copy, "templates", "notes.yaml"), "notes: {{ tpl (.Files.Get \"notes.txt\") . | toJson }}\n");
        try
        {
            var result = Tool.Run(Repo.Helm, ["template", Helm.Release, copy, "--kube-version", Helm.KubeVersion, "--show-only", "templates/notes.yaml", .. args.Select(a => a.StartsWith(Helm.Chart, StringComparison.Ordinal) ? Repo.PathOf(a) : a)]);
            Assert.True(result.ExitCode == 0, result.Output);
            return Yaml.Parse(result.Stdout)["notes"].Str!;
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(copy)!, recursive: true);
        }
    }
}
