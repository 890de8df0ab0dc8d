using System.Text.Json.Nodes;
using Streaming.Deployment.Tests.Alerting;
using static Streaming.Deployment.Tests.Workloads;

namespace Streaming.Deployment.Tests;

/// <summary>
/// What a platform engineer meets on the first production install (issue 17), checked in the rendered chart:
/// each fix renders, and each values mistake is refused at render time.
/// </summary>
public sealed class FirstInstallTests
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
    public void Disruption_budgets_let_a_drain_evict_unready_pods()
    {
        // While Kafka is down every pod is unready; the default policy would block every node drain.
        var budgets = Full.Where(o => o.Kind == "PodDisruptionBudget").ToArray();
        Assert.Equal(3, budgets.Length);
        Assert.All(budgets, b => Assert.Equal("AlwaysAllow", b.Node.At("spec.unhealthyPodEvictionPolicy").Str));

        // Before Kubernetes 1.27 the field is not on by default: left out.
        var old = Helm.Render("-f", Helm.FullValues, "--kube-version", "1.26.0").Where(o => o.Kind == "PodDisruptionBudget").ToArray();
        Assert.Equal(3, old.Length);
        Assert.All(old, b => Assert.False(b.Node.At("spec.unhealthyPodEvictionPolicy").Exists));
    }

    [Theory]
    [InlineData("k8s/overlays/dev")]
    [InlineData("k8s/overlays/production")]
    public void The_kustomize_budgets_let_a_drain_evict_unready_pods(string overlay)
    {
        var result = Kubectl.Kustomize(overlay);
        Assert.True(result.ExitCode == 0, result.Output);
        var budgets = Yaml.Objects(result.Stdout).Where(o => o.Kind == "PodDisruptionBudget").ToArray();
        Assert.Equal(3, budgets.Length);
        Assert.All(budgets, b => Assert.Equal("AlwaysAllow", b.Node.At("spec.unhealthyPodEvictionPolicy").Str));
    }

    [Fact]
    public void The_public_ingress_lets_bodies_up_to_the_ingress_limit_through_nginx()
    {
        var ingress = Single(Full, "Ingress", $"{Prefix}-webhook");
        Assert.Equal("4194304", ingress.Node.At("metadata.annotations")["nginx.ingress.kubernetes.io/proxy-body-size"].Str);

        var raised = Single(Helm.Render("-f", Helm.FullValues, "--set-string", "ingress.config.INGRESS_MAX_BODY_BYTES=8388608"), "Ingress", $"{Prefix}-webhook");
        Assert.Equal("8388608", raised.Node.At("metadata.annotations")["nginx.ingress.kubernetes.io/proxy-body-size"].Str);

        // The operator's own annotation wins.
        var own = Single(Helm.Render("-f", Helm.FullValues, "--set-string", "ingress.httpIngress.annotations.nginx\\.ingress\\.kubernetes\\.io/proxy-body-size=16m"), "Ingress", $"{Prefix}-webhook");
        Assert.Equal("16m", own.Node.At("metadata.annotations")["nginx.ingress.kubernetes.io/proxy-body-size"].Str);
    }

    [Fact]
    public void Kafka_ui_gets_the_schema_registry_credentials()
    {
        var ui = Containers(Single(Full, "Deployment", $"{Prefix}-kafka-ui")).Single();
        var env = Env(ui);
        Assert.Equal(("whatsapp-streaming-schema-registry", "username"),
            (SecretRef(env["KAFKA_CLUSTERS_0_SCHEMAREGISTRYAUTH_USERNAME"]), env["KAFKA_CLUSTERS_0_SCHEMAREGISTRYAUTH_USERNAME"].At("valueFrom.secretKeyRef.key").Str));
        Assert.Equal(("whatsapp-streaming-schema-registry", "password"),
            (SecretRef(env["KAFKA_CLUSTERS_0_SCHEMAREGISTRYAUTH_PASSWORD"]), env["KAFKA_CLUSTERS_0_SCHEMAREGISTRYAUTH_PASSWORD"].At("valueFrom.secretKeyRef.key").Str));

        Assert.Contains("schemaRegistry.basicAuthSecret.usernameKey and passwordKey",
            Fails("-f", Helm.FullValues, "--set", "schemaRegistry.basicAuthSecret.usernameKey="));

        // Credentials set through extraEnv (the way before these keys) are left alone, not set twice.
        var own = Helm.Render("-f", Helm.FullValues, "--set", "schemaRegistry.basicAuthSecret.usernameKey=",
            "--set", "kafkaUi.extraEnv[0].name=KAFKA_CLUSTERS_0_SCHEMAREGISTRYAUTH_USERNAME", "--set", "kafkaUi.extraEnv[0].value=me");
        var ownEnv = Containers(Single(own, "Deployment", $"{Prefix}-kafka-ui")).Single()["env"].Items;
        Assert.Equal("me", Assert.Single(ownEnv, e => e["name"].Str == "KAFKA_CLUSTERS_0_SCHEMAREGISTRYAUTH_USERNAME")["value"].Str);
    }

    [Fact]
    public void The_notes_streamctl_pod_pulls_with_the_release_pull_secrets()
    {
        var notes = ClusterPathTests.RenderNotes("-f", Helm.FullValues, "--set", "imagePullSecrets[0].name=registry-credentials");
        var overrides = System.Text.RegularExpressions.Regex.Match(notes, "--overrides='([^']+)'").Groups[1].Value;
        var secrets = JsonNode.Parse(overrides)!["spec"]!["imagePullSecrets"]!.AsArray();
        Assert.Equal("registry-credentials", Assert.Single(secrets)!["name"]!.GetValue<string>());
    }

    [Fact]
    public void Pods_are_scraped_once_by_annotations_or_by_the_service_monitor()
    {
        static bool Annotated(K8sObject o) => o.Node.At("spec.template.metadata.annotations")["prometheus.io/scrape"].Exists;
        string[] pods = [$"{Prefix}-ingress", $"{Prefix}-messages-worker", $"{Prefix}-statuses-worker"];

        Assert.Contains(Full, o => o.Kind == "ServiceMonitor");
        Assert.All(pods, name => Assert.False(Annotated(Single(Full, "Deployment", name)), $"{name}: scrape annotations beside the ServiceMonitor"));

        var plain = Helm.Render("-f", Helm.DefaultValues);
        Assert.DoesNotContain(plain, o => o.Kind == "ServiceMonitor");
        Assert.All(pods, name => Assert.True(Annotated(Single(plain, "Deployment", name)), $"{name}: not scraped at all"));
    }

    [Theory]
    [InlineData("SASL_SSL")]
    [InlineData("SASL_PLAINTEXT")]
    public void Sasl_without_a_mechanism_is_refused(string protocol)
    {
        var error = Fails("-f", Helm.DefaultValues, "--set", $"kafka.securityProtocol={protocol}");
        Assert.Contains("needs kafka.sasl.mechanism", error);
        Assert.Contains("GSSAPI", error);
    }

    [Fact]
    public void A_misspelled_topics_provision_key_is_refused()
    {
        var error = Fails("-f", Helm.DefaultValues, "--set", "topics.provision.enable=false");
        Assert.Contains("topics.provision", error);
        Assert.Contains("enable", error);
    }

    [Fact]
    public void The_ci_values_name_strimzi_objects_a_node_pool_cluster_has()
    {
        // Node pools name broker pods <cluster>-<pool>-<n>: only the bootstrap Service is the same either way.
        var worker = Containers(Single(Full, "Deployment", $"{Prefix}-messages-worker")).Single();
        Assert.Equal("whatsapp-kafka-bootstrap.kafka.svc:9093", Env(worker)["KAFKA_BOOTSTRAP_SERVERS"]["value"].Str);
        // Strimzi's cluster CA Secret is <cluster>-cluster-ca-cert.
        var ca = PodSpec(Single(Full, "Deployment", $"{Prefix}-messages-worker"))["volumes"].Items.Single(v => v["name"].Str == "kafka-ca");
        Assert.Equal("whatsapp-cluster-ca-cert", ca.At("secret.secretName").Str);
    }

    [Fact]
    public void Keda_refuses_a_lag_threshold_below_one_pods_in_flight_budget()
    {
        // full values: the messages lane runs WORKER_MAX_IN_FLIGHT 128.
        var error = Fails("-f", Helm.FullValues, "--set", "workers.messages.autoscaling.lagThreshold=100");
        Assert.Contains("workers.messages.autoscaling.lagThreshold is 100, below one pod's in-flight budget (WORKER_MAX_IN_FLIGHT 128)", error);
        Assert.Contains("docs/scaling.md", error);
        // The shared default (64) counts where the lane sets none.
        Assert.Contains("(WORKER_MAX_IN_FLIGHT 64)", Fails("-f", Helm.FullValues, "--set", "workers.statuses.autoscaling.lagThreshold=63"));
        Assert.Equal(0, Helm.Template("-f", Helm.FullValues, "--set", "workers.messages.autoscaling.lagThreshold=128").ExitCode);

        foreach (var lane in Contract.Lanes)
        {
            var trigger = Single(Full, "ScaledObject", $"{Prefix}-{lane}-worker").Node.At("spec.triggers")[0];
            Assert.True(int.Parse(trigger.At("metadata.lagThreshold").Str!) >= 128, $"{lane}: lagThreshold {trigger.At("metadata.lagThreshold").Str}");
        }
    }

    [Fact]
    public void The_rendered_absence_rules_are_scoped_to_the_release()
    {
        var rules = AlertRules.Rules(AlertRules.ChartGroups("-f", Helm.FullValues)).ToArray();
        var absent = rules.Where(r => ((string)r["expr"]).Contains("absent(", StringComparison.Ordinal)).ToArray();
        Assert.Equal(3, absent.Length);
        Assert.All(absent, r =>
        {
            var expr = (string)r["expr"];
            Assert.Contains($"namespace=\"{Helm.Namespace}\"", expr);
            Assert.Contains($"job=~\"{Prefix}-(ingress|messages-worker|statuses-worker)\"", expr);
            Assert.DoesNotContain("namespace=~\".*\"", expr);
        });

        // Without the ServiceMonitor the job label is the operator's scrape config's: the namespace scopes alone.
        var plain = AlertRules.Rules(AlertRules.ChartGroups("-f", Helm.FullValues, "--set", "metrics.serviceMonitor.enabled=false")).ToArray();
        Assert.All(plain.Where(r => ((string)r["expr"]).Contains("absent(", StringComparison.Ordinal)), r =>
        {
            Assert.Contains($"namespace=\"{Helm.Namespace}\"", (string)r["expr"]);
            Assert.DoesNotContain("job=~", (string)r["expr"]);
        });
    }

    [Fact]
    public void A_lane_keda_may_scale_to_zero_has_no_lane_down_rule()
    {
        static string[] LaneDown(params string[] args) => AlertRules.Rules(AlertRules.ChartGroups(args))
            .Where(r => (string)r["alert"] == "WhatsAppWorkerLaneDown")
            .Select(r => (string)((Dictionary<object, object>)r["labels"])["lane"]).Order().ToArray();

        Assert.Equal(["messages", "statuses"], LaneDown("-f", Helm.FullValues));
        Assert.Equal(["messages"], LaneDown("-f", Helm.FullValues, "--set", "workers.statuses.autoscaling.minReplicas=0"));
        // A lane without autoscaling keeps its replicas, and so its rule (an HPA never goes below 1 either).
        Assert.Equal(["messages", "statuses"], LaneDown("-f", Helm.FullValues, "--set", "workers.statuses.autoscaling.enabled=false"));
    }

    [Fact]
    public void The_documented_acls_grant_the_replay_transactional_id()
    {
        var replayer = Repo.Read("services/Streaming.Ctl/DeadLetters/DeadLetterReplayer.cs");
        var prefix = System.Text.RegularExpressions.Regex.Match(replayer, "TransactionalId = \\$\"([a-z-]+)\\{").Groups[1].Value;
        Assert.Equal("streamctl-replay-", prefix);
        var guide = Repo.Read("docs/deployment.md");
        Assert.Contains($"- resource: {{type: transactionalId, name: {prefix}, patternType: prefix}}", guide);
        Assert.Contains($"--transactional-id {prefix} --resource-pattern-type prefixed", guide);
    }

    [Fact]
    public void The_observability_guide_lists_every_dead_letter_reason()
    {
        var reasons = typeof(Streaming.Contracts.DeadLetterReasons).GetFields()
            .Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!).ToArray();
        Assert.Contains("processing-error", reasons);
        var row = Repo.Read("docs/observability/README.md").Split('\n').Single(l => l.StartsWith("| `whatsapp_worker_dead_lettered_total`", StringComparison.Ordinal));
        Assert.All(reasons, r => Assert.Contains($"`{r}`", row));
    }
}
