using static Streaming.Deployment.Tests.Workloads;

namespace Streaming.Deployment.Tests;

public sealed class HelmChartTests
{
    private const string Prefix = Helm.Release; // the release is named like the chart: objects are whatsapp-streaming-*

    private static IReadOnlyList<K8sObject> Default => Helm.Render("-f", Helm.DefaultValues);

    private static IReadOnlyList<K8sObject> Full => Helm.Render("-f", Helm.FullValues);

    [Theory]
    [InlineData(Helm.DefaultValues)]
    [InlineData(Helm.FullValues)]
    [InlineData(Helm.Chart + "/ci/hpa-values.yaml")]
    public void Lints_cleanly(string values)
    {
        var result = Helm.Lint("-f", values);
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("0 chart(s) failed", result.Stdout);
    }

    [Fact]
    public void Renders_the_ingress_both_lanes_and_the_topic_hook_by_default()
    {
        var kinds = Default.GroupBy(o => o.Kind).ToDictionary(g => g.Key, g => g.Select(o => o.Name).Order().ToArray());

        Assert.Equal([$"{Prefix}-ingress", $"{Prefix}-messages-worker", $"{Prefix}-statuses-worker"], kinds["Deployment"]);
        Assert.Equal([$"{Prefix}-ingress", $"{Prefix}-messages-worker", $"{Prefix}-statuses-worker"], kinds["Service"]);
        Assert.Equal([$"{Prefix}-ingress", $"{Prefix}-messages-worker", $"{Prefix}-statuses-worker"], kinds["PodDisruptionBudget"]);
        Assert.Equal([$"{Prefix}-ingress"], kinds["HorizontalPodAutoscaler"]);
        Assert.Equal([$"{Prefix}-secrets"], kinds["Secret"]);
        Assert.Equal([$"{Prefix}-topics"], kinds["Job"]);
        foreach (var optional in new[] { "ScaledObject", "ServiceMonitor", "Ingress", "ConfigMap" })
        {
            Assert.False(kinds.ContainsKey(optional), $"{optional} is rendered by default");
        }
    }

    [Fact]
    public void Every_pod_is_hardened_and_every_service_is_probed()
    {
        foreach (var render in new[] { Default, Full })
        {
            foreach (var workload in render.Where(o => PodKinds.Contains(o.Kind)))
            {
                AssertHardened(workload);
                if (workload.Kind == "Deployment" && !workload.Name.EndsWith("kafka-ui", StringComparison.Ordinal))
                {
                    AssertProbes(workload);
                }
            }
        }
    }

    [Fact]
    public void The_topic_job_is_a_pre_install_and_pre_upgrade_hook_running_streamctl_topics_create()
    {
        var job = Single(Default, "Job", $"{Prefix}-topics");

        var hooks = job.Node.At("metadata.annotations")["helm.sh/hook"].Str!.Split(',');
        Assert.Contains("pre-install", hooks);
        Assert.Contains("pre-upgrade", hooks);
        Assert.Contains("before-hook-creation", job.Node.At("metadata.annotations")["helm.sh/hook-delete-policy"].Str);
        var container = Assert.Single(Containers(job));
        Assert.Equal(["topics", "create"], container["args"].Items.Select(a => a.Str));
        Assert.Equal("registry.example.com/whatsapp/whatsapp-streaming-ctl:0.1.0", container["image"].Str);
        Assert.Equal("Never", PodSpec(job)["restartPolicy"].Str);
        // The chart's Secret does not exist yet when a pre-install hook runs: the job must not need it.
        Assert.DoesNotContain(Env(container).Values, e => SecretRef(e) == $"{Prefix}-secrets");
    }

    [Fact]
    public void Secrets_come_from_the_chart_secret_by_default()
    {
        var secret = Single(Default, "Secret", $"{Prefix}-secrets");
        Assert.Equal(Contract.SecretVariables.Order(), secret.Node["data"].Keys.Order());

        var ingress = Env(Containers(Single(Default, "Deployment", $"{Prefix}-ingress")).Single());
        Assert.Equal($"{Prefix}-secrets", SecretRef(ingress["WHATSAPP_APP_SECRET"]));
        Assert.Equal($"{Prefix}-secrets", SecretRef(ingress["WHATSAPP_VERIFY_TOKEN"]));
        Assert.False(ingress.ContainsKey("DELIVERY_SIGNING_SECRET"));
        foreach (var lane in Contract.Lanes)
        {
            var worker = Env(Containers(Single(Default, "Deployment", $"{Prefix}-{lane}-worker")).Single());
            Assert.Equal($"{Prefix}-secrets", SecretRef(worker["DELIVERY_SIGNING_SECRET"]));
            Assert.False(worker.ContainsKey("WHATSAPP_APP_SECRET"));
        }
    }

