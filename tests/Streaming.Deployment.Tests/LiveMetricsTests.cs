using Streaming.Contracts;
using Streaming.Testing;

namespace Streaming.Deployment.Tests;

/// <summary>Every series the dashboard and the alert rules query is served by a running ingress or worker.</summary>
[Collection(SharedKafkaContainer.Collection)]
public sealed class LiveMetricsTests
{
    [Fact]
    public async Task Dashboard_and_alert_series_exist_on_the_running_services()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        await using var ingress = await IngressHost.StartAsync(scenario.Broker, ("RETRY_DELAYS", scenario.RetryDelays));
        var messages = await scenario.StartWorkerAsync(Lane.Messages);
        var statuses = await scenario.StartWorkerAsync(Lane.Statuses);
        Assert.True((await ingress.PostSignedAsync(Fixtures.Get("mixed-batch.json"))).IsSuccessStatusCode);

        var referenced = MetricReferences.Referenced();
        Assert.NotEmpty(referenced);
        var missing = await Poll.UntilAsync(async () =>
        {
            var served = string.Join('\n',
                await ingress.Client.GetStringAsync("/metrics"),
                await messages.Client.GetStringAsync("/metrics"),
                await statuses.Client.GetStringAsync("/metrics"));
            var names = served.Split('\n').Where(l => l.Length > 0 && l[0] != '#')
                .Select(l => l.Split('{', ' ')[0]).ToHashSet();
            return referenced.Where(r => !names.Contains(r)).ToArray();
        }, m => m.Length == 0, TimeSpan.FromSeconds(30), "every referenced series on /metrics");
        Assert.Empty(missing);
    }
}
