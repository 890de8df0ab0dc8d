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
    public void Runs_kafka_in_kraft_mode_with_a_read_only_kafka_ui_on_8088_wired_to_the_schema_registry()
    {
        var kafka = Services["kafka"];
        Assert.Matches("^(apache/kafka|confluentinc/cp-kafka):", kafka["image"].Str);
        Assert.Contains("controller", kafka.At("environment.KAFKA_PROCESS_ROLES").Str);
        Assert.False(kafka.At("environment.KAFKA_ZOOKEEPER_CONNECT").Exists);

        var ui = Services["kafka-ui"];
        Assert.StartsWith("ghcr.io/kafbat/kafka-ui:", ui["image"].Str);
        Assert.Contains(ui["ports"].Items, p => p.Str!.StartsWith("8088:8080", StringComparison.Ordinal));
        Assert.Equal(InternalListener(), ui.At("environment.KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS").Str);
        Assert.Equal("true", ui.At("environment.KAFKA_CLUSTERS_0_READONLY").Str);
        Assert.Equal("true", ui["read_only"].Str);
        Assert.Contains("/tmp", ui["tmpfs"].Items.Select(i => i.Str));
        Assert.Equal("service_healthy", DependsOn("kafka-ui", "kafka"));

        var registry = Services["schema-registry"];
        Assert.StartsWith("confluentinc/cp-schema-registry:", registry["image"].Str);
        var listener = new Uri(registry.At("environment.SCHEMA_REGISTRY_LISTENERS").Str!);
        var url = new Uri(ui.At("environment.KAFKA_CLUSTERS_0_SCHEMAREGISTRY").Str!);
        Assert.Equal(("schema-registry", listener.Port), (url.Host, url.Port));
        Assert.Equal("schema-registry", registry.At("environment.SCHEMA_REGISTRY_HOST_NAME").Str);
        Assert.Equal($"PLAINTEXT://{InternalListener()}", registry.At("environment.SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS").Str);
        Assert.Equal("1", registry.At("environment.SCHEMA_REGISTRY_KAFKASTORE_TOPIC_REPLICATION_FACTOR").Str);
        Assert.Equal("service_healthy", DependsOn("schema-registry", "kafka"));
        Assert.Equal("service_healthy", DependsOn("kafka-ui", "schema-registry"));
        Assert.Equal("service_healthy", DependsOn("topics", "schema-registry"));
        Assert.Contains($":{listener.Port}/subjects", string.Join(' ', registry.At("healthcheck.test").Items.Select(i => i.Str)));
        foreach (var (_, service) in OurServices)
        {
            Assert.Equal("${SCHEMA_REGISTRY_URL-" + ui.At("environment.KAFKA_CLUSTERS_0_SCHEMAREGISTRY").Str + "}", service.At("environment.SCHEMA_REGISTRY_URL").Str);
        }
    }

    /// <summary>
    /// The KRaft broker's listeners: one internal (advertised as kafka:9092, used by the services, kafka-ui and the
    /// registry, and between brokers), one advertised to the host on a published port (for `make ctl` and other
    /// tools there), and the controller's, which is never advertised.
    /// </summary>
    [Fact]
    public void The_broker_has_an_internal_listener_and_one_advertised_to_the_host()
    {
        var env = Services["kafka"]["environment"];
        var listeners = Pairs(env["KAFKA_LISTENERS"].Str!);
        var advertised = Pairs(env["KAFKA_ADVERTISED_LISTENERS"].Str!);
        var protocols = env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].Str!.Split(',').Select(p => p.Split(':')).ToDictionary(p => p[0], p => p[1]);
        var controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"].Str!;

        Assert.All(listeners.Keys, name => Assert.True(protocols.ContainsKey(name), $"{name} has no security protocol"));
        Assert.True(listeners.ContainsKey(controller));
        Assert.False(advertised.ContainsKey(controller), "the controller listener must not be advertised");
        Assert.Equal(listeners.Keys.Where(k => k != controller).Order(), advertised.Keys.Order());
        Assert.Equal($"1@kafka:{listeners[controller].Split(':').Last()}", env["KAFKA_CONTROLLER_QUORUM_VOTERS"].Str);

        var inter = env["KAFKA_INTER_BROKER_LISTENER_NAME"].Str!;
        Assert.Equal(InternalListener(), advertised[inter]);
        Assert.Equal("kafka", Services["kafka"]["hostname"].Str);

        var host = advertised.Single(a => a.Value.StartsWith("localhost:", StringComparison.Ordinal));
        var port = host.Value.Split(':')[1];
        Assert.Equal(port, listeners[host.Key].Split(':').Last());
        Assert.Contains(Services["kafka"]["ports"].Items, p => p.Str == $"{port}:{port}");
        Assert.Contains($"KAFKA_BOOTSTRAP_SERVERS={host.Value} make ctl", Repo.Read("docker-compose.kafka.yml"));
        Assert.Contains($"KAFKA_BOOTSTRAP_SERVERS={host.Value}", Repo.Read("docs/deployment.md"));
        Assert.Contains("--bootstrap-server localhost:" + listeners[inter].Split(':').Last(), string.Join(' ', Services["kafka"].At("healthcheck.test").Items.Select(i => i.Str)));
    }

    /// <summary>
    /// Every variable given to a third-party image is one its documentation names: apache/kafka maps KAFKA_* to
    /// broker properties (docker/README of apache/kafka), cp-schema-registry maps SCHEMA_REGISTRY_* to its
    /// properties (Confluent's configuration reference), kafbat's kafka-ui reads KAFKA_CLUSTERS_&lt;n&gt;_* (its
    /// configuration docs). A misspelled variable is silently ignored by the image: this catches it.
    /// </summary>
    [Fact]
    public void Third_party_images_get_only_their_documented_variables()
    {
        string[] kafkaProperties =
        [
            "node.id", "process.roles", "listeners", "advertised.listeners", "listener.security.protocol.map", "controller.listener.names",
            "inter.broker.listener.name", "controller.quorum.voters", "offsets.topic.replication.factor", "transaction.state.log.replication.factor",
            "transaction.state.log.min.isr", "group.initial.rebalance.delay.ms", "auto.create.topics.enable", "log.dirs", "num.partitions",
        ];
        // CLUSTER_ID is the image's own (the id it formats the storage with), not a broker property.
        foreach (var name in Services["kafka"]["environment"].Keys.Where(n => n != "CLUSTER_ID"))
        {
            Assert.Contains(name["KAFKA_".Length..].ToLowerInvariant().Replace('_', '.'), kafkaProperties);
        }

        string[] registry = ["SCHEMA_REGISTRY_HOST_NAME", "SCHEMA_REGISTRY_LISTENERS", "SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS", "SCHEMA_REGISTRY_KAFKASTORE_TOPIC_REPLICATION_FACTOR"];
        Assert.All(Services["schema-registry"]["environment"].Keys, k => Assert.Contains(k, registry));

        string[] ui = ["KAFKA_CLUSTERS_0_NAME", "KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS", "KAFKA_CLUSTERS_0_READONLY", "KAFKA_CLUSTERS_0_SCHEMAREGISTRY"];
        Assert.All(Services["kafka-ui"]["environment"].Keys, k => Assert.Contains(k, ui));
        Assert.Equal("8080", Services["delivery-sink"].At("environment.HTTP_PORT").Str);
    }

    private static string InternalListener() => Compose.At("x-kafka-env.KAFKA_BOOTSTRAP_SERVERS").Str!;

    private static Dictionary<string, string> Pairs(string listeners) =>
        listeners.Split(',').Select(l => l.Split("://")).ToDictionary(p => p[0], p => p[1]);

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

    [Fact]
    public void The_first_compose_up_is_reproducible_and_ordered()
    {
        // A pinned cluster id: the image otherwise falls back to its own default or a random one per format.
        Assert.Matches("^[A-Za-z0-9_-]{22}$", Services["kafka"].At("environment.CLUSTER_ID").Str);
        // Workers deliver from their first second: the sink must answer, not merely have started.
        Assert.Equal("service_healthy", DependsOn("messages-worker", "delivery-sink"));
        Assert.Equal("service_healthy", DependsOn("statuses-worker", "delivery-sink"));
        Assert.True(Services["delivery-sink"]["healthcheck"].Exists);
        // The host streamctl example reads framed records too: it needs the registry the ingress writes with.
        var registryOnHost = $"http://localhost:{Services["schema-registry"]["ports"][0].Str!.Split(':')[0]}";
        Assert.Contains($"SCHEMA_REGISTRY_URL={registryOnHost} KAFKA_BOOTSTRAP_SERVERS=localhost:29092 make ctl", Repo.Read("docker-compose.kafka.yml"));
        Assert.Contains($"SCHEMA_REGISTRY_URL={registryOnHost} KAFKA_BOOTSTRAP_SERVERS=localhost:29092 make ctl", Repo.Read("docs/deployment.md"));
    }
}
