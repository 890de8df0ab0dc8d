using YamlDotNet.Serialization;

namespace Streaming.Deployment.Tests.Alerting;

/// <summary>
/// The alert rules against a real Prometheus rule engine (promtool from Debian's prometheus package):
/// they load, and every alert fires in its situation and stays quiet otherwise (Alerting/alerts.test.yaml,
/// Alerting/chart-alerts.test.yaml).
/// </summary>
public sealed class PrometheusAlertRuleTests : IDisposable
{
    private const string UnitTests = "tests/Streaming.Deployment.Tests/Alerting/alerts.test.yaml";
    private const string ChartUnitTests = "tests/Streaming.Deployment.Tests/Alerting/chart-alerts.test.yaml";

    private readonly string _dir = Directory.CreateTempSubdirectory("streaming-promtool-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Promtool_checks_the_shipped_rules()
    {
        var result = Tool.Run(Repo.Promtool, ["check", "rules", Repo.PathOf(AlertRules.Shipped)]);
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains($"SUCCESS: {AlertRules.Rules(AlertRules.ShippedGroups()).Count()} rules found", result.Output);
    }

    [Theory]
    [InlineData(Helm.FullValues)]
    [InlineData(Helm.DefaultValues)]
    public void Promtool_checks_the_rules_the_chart_renders(string values)
    {
        var groups = AlertRules.ChartGroups("-f", values, "--set", "metrics.prometheusRule.enabled=true",
            "--set", "metrics.prometheusRule.runbookBaseUrl=https://example.com/ops");
        var file = AlertRules.Write(groups, Path.Combine(_dir, "chart-rules.yaml"));
        var result = Tool.Run(Repo.Promtool, ["check", "rules", file]);
        Assert.True(result.ExitCode == 0, result.Output);
    }

    [Fact]
    public void Every_alert_fires_in_its_situation_and_stays_quiet_otherwise()
    {
        AlertRules.Write(AlertRules.ShippedGroups(), Path.Combine(_dir, "rules.yaml"), annotations: false);
        var test = Path.Combine(_dir, "alerts.test.yaml");
        File.Copy(Repo.PathOf(UnitTests), test);

        var result = Tool.Run(Repo.Promtool, ["test", "rules", test]);
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("SUCCESS", result.Output);
    }

    [Fact]
    public void The_chart_scopes_its_absence_rules_to_its_release()
    {
        AlertRules.Write(AlertRules.ChartGroups("-f", Helm.FullValues), Path.Combine(_dir, "chart-rules.yaml"), annotations: false);
        var test = Path.Combine(_dir, "chart-alerts.test.yaml");
        File.Copy(Repo.PathOf(ChartUnitTests), test);

        var result = Tool.Run(Repo.Promtool, ["test", "rules", test]);
        Assert.True(result.ExitCode == 0, result.Output);
    }

    /// <summary>The dashboard's queries parse as PromQL (Grafana's variables replaced by values), as recording rules.</summary>
    [Fact]
    public void Promtool_parses_every_dashboard_query()
    {
        var queries = MetricReferences.DashboardQueries().Where(q => !q.StartsWith("label_values(", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(queries);
        var rules = queries.Select((q, i) => (object)new Dictionary<object, object>
        {
            ["record"] = $"dashboard_query_{i}",
            ["expr"] = q.Replace("$__rate_interval", "5m").Replace("$__range", "1h").Replace("$lane", ".*").Replace("$destination", ".*"),
        }).ToList();
        var file = AlertRules.Write([new Dictionary<object, object> { ["name"] = "dashboard", ["rules"] = rules }], Path.Combine(_dir, "dashboard.yaml"));
        var result = Tool.Run(Repo.Promtool, ["check", "rules", file]);
        Assert.True(result.ExitCode == 0, result.Output);
    }

    /// <summary>Each alert has a test case where it fires and one where it is expected quiet.</summary>
    [Fact]
    public void The_unit_tests_cover_every_alert_both_ways()
    {
        var tests = new DeserializerBuilder().Build().Deserialize<Dictionary<object, object>>(Repo.Read(UnitTests));
        var checks = ((List<object>)tests["tests"]).Cast<Dictionary<object, object>>()
            .SelectMany(t => ((List<object>)t["alert_rule_test"]).Cast<Dictionary<object, object>>())
            .Select(c => (Alert: (string)c["alertname"], Fires: c.TryGetValue("exp_alerts", out var e) && e is List<object> { Count: > 0 }))
            .ToArray();
        var alerts = AlertRules.Rules(AlertRules.ShippedGroups()).Select(r => (string)r["alert"]).Distinct().ToArray();
        Assert.NotEmpty(alerts);
        foreach (var alert in alerts)
        {
            Assert.True(checks.Any(c => c.Alert == alert && c.Fires), $"{alert}: no test case where it fires");
            Assert.True(checks.Any(c => c.Alert == alert && !c.Fires), $"{alert}: no test case where it stays quiet");
        }
    }
}
