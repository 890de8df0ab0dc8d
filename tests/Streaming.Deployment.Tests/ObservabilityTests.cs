using System.Text.Json;

namespace Streaming.Deployment.Tests;

public sealed class ObservabilityTests
{
    [Fact]
    public void The_metric_extractor_finds_metrics_and_nothing_else()
    {
        Assert.Equal(
            new[] { "http_request_duration_seconds_bucket" },
            MetricReferences.MetricsIn("histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{method=\"POST\", endpoint=\"/webhook\"}[$__rate_interval])))"));
        Assert.Equal(
            new[] { "whatsapp_worker_retried_total", "whatsapp_worker_consumed_total" },
            MetricReferences.MetricsIn("sum by (lane) (rate(whatsapp_worker_retried_total[10m])) / clamp_min(sum by (lane) (rate(whatsapp_worker_consumed_total[10m])), 1e-9) > 0.2"));
        Assert.Equal(
            new[] { "a_total", "b" },
            MetricReferences.MetricsIn("a_total > on (lane) group_left() b unless c_fn(x_y{topic=~\".+\\\\.(messages|statuses)\"}) and 5").Take(2));
        Assert.Equal(new[] { "whatsapp_worker_consumed_total" }, MetricReferences.MetricsIn("label_values(whatsapp_worker_consumed_total, lane)"));
    }

    [Fact]
    public void The_dashboard_parses_and_queries_only_exported_metrics()
    {
        using var json = JsonDocument.Parse(Repo.Read(MetricReferences.DashboardPath));
        Assert.Equal("whatsapp-streaming", json.RootElement.GetProperty("uid").GetString());
        Assert.True(json.RootElement.GetProperty("panels").GetArrayLength() > 10);

        var queries = MetricReferences.DashboardQueries();
        Assert.True(queries.Count > 15);
        foreach (var query in queries)
        {
            var metrics = MetricReferences.MetricsIn(query).ToArray();
            Assert.True(metrics.Length > 0, $"no metric in: {query}");
            Assert.All(metrics, m => Assert.True(MetricReferences.KnownSeries.Contains(m), $"unknown series {m} in: {query}"));
        }
    }

    [Theory]
    [InlineData("http_requests_received_total")]              // ingress rate and 5xx
    [InlineData("http_request_duration_seconds_bucket")]      // ingress latency
    [InlineData("whatsapp_ingress_unavailable_total")]        // 503s by reason
    [InlineData("whatsapp_worker_delivered_total")]           // throughput per lane
    [InlineData("whatsapp_worker_consumer_lag")]              // lag
    [InlineData("whatsapp_worker_retried_total")]             // retries per tier
    [InlineData("whatsapp_worker_dead_lettered_total")]       // DLQ growth
    [InlineData("whatsapp_worker_circuit_state")]             // circuit state
    public void The_dashboard_has_the_required_panels(string series)
    {
        Assert.Contains(MetricReferences.DashboardQueries(), q => MetricReferences.MetricsIn(q).Contains(series));
    }

    [Fact]
    public void Panels_have_unique_ids_and_fit_the_grid()
    {
        using var json = JsonDocument.Parse(Repo.Read(MetricReferences.DashboardPath));
        var panels = json.RootElement.GetProperty("panels").EnumerateArray().ToArray();
        Assert.Equal(panels.Length, panels.Select(p => p.GetProperty("id").GetInt32()).Distinct().Count());
        Assert.All(panels, p =>
        {
            var grid = p.GetProperty("gridPos");
            Assert.InRange(grid.GetProperty("x").GetInt32() + grid.GetProperty("w").GetInt32(), 1, 24);
        });
    }

    [Fact]
    public void Alert_rules_parse_and_query_only_exported_metrics()
    {
        var rules = Yaml.Parse(Repo.Read(MetricReferences.AlertsPath))["groups"].Items.SelectMany(g => g["rules"].Items).ToArray();
        Assert.True(rules.Length >= 4);
        // One alert name may have one rule per lane (WhatsAppWorkerLaneDown), told apart by its lane label.
        Assert.Equal(rules.Length, rules.Select(r => (r["alert"].Str, r.At("labels.lane").Str)).Distinct().Count());
        foreach (var rule in rules)
        {
            Assert.False(string.IsNullOrWhiteSpace(rule["alert"].Str));
            Assert.Contains(rule.At("labels.severity").Str, new[] { "warning", "critical" });
            Assert.False(string.IsNullOrWhiteSpace(rule.At("annotations.summary").Str), $"{rule["alert"]}: no summary");
            var metrics = MetricReferences.MetricsIn(rule["expr"].Str!).ToArray();
            Assert.True(metrics.Length > 0, $"{rule["alert"]}: no metric");
            Assert.All(metrics, m => Assert.True(MetricReferences.KnownSeries.Contains(m), $"{rule["alert"]}: unknown series {m}"));
        }
    }

    [Theory]
    [InlineData("whatsapp_worker_dead_lettered_total")]   // DLQ growth
    [InlineData("whatsapp_worker_consumer_lag")]          // lag over threshold
    [InlineData("whatsapp_ingress_unavailable_total")]    // 503 ratio
    [InlineData("whatsapp_worker_circuit_state")]         // circuit open
    public void The_alerts_cover(string series)
    {
        Assert.Contains(MetricReferences.AlertQueries(), q => MetricReferences.MetricsIn(q).Contains(series));
    }

    [Fact]
    public void Every_alert_runbook_link_points_at_a_section_of_the_operations_runbook()
    {
        var anchors = Markdown.Anchors(Repo.Read("docs/operations.md"));
        var rules = Yaml.Parse(Repo.Read(MetricReferences.AlertsPath))["groups"].Items.SelectMany(g => g["rules"].Items);
        foreach (var rule in rules)
        {
            var runbook = rule.At("annotations.runbook").Str;
            Assert.NotNull(runbook);
            Assert.StartsWith("docs/operations.md#", runbook);
            Assert.Contains(runbook.Split('#')[1], anchors);
        }
    }

    [Fact]
    public void Referenced_metrics_are_exposed_for_a_live_cross_check()
    {
        var referenced = MetricReferences.Referenced();
        Assert.Subset(MetricReferences.KnownSeries.ToHashSet(), referenced.ToHashSet());
        Assert.Contains("whatsapp_worker_end_to_end_latency_seconds", MetricReferences.ReferencedFamilies());
        Assert.Contains("whatsapp_worker_end_to_end_latency_seconds_bucket", referenced);
    }
}
