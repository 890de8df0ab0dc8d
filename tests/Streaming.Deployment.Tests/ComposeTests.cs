namespace Streaming.Deployment.Tests;

public sealed class ComposeTests
{
    private static readonly Node Compose = Yaml.Parse(Repo.Read("docker-compose.kafka.yml"));

    private static Node Services => Compose["services"];

    private static IEnumerable<KeyValuePair<string, Node>> OurServices =>
        Services.Entries.Where(s => s.Value.At("build.dockerfile").Str?.StartsWith("services/", StringComparison.Ordinal) == true);

    private static string? DependsOn(string service, string on) => Services[service].At("depends_on")[on]["condition"].Str;

    [Fact]
    public void Every_service_has_an_image_or_a_build_of_an_existing_dockerfile()
    {
        Assert.NotEmpty(Services.Keys);
        foreach (var (name, service) in Services.Entries)
        {
            Assert.True(service["image"].Exists || service["build"].Exists, $"{name} has neither image nor build");
            if (service["build"].Exists)
            {
                var context = Path.Combine(Repo.Root, service.At("build.context").Str ?? ".");
                Assert.True(File.Exists(Path.Combine(context, service.At("build.dockerfile").Str!)), $"{name}: no {service.At("build.dockerfile")}");
            }
        }
    }

    [Fact]
    public void Runs_kafka_in_kraft_mode_with_kafka_ui_on_8088()
    {
        var kafka = Services["kafka"];
        Assert.Matches("^(apache/kafka|confluentinc/cp-kafka):", kafka["image"].Str);
        Assert.Contains("controller", kafka.At("environment.KAFKA_PROCESS_ROLES").Str);
        Assert.False(kafka.At("environment.KAFKA_ZOOKEEPER_CONNECT").Exists);

        var ui = Services["kafka-ui"];
        Assert.StartsWith("provectuslabs/kafka-ui:", ui["image"].Str);
        Assert.Contains(ui["ports"].Items, p => p.Str!.StartsWith("8088:", StringComparison.Ordinal));
        Assert.Equal("kafka:9092", ui.At("environment.KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS").Str);
        Assert.Equal("service_healthy", DependsOn("kafka-ui", "kafka"));
    }

    [Fact]
    public void Topics_are_provisioned_once_kafka_is_healthy_and_services_start_after_provisioning()
    {
        var topics = Services["topics"];
        Assert.Equal("services/Streaming.Ctl/Dockerfile", topics.At("build.dockerfile").Str);
        Assert.Equal(["topics", "create"], topics["command"].Items.Select(i => i.Str));
        Assert.Equal("service_healthy", DependsOn("topics", "kafka"));
        Assert.Equal("no", topics["restart"].Str);

        foreach (var service in new[] { "ingress", "messages-worker", "statuses-worker" })
        {
            Assert.Equal("service_completed_successfully", DependsOn(service, "topics"));
        }
    }

    [Fact]
    public void Long_running_services_have_healthchecks()
    {
        var oneShot = Services.Entries
            .SelectMany(s => s.Value["depends_on"].Entries)
            .Where(d => d.Value["condition"].Str == "service_completed_successfully")
            .Select(d => d.Key)
            .ToHashSet();
        Assert.Equal(["topics"], oneShot);

        foreach (var (name, service) in Services.Entries.Where(s => !oneShot.Contains(s.Key)))
        {
            Assert.True(service.At("healthcheck.test").Items.Count > 1, $"{name} has no healthcheck");
        }

        foreach (var service in new[] { "ingress", "messages-worker", "statuses-worker" })
        {
            Assert.Contains("GET /readyz", string.Join(' ', Services[service].At("healthcheck.test").Items.Select(i => i.Str)));
        }
    }

    [Fact]
    public void Workers_run_one_lane_each_and_everything_uses_contract_variables()
    {
        Assert.Equal("messages", Services.At("messages-worker.environment.WORKER_LANE").Str);
        Assert.Equal("statuses", Services.At("statuses-worker.environment.WORKER_LANE").Str);
        Assert.Contains("MESSAGES_DELIVERY_URL", Services.At("messages-worker.environment.DELIVERY_URL").Str);
        Assert.Contains("STATUSES_DELIVERY_URL", Services.At("statuses-worker.environment.DELIVERY_URL").Str);

        foreach (var (name, service) in OurServices)
        {
            Assert.All(service["environment"].Keys, v => Assert.True(Contract.AllVariables.Contains(v), $"{name} sets {v}"));
            Assert.Equal("kafka:9092", service.At("environment.KAFKA_BOOTSTRAP_SERVERS").Str);
            Assert.Equal("true", service["read_only"].Str);
            Assert.Contains("/tmp", service["tmpfs"].Items.Select(i => i.Str));
            Assert.Contains("ALL", service["cap_drop"].Items.Select(i => i.Str));
        }

        Assert.Equal(4, OurServices.Count());
    }
}