    [Fact]
    public void An_existing_secret_replaces_the_chart_secret()
    {
        Assert.DoesNotContain(Full, o => o.Kind == "Secret");
        var ingress = Env(Containers(Single(Full, "Deployment", $"{Prefix}-ingress")).Single());
        Assert.Equal("whatsapp-streaming-credentials", SecretRef(ingress["WHATSAPP_APP_SECRET"]));
        var worker = Env(Containers(Single(Full, "Deployment", $"{Prefix}-messages-worker")).Single());
        Assert.Equal("whatsapp-streaming-credentials", SecretRef(worker["DELIVERY_SIGNING_SECRET"]));
        Assert.Equal("whatsapp-streaming-kafka-user", SecretRef(worker["KAFKA_SASL_PASSWORD"]));
        Assert.Equal("/etc/kafka-ca/ca.crt", worker["KAFKA_SSL_CA_LOCATION"]["value"].Str);
    }

    [Fact]
    public void Each_lane_has_its_own_worker_deployment_with_its_lane_url_and_replicas()
    {
        var expectedReplicas = new Dictionary<string, string> { ["messages"] = "3", ["statuses"] = "2" };
        foreach (var lane in Contract.Lanes)
        {
            var deployment = Single(Default, "Deployment", $"{Prefix}-{lane}-worker");
            var env = Env(Containers(deployment).Single());
            Assert.Equal(lane, env["WORKER_LANE"]["value"].Str);
            Assert.Equal($"https://hooks.example.com/whatsapp/{lane}", env["DELIVERY_URL"]["value"].Str);
            Assert.Equal("8081", env["WORKER_PORT"]["value"].Str);
            Assert.Equal(expectedReplicas[lane], deployment.Node.At("spec.replicas").Str);
            Assert.Equal("registry.example.com/whatsapp/whatsapp-streaming-worker:0.1.0", Containers(deployment).Single()["image"].Str);
        }
    }

    [Fact]
    public void Containers_use_only_contract_variables()
    {
        foreach (var render in new[] { Default, Full })
        {
            foreach (var workload in render.Where(o => PodKinds.Contains(o.Kind) && !o.Name.EndsWith("kafka-ui", StringComparison.Ordinal)))
            {
                foreach (var name in Containers(workload).SelectMany(c => Env(c).Keys))
                {
                    Assert.True(Contract.AllVariables.Contains(name), $"{workload} sets {name}, which is not a contract variable");
                }

                var env = Env(Containers(workload).Single());
                foreach (var required in (string[])["KAFKA_BOOTSTRAP_SERVERS", .. Contract.TopologyVariables])
                {
                    Assert.True(env.ContainsKey(required), $"{workload} lacks {required}");
                }
            }
        }
    }

    [Fact]
    public void Pods_carry_prometheus_scrape_annotations_for_their_port()
    {
        foreach (var (name, port) in new[] { ("ingress", "8080"), ("messages-worker", "8081"), ("statuses-worker", "8081") })
        {
            var annotations = Single(Default, "Deployment", $"{Prefix}-{name}").Node.At("spec.template.metadata.annotations");
            Assert.Equal("true", annotations["prometheus.io/scrape"].Str);
            Assert.Equal(port, annotations["prometheus.io/port"].Str);
            Assert.Equal("/metrics", annotations["prometheus.io/path"].Str);
        }
    }

    [Fact]
    public void Keda_scales_each_lane_on_its_consumer_group_lag_within_its_partitions()
    {
        foreach (var lane in Contract.Lanes)
        {
            var scaled = Single(Full, "ScaledObject", $"{Prefix}-{lane}-worker");
            Assert.Equal($"{Prefix}-{lane}-worker", scaled.Node.At("spec.scaleTargetRef.name").Str);
            Assert.InRange(scaled.Node.At("spec.maxReplicaCount").Int, 1, Contract.DefaultLanePartitions);
            var trigger = Assert.Single(scaled.Node.At("spec.triggers").Items);
            Assert.Equal("kafka", trigger["type"].Str);
            Assert.Equal(Contract.ConsumerGroup(lane), trigger.At("metadata.consumerGroup").Str);
            Assert.Equal($"whatsapp.{lane}", trigger.At("metadata.topic").Str);
            Assert.True(int.Parse(trigger.At("metadata.lagThreshold").Str!, System.Globalization.CultureInfo.InvariantCulture) > 0);
            Assert.Equal("whatsapp-streaming-kafka", trigger.At("authenticationRef.name").Str);

            // The autoscaler owns the replica count.
            Assert.False(Single(Full, "Deployment", $"{Prefix}-{lane}-worker").Node.At("spec.replicas").Exists);
        }
    }

