using System.Net;
using System.Text;
using Streaming.Contracts;
using Streaming.Testing;
using Xunit.Abstractions;

namespace Streaming.Deployment.Tests.Alerting;

/// <summary>
/// A real prometheus server scrapes the running ingress and both workers with the labels the chart's
/// ServiceMonitor gives them (job = the Service's name, namespace, and the target label endpoint = the port
/// name, which renames prometheus-net's own endpoint label to exported_endpoint), and evaluates the rules
/// the chart renders. The test drives the pipeline into a dead letter, a downstream outage and a 503 storm
/// and asks Prometheus's API that the matching alerts go pending or firing.
/// Honest about time: the rules file is the chart's, expressions and windows unchanged; only each alert's
/// `for:` is shortened to 1s in the test copy, since waiting 5 to 15 minutes per alert is no test.
/// </summary>
[Collection(SharedKafkaContainer.Collection)]
public sealed class LivePrometheusAlertTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private static byte[] Message(string id) => Encoding.UTF8.GetBytes($$$"""
        {"object":"whatsapp_business_account","entry":[{"id":"waba-1","changes":[{"field":"messages","value":{
          "messaging_product":"whatsapp","metadata":{"display_phone_number":"1555","phone_number_id":"p1"},
          "messages":[{"from":"4917","id":"{{{id}}}","timestamp":"1","type":"text","text":{"body":"hi"}}]}}]}]}
        """);

    private static ScrapeTarget Target(string component, Uri address) => new(
        $"{Helm.Release}-{component}", address,
        new Dictionary<string, string>
        {
            ["namespace"] = Helm.Namespace, ["endpoint"] = "http", ["service"] = $"{Helm.Release}-{component}",
            ["pod"] = $"{Helm.Release}-{component}-0", ["container"] = component,
        });

    [EmbeddedKafkaFact]
    public async Task A_dead_letter_a_downstream_outage_and_a_503_storm_raise_their_alerts_in_Prometheus()
    {
        await using var scenario = await PipelineScenario.StartAsync(retryDelays: "30s");
        var outage = false;
        scenario.Stub.Reply = (receipt, _) =>
            receipt.Lane == "statuses" && Volatile.Read(ref outage) ? new StubReply(503)
            : receipt.EventId.StartsWith("wamid.dead", StringComparison.Ordinal) ? new StubReply(404)
            : StubReply.Ok;
        await using var ingress = await IngressHost.StartAsync(scenario.Broker,
            ("RETRY_DELAYS", scenario.RetryDelays), ("INGRESS_PRODUCE_BUDGET_MS", "1000"));
        var messages = await scenario.StartWorkerAsync(Lane.Messages);
        // A long break: once open, the statuses circuit stays open (and its lane paused) for the whole test.
        var statuses = await scenario.StartWorkerAsync(Lane.Statuses,
            ("CIRCUIT_MIN_THROUGHPUT", "4"), ("CIRCUIT_FAILURE_RATIO", "0.5"), ("CIRCUIT_SAMPLING_SECONDS", "5"), ("CIRCUIT_BREAK_SECONDS", "300"));
        Assert.Equal(HttpStatusCode.OK, (await ingress.PostSignedAsync(Message("wamid.ok.1"))).StatusCode);

        var dir = Directory.CreateTempSubdirectory("streaming-prometheus-").FullName;
        var rules = AlertRules.Write(AlertRules.ChartGroups("-f", Helm.FullValues), Path.Combine(dir, "rules.yaml"), forDuration: "1s");
        await using var prometheus = await PrometheusServer.StartAsync(dir, rules,
        [
            Target("ingress", ingress.Address), Target("messages-worker", messages.Client.BaseAddress!),
            Target("statuses-worker", statuses.Client.BaseAddress!),
        ]);
        await Poll.UntilAsync(async () => (await prometheus.QueryAsync("up == 1")).Count, n => n == 3, Deadline, "three targets up");
        await Poll.UntilAsync(async () => (await prometheus.QueryAsync("whatsapp_worker_dead_lettered_total{lane=\"messages\", reason=\"terminal-4xx\"}")).Count,
            n => n > 0, Deadline, "the dead-letter series scraped at 0");

        // A single dead letter: the endpoint refuses one message for good (404, terminal).
        Assert.Empty(Matching(await prometheus.AlertsAsync(), "WhatsAppDeadLetters", ("lane", "messages"), ("reason", "terminal-4xx")));
        Assert.Equal(HttpStatusCode.OK, (await ingress.PostSignedAsync(Message("wamid.dead.1"))).StatusCode);
        await AlertAsync(prometheus, "WhatsAppDeadLetters", ("lane", "messages"), ("reason", "terminal-4xx"));

        // A downstream outage: the statuses endpoint answers 503, its circuit opens and pauses the lane, and
        // the backlog grows behind it; the lag comes from the broker, so it keeps rising.
        Assert.Empty(Matching(await prometheus.AlertsAsync(), "WhatsAppCircuitOpen", ("lane", "statuses")));
        Assert.Empty(Matching(await prometheus.AlertsAsync(), "WhatsAppConsumerLagHigh", ("lane", "statuses")));
        Volatile.Write(ref outage, true);
        scenario.Produce(Lane.Statuses, Enumerable.Range(0, 20).Select(i => ($"wamid.outage.{i}:delivered", $"49{i % 5}")));
        await AlertAsync(prometheus, "WhatsAppCircuitOpen", ("lane", "statuses"));
        await AlertAsync(prometheus, "WhatsAppDestinationCircuitOpen", ("lane", "statuses"), ("destination", "default"));
        await AlertAsync(prometheus, "WhatsAppRetryRateHigh", ("lane", "statuses"));
        scenario.Produce(Lane.Statuses, Enumerable.Range(20, 1500).Select(i => ($"wamid.outage.{i}:delivered", $"49{i % 5}")));
        await AlertAsync(prometheus, "WhatsAppConsumerLagHigh", ("lane", "statuses"));

        // The scrape is the ServiceMonitor's: the application's endpoint label arrives as exported_endpoint.
        Assert.Empty(await prometheus.QueryAsync("http_requests_received_total{endpoint=\"/webhook\"}"));
        Assert.NotEmpty(await prometheus.QueryAsync("http_requests_received_total{exported_endpoint=\"/webhook\", endpoint=\"http\"}"));

        // A 503 storm: every broker down, so webhooks are answered 503 within the produce budget.
        Assert.Empty(Matching(await prometheus.AlertsAsync(), "WhatsAppIngress503Ratio"));
        scenario.Broker.Embedded!.SetAllBrokersDown();
        try
        {
            var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => ingress.PostSignedAsync(Message($"wamid.storm.{i}"))));
            Assert.All(answers, a => Assert.Equal(HttpStatusCode.ServiceUnavailable, a.StatusCode));
            await AlertAsync(prometheus, "WhatsAppIngress503Ratio");
        }
        finally
        {
            scenario.Broker.Embedded!.SetAllBrokersUp();
        }

        output.WriteLine(string.Join('\n', await prometheus.AlertsAsync()));
    }

    private static IReadOnlyList<ActiveAlert> Matching(IEnumerable<ActiveAlert> alerts, string name, params (string Label, string Value)[] labels) =>
        alerts.Where(a => a.Name == name && labels.All(l => a.Labels.GetValueOrDefault(l.Label) == l.Value)).ToArray();

    private async Task AlertAsync(PrometheusServer prometheus, string name, params (string Label, string Value)[] labels)
    {
        var alerts = await Poll.UntilAsync(prometheus.AlertsAsync, a => Matching(a, name, labels).Count > 0, Deadline,
            $"{name} {string.Join(",", labels.Select(l => $"{l.Label}={l.Value}"))} pending or firing");
        var alert = Matching(alerts, name, labels)[0];
        Assert.Contains(alert.State, new[] { "pending", "firing" });
        output.WriteLine($"{alert} (namespace {alert.Labels.GetValueOrDefault("namespace")})");
    }
}
