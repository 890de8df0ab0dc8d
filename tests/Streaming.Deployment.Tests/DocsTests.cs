using System.Text.RegularExpressions;

namespace Streaming.Deployment.Tests;

public sealed partial class DocsTests
{
    public static TheoryData<string> Documents => new()
    {
        "docs/architecture.md", "docs/configuration.md", "docs/operations.md", "docs/scaling.md", "docs/deployment.md",
        "docs/observability/README.md",
    };

    [Fact]
    public void The_configuration_reference_names_every_variable()
    {
        var text = Repo.Read("docs/configuration.md");
        var missing = Contract.AllVariables.Where(v => !text.Contains($"`{v}`", StringComparison.Ordinal)).ToArray();
        Assert.True(missing.Length == 0, $"docs/configuration.md does not describe: {string.Join(", ", missing)}");
    }

    [Fact]
    public void The_configuration_reference_names_every_variable_the_code_reads()
    {
        var text = Repo.Read("docs/configuration.md");
        var read = new[] { "services", "shared" }
            .SelectMany(dir => Directory.EnumerateFiles(Repo.PathOf(dir), "*.cs", SearchOption.AllDirectories))
            .Where(file => !file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(file => ConfigurationKey().Matches(File.ReadAllText(file)).Select(m => m.Groups[1].Value))
            .ToHashSet();
        Assert.Contains("KAFKA_BOOTSTRAP_SERVERS", read);
        var missing = read.Where(v => !text.Contains($"`{v}`", StringComparison.Ordinal)).Order().ToArray();
        Assert.True(missing.Length == 0, $"docs/configuration.md does not describe: {string.Join(", ", missing)}");
    }

    [Fact]
    public void The_configuration_reference_gives_the_contract_defaults()
    {
        var text = Repo.Read("docs/configuration.md");
        foreach (var (variable, value) in new[]
        {
            ("TOPIC_PREFIX", "whatsapp"), ("RETRY_DELAYS", "5s,30s,5m,30m"), ("MESSAGES_PARTITIONS", "12"),
            ("STATUSES_PARTITIONS", "12"), ("RETRY_PARTITIONS", "6"), ("DLQ_PARTITIONS", "3"), ("TOPIC_REPLICATION_FACTOR", "3"),
            ("LANE_RETENTION_HOURS", "168"), ("DLQ_RETENTION_HOURS", "720"), ("INGRESS_HOST", "0.0.0.0"), ("INGRESS_PORT", "8080"),
            ("INGRESS_MAX_BODY_BYTES", "4194304"), ("INGRESS_PRODUCE_BUDGET_MS", "3000"), ("INGRESS_RETRY_AFTER_SECONDS", "5"),
            ("INGRESS_SHED_INFLIGHT_BYTES", "33554432"), ("INGRESS_SHED_LATENCY_MS", "1000"), ("INGRESS_QUEUE_MAX_MESSAGES", "100000"),
            ("INGRESS_LINGER_MS", "2"), ("WORKER_PORT", "8081"), ("WORKER_MAX_IN_FLIGHT", "64"), ("DELIVERY_TIMEOUT_MS", "10000"),
            ("RETRY_JITTER", "0.2"), ("CIRCUIT_FAILURE_RATIO", "0.5"), ("CIRCUIT_MIN_THROUGHPUT", "10"),
            ("CIRCUIT_SAMPLING_SECONDS", "10"), ("CIRCUIT_BREAK_SECONDS", "15"),
        })
        {
            Assert.Contains($"| `{variable}` | `{value}` |", text);
        }
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void Relative_links_resolve(string document)
    {
        var directory = Path.GetDirectoryName(Repo.PathOf(document))!;
        foreach (var link in Markdown.RelativeLinks(Repo.Read(document)))
        {
            var parts = link.Split('#', 2);
            var target = parts[0].Length == 0 ? Repo.PathOf(document) : Path.GetFullPath(Path.Combine(directory, parts[0]));
            Assert.True(File.Exists(target) || Directory.Exists(target), $"{document}: broken link {link}");
            if (parts.Length == 2 && target.EndsWith(".md", StringComparison.Ordinal))
            {
                Assert.Contains(parts[1], Markdown.Anchors(File.ReadAllText(target)));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void Documents_mention_only_exported_metrics(string document)
    {
        foreach (Match m in MetricName().Matches(Repo.Read(document)))
        {
            Assert.True(MetricReferences.KnownSeries.Contains(m.Value) || MetricReferences.Histograms.Contains(m.Value), $"{document}: unknown metric {m.Value}");
        }
    }

    [Fact]
    public void The_runbook_covers_the_incidents_and_streamctl()
    {
        var anchors = Markdown.Anchors(Repo.Read("docs/operations.md"));
        foreach (var section in new[] { "ingress-answers-503", "lag-is-growing", "dead-letters-triage-and-replay", "broker-outage", "downstream-outage-circuit-open", "one-destination-is-down" })
        {
            Assert.Contains(section, anchors);
        }

        var text = Repo.Read("docs/operations.md");
        foreach (var command in new[] { "streamctl topics create", "streamctl topics describe", "streamctl lag", "dlq list --lane messages", "dlq show --lane", "dlq replay --lane", "streamctl destinations list", "dlq replay --lane messages --destination" })
        {
            Assert.Contains(command, text);
        }
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void Streamctl_commands_in_shell_examples_use_the_contract_subcommands(string document)
    {
        var examples = ShellComment().Replace(string.Join('\n', ShellBlock().Matches(Repo.Read(document)).Select(m => m.Value)), "");
        var commands = StreamctlCommand().Matches(examples);
        if (document is "docs/operations.md" or "docs/deployment.md")
        {
            Assert.True(commands.Count >= 4, $"{document}: expected streamctl examples, found {commands.Count}");
        }

        foreach (Match m in commands)
        {
            var words = m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(
                words is ["topics", "create" or "describe", ..] or ["lag", ..] or ["dlq", "list" or "show" or "replay", "--lane", "messages" or "statuses", ..]
                    or ["destinations", "list", ..],
                $"{document}: `{m.Value}` is not a streamctl command of the contract");
        }
    }

    [Fact]
    public void The_deployment_guide_covers_helm_kustomize_and_compose()
    {
        var text = Repo.Read("docs/deployment.md");
        Assert.Contains("helm upgrade --install whatsapp-streaming helm/whatsapp-streaming", text);
        Assert.Contains("kubectl apply -k k8s/overlays/production", text);
        Assert.Contains("docker compose -f docker-compose.kafka.yml up --build", text);
        Assert.Contains("dlq replay --lane", text);
        Assert.Contains("```mermaid", Repo.Read("docs/architecture.md"));
    }

    // [ConfigurationKeyName("X")] and Configuration["X"] in the services' and libraries' code.
    [GeneratedRegex(@"(?:ConfigurationKeyName\(|Configuration\[)""([A-Z][A-Z0-9_]+)""")]
    private static partial Regex ConfigurationKey();

    [GeneratedRegex(@"\b(?:whatsapp_(?:ingress|worker)_[a-z_]+|http_requests?_[a-z_]+)\b")]
    private static partial Regex MetricName();

    // In examples: `streamctl <words>`, `make ctl ARGS="<words>"`, the deployment guide's ctl function, the compose topics service.
    [GeneratedRegex(@"(?:\bstreamctl|\bctl ARGS=""|^ctl|\brun --rm topics)\s+([a-z][^`""\n#]*)", RegexOptions.Multiline)]
    private static partial Regex StreamctlCommand();

    [GeneratedRegex(@"```(?:sh|bash|shell)\n.*?```", RegexOptions.Singleline)]
    private static partial Regex ShellBlock();

    [GeneratedRegex(@"(?:^|\s)#.*$", RegexOptions.Multiline)]
    private static partial Regex ShellComment();
}