    [Theory]
    [InlineData("workers.messages.autoscaling.maxReplicas=13", "workers.messages.autoscaling.maxReplicas is 13 but the messages lane has 12 partitions")]
    [InlineData("workers.statuses.autoscaling.maxReplicas=7", "workers.statuses.autoscaling.maxReplicas is 7 but the statuses lane has 6 partitions", "topics.statusesPartitions=6")]
    [InlineData("workers.messages.replicaCount=20", "workers.messages.replicaCount is 20 but the messages lane has 12 partitions", "workers.messages.autoscaling.enabled=false")]
    public void More_replicas_than_partitions_fail_rendering(string set, string message, string? alsoSet = null)
    {
        string[] args = ["-f", Helm.FullValues, "--set", set, .. alsoSet is null ? Array.Empty<string>() : ["--set", alsoSet]];
        var result = Helm.Template(args);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(message, result.Stderr);
    }

    [Theory]
    [InlineData("kafka.bootstrapServers=", "kafka.bootstrapServers is required")]
    [InlineData("secrets.whatsappAppSecret=", "secrets.whatsappAppSecret is required (or set existingSecret)")]
    [InlineData("secrets.deliverySigningSecret=", "secrets.deliverySigningSecret is required (or set existingSecret)")]
    [InlineData("workers.statuses.deliveryUrl=", "workers.statuses.deliveryUrl is required")]
    public void Missing_required_values_fail_rendering_with_a_clear_message(string set, string message)
    {
        var result = Helm.Template("-f", Helm.DefaultValues, "--set", set);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(message, result.Stderr);
    }

    [Fact]
    public void The_values_schema_rejects_unquoted_numbers_in_config_and_unknown_lanes()
    {
        Assert.NotEqual(0, Helm.Template("-f", Helm.DefaultValues, "--set", "ingress.config.INGRESS_LINGER_MS=5").ExitCode);
        Assert.Equal(0, Helm.Template("-f", Helm.DefaultValues, "--set-string", "ingress.config.INGRESS_LINGER_MS=5").ExitCode);
        Assert.NotEqual(0, Helm.Template("-f", Helm.DefaultValues, "--set", "workers.billing.replicaCount=1").ExitCode);
        Assert.NotEqual(0, Helm.Template("-f", Helm.DefaultValues, "--set", "workers.messages.autoscaling.type=vpa").ExitCode);
    }

    [Fact]
    public void Optional_parts_render_when_enabled()
    {
        var monitor = Single(Full, "ServiceMonitor", Prefix);
        var endpoint = Assert.Single(monitor.Node.At("spec.endpoints").Items);
        Assert.Equal("/metrics", endpoint["path"].Str);
        Assert.Equal("http", endpoint["port"].Str);
        Assert.Equal("kube-prometheus-stack", monitor.Node.At("metadata.labels")["release"].Str);

        var ui = Single(Full, "Deployment", $"{Prefix}-kafka-ui");
        var uiEnv = Env(Containers(ui).Single());
        Assert.Equal("whatsapp-kafka-bootstrap.kafka.svc:9093", uiEnv["KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS"]["value"].Str);
        Assert.Equal("true", uiEnv["KAFKA_CLUSTERS_0_READONLY"]["value"].Str);
        Assert.Equal("8088", Single(Full, "Service", $"{Prefix}-kafka-ui").Node.At("spec.ports")[0]["port"].Str);

        var ingress = Single(Full, "Ingress", $"{Prefix}-webhook");
        var path = ingress.Node.At("spec.rules")[0].At("http.paths")[0];
        Assert.Equal("/webhook", path["path"].Str);
        Assert.Equal($"{Prefix}-ingress", path.At("backend.service.name").Str);
    }

    [Fact]
    public void Worker_lanes_can_use_a_cpu_hpa_instead_of_keda()
    {
        var objects = Helm.Render("-f", Helm.FullValues, "--set", "workers.statuses.autoscaling.type=hpa");
        var hpa = Single(objects, "HorizontalPodAutoscaler", $"{Prefix}-statuses-worker");
        Assert.Equal($"{Prefix}-statuses-worker", hpa.Node.At("spec.scaleTargetRef.name").Str);
        Assert.Equal("6", hpa.Node.At("spec.maxReplicas").Str);
        Assert.DoesNotContain(objects, o => o.Kind == "ScaledObject" && o.Name.Contains("statuses", StringComparison.Ordinal));
    }

    [Fact]
    public void Kubectl_decodes_every_rendered_object_offline()
    {
        foreach (var values in new[] { Helm.DefaultValues, Helm.FullValues })
        {
            Kubectl.AssertDecodes(Helm.Template("-f", values).Stdout);
        }
    }
}
