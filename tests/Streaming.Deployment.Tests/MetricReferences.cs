using System.Text.Json;
using System.Text.RegularExpressions;

namespace Streaming.Deployment.Tests;

/// <summary>
/// The Prometheus metrics the services export (the contract), and the series that the Grafana dashboard
/// and the alert rules in docs/observability/ query. <see cref="Referenced"/> is public so a live test
/// can check every referenced series against what /metrics really serves.
/// </summary>
public static partial class MetricReferences
{
    public const string DashboardPath = "docs/observability/grafana-dashboard.json";
    public const string AlertsPath = "docs/observability/prometheus-alerts.yaml";

    /// <summary>Counters and gauges, queried by their own name (prometheus-net types counters as gauges; rate() still works).</summary>
    public static readonly IReadOnlySet<string> Plain = new HashSet<string>
    {
        "whatsapp_ingress_events_total",
        "whatsapp_ingress_signature_failures_total",
        "whatsapp_ingress_unavailable_total",
        "whatsapp_ingress_unverified_acks_total",
        "whatsapp_ingress_shed_total",
        "whatsapp_ingress_rejected_total",
        "whatsapp_ingress_producer_inflight_bytes",
        "http_requests_received_total",
        "whatsapp_worker_consumed_total",
        "whatsapp_worker_delivered_total",
        "whatsapp_worker_retried_total",
        "whatsapp_worker_dead_lettered_total",
        "whatsapp_worker_in_flight",
        "whatsapp_worker_consumer_lag",
        "whatsapp_worker_assigned_partitions",
        "whatsapp_worker_circuit_state",
        "whatsapp_worker_unverified_acks_total",
        "whatsapp_worker_statuses_superseded_total",
        "whatsapp_worker_order_followed_total",
        "whatsapp_worker_order_blocked_total",
        "whatsapp_worker_order_released_total",
        "whatsapp_worker_order_blocked_keys",
        "whatsapp_worker_order_fenced_writes_total",
        "whatsapp_worker_not_delivered_total",
        "whatsapp_worker_schema_unresolved_total",
        "whatsapp_worker_retry_after_capped_total",
        "whatsapp_worker_destination_delivered_total",
        "whatsapp_worker_destination_failed_total",
        "whatsapp_worker_destination_circuit_state",
        "whatsapp_worker_destination_concurrency_limit",
        "whatsapp_worker_destination_in_flight",
        "whatsapp_worker_destination_waiting",
        "whatsapp_worker_destination_table_valid",
        "whatsapp_worker_destination_table_reloads_total",
        "whatsapp_worker_destination_table_refused_total",
    };

    /// <summary>Histograms: queried only as their _bucket, _sum and _count series.</summary>
    public static readonly IReadOnlySet<string> Histograms = new HashSet<string>
    {
        "whatsapp_ingress_produce_duration_seconds",
        "http_request_duration_seconds",
        "whatsapp_worker_delivery_duration_seconds",
        "whatsapp_worker_end_to_end_latency_seconds",
        "whatsapp_worker_destination_delivery_duration_seconds",
    };

    /// <summary>Every series name a query may use.</summary>
    public static IReadOnlySet<string> KnownSeries { get; } = Plain
        .Concat(Histograms.SelectMany(h => new[] { h + "_bucket", h + "_sum", h + "_count" }))
        .ToHashSet();

    /// <summary>The series the dashboard and the alert rules query (e.g. whatsapp_worker_consumer_lag, http_request_duration_seconds_bucket).</summary>
    public static IReadOnlySet<string> Referenced(string? repositoryRoot = null)
    {
        var root = repositoryRoot ?? Repo.Root;
        return DashboardQueries(root).Concat(AlertQueries(root)).SelectMany(MetricsIn).ToHashSet();
    }

    /// <summary>The metric families behind <see cref="Referenced"/>: histogram series folded into their base name.</summary>
    public static IReadOnlySet<string> ReferencedFamilies(string? repositoryRoot = null) =>
        Referenced(repositoryRoot).Select(Family).ToHashSet();

    public static string Family(string series)
    {
        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (series.EndsWith(suffix, StringComparison.Ordinal) && Histograms.Contains(series[..^suffix.Length]))
            {
                return series[..^suffix.Length];
            }
        }

        return series;
    }

    /// <summary>Every panel target's expr, and the definition of every query-type template variable.</summary>
    public static IReadOnlyList<string> DashboardQueries(string? repositoryRoot = null)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(repositoryRoot ?? Repo.Root, DashboardPath)));
        var queries = new List<string>();
        CollectExpressions(json.RootElement, queries);
        if (json.RootElement.TryGetProperty("templating", out var templating) && templating.TryGetProperty("list", out var variables))
        {
            queries.AddRange(variables.EnumerateArray()
                .Where(v => v.TryGetProperty("type", out var type) && type.GetString() == "query" && v.TryGetProperty("definition", out _))
                .Select(v => v.GetProperty("definition").GetString() ?? ""));
        }

        return queries;

        static void CollectExpressions(JsonElement element, List<string> into)
        {
            if (element.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "expr" && property.Value.ValueKind == JsonValueKind.String)
                    {
                        into.Add(property.Value.GetString()!);
                    }
                    else
                    {
                        CollectExpressions(property.Value, into);
                    }
                }
            }
            else if (element.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in element.EnumerateArray())
                {
                    CollectExpressions(item, into);
                }
            }
        }
    }

    public static IReadOnlyList<string> AlertQueries(string? repositoryRoot = null)
    {
        var rules = Yaml.Parse(File.ReadAllText(Path.Combine(repositoryRoot ?? Repo.Root, AlertsPath)));
        return rules["groups"].Items.SelectMany(g => g["rules"].Items).Select(r => r["expr"].Str ?? "").ToArray();
    }

    /// <summary>
    /// The metric names in a PromQL expression: identifiers that are not functions, keywords, label
    /// names or grouping labels. Strings, label matchers, ranges and by/without/on/ignoring lists are
    /// removed first; Grafana's label_values(metric, label) keeps only the metric.
    /// </summary>
    public static IEnumerable<string> MetricsIn(string promql)
    {
        var text = LabelValues().Replace(promql, "$1");
        text = StringLiteral().Replace(text, " ");
        text = Braces().Replace(text, " ");
        text = Brackets().Replace(text, " ");
        text = Grouping().Replace(text, " ");
        return Identifier().Matches(text)
            .Where(m => !IsFunctionCall(text, m) && !Keywords.Contains(m.Value) && !m.Value.StartsWith('$'))
            .Select(m => m.Value)
            .Distinct();
    }

    private static bool IsFunctionCall(string text, Match m)
    {
        var next = m.Index + m.Length;
        while (next < text.Length && char.IsWhiteSpace(text[next]))
        {
            next++;
        }

        return next < text.Length && text[next] == '(';
    }

    private static readonly HashSet<string> Keywords =
        ["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan"];

    [GeneratedRegex(@"label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)[^)]*\)")]
    private static partial Regex LabelValues();

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"\{[^{}]*\}")]
    private static partial Regex Braces();

    [GeneratedRegex(@"\[[^\[\]]*\]")]
    private static partial Regex Brackets();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"(?<![A-Za-z0-9_:.$])[a-zA-Z_:][a-zA-Z0-9_:]*")]
    private static partial Regex Identifier();
}
