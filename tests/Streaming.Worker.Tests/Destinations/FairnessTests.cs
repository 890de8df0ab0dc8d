using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Streaming.Contracts;
using Streaming.Testing;
using Streaming.Worker.Destinations;

namespace Streaming.Worker.Tests.Destinations;

/// <summary>
/// Fairness between destinations, end to end on the embedded broker: slow-but-200 destinations, a long
/// Retry-After, an HTTP/1.0 endpoint in the table, the lane's circuit gauge with a table, a reload that
/// removes a destination, and rate pacing. Each shows what one destination cannot do to another.
/// </summary>
public sealed class FairnessTests
{
    private const string HealthySecret = "whsec_aGVhbHRoeS1kZXN0aW5hdGlvbi1zaWduaW5nLWtleQ==";
    private const string SlowSecret = "whsec_c2xvdy1kZXN0aW5hdGlvbi1zaWduaW5nLWtleS0xMg==";
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    private static string Entry(string name, string phoneNumberId, Uri url, string secret, string extra = "") => $"""
          - name: {name}
            phoneNumberIds: ["{phoneNumberId}"]
            messagesUrl: {url}
            signingSecret: {secret}
        {extra}
        """;

    [Fact]
    public async Task Four_destinations_that_hold_every_answer_leave_a_healthy_one_its_deliveries()
    {
        await using var scenario = await PipelineScenario.StartAsync("5s,10s");
        using var kit = new DestinationKit(scenario);
        await using var healthy = await DownstreamStub.StartAsync(HealthySecret);
        await using var slow = await DownstreamStub.StartAsync(SlowSecret);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        slow.Reply = (_, _) => new StubReply(200, Until: release.Task); // 200, but only when the test says so
        kit.Write("destinations:\n" + string.Concat(Enumerable.Range(1, 4).Select(i => Entry($"slow-{i}", $"200{i}", slow.LaneUrl(Lane.Messages), SlowSecret)))
            + Entry("healthy", "1001", healthy.LaneUrl(Lane.Messages), HealthySecret));
        await scenario.StartWorkerAsync(Lane.Messages,
            ("DESTINATIONS_FILE", kit.File), ("DELIVERY_URL", ""), ("DELIVERY_TIMEOUT_MS", "120000"), ("WORKER_DESTINATION_MAX_WAIT_MS", "60000"));

        try
        {
            for (var i = 1; i <= 4; i++)
            {
                kit.Produce($"200{i}", DestinationKit.Ids($"slow{i}", 60));
            }

            await Poll.UntilAsync(() => slow.Holding > 0, Settle, "the slow destinations to hold requests");
            var healthyIds = DestinationKit.Ids("healthy", 100);
            kit.Produce("1001", healthyIds);

            // Every healthy event is delivered while the slow destinations still sit on every answer.
            Assert.Empty(await kit.WaitSettledAsync(healthyIds, Settle, healthy));
            Assert.Empty(slow.Delivered);
            Assert.True(slow.Holding > 0);
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [Fact]
    public async Task A_retry_after_of_ten_minutes_does_not_hold_another_destinations_retry_in_the_same_tier_partition()
    {
        await using var scenario = await PipelineScenario.StartAsync("2s");
        using var kit = new DestinationKit(scenario);
        await using var throttled = await DownstreamStub.StartAsync(SlowSecret);
        throttled.Reply = (_, _) => new StubReply(429, RetryAfter: "600");
        await using var flaky = await DownstreamStub.StartAsync(HealthySecret);
        flaky.Reply = (_, attempt) => new StubReply(attempt == 1 ? 503 : 200);
        kit.Write("destinations:\n" + Entry("throttled", "3001", throttled.LaneUrl(Lane.Messages), SlowSecret)
            + Entry("flaky", "3002", flaky.LaneUrl(Lane.Messages), HealthySecret));
        await scenario.StartWorkerAsync(Lane.Messages, ("DESTINATIONS_FILE", kit.File), ("DELIVERY_URL", ""), ("ORDERING", "none"));

        // One customer, so both records land in the same partition of the one tier, the throttled one first.
        kit.Produce("3001", ["wamid.throttled"], customer: "4915550123");
        await Poll.UntilAsync(() => throttled.Attempts("wamid.throttled") == 1, Settle, "the 429");
        kit.Produce("3002", ["wamid.flaky"], customer: "4915550123");

        Assert.Empty(await kit.WaitSettledAsync(["wamid.flaky"], Settle, flaky));
        Assert.Equal(2, flaky.Attempts("wamid.flaky"));

        // Not-before never ran ahead of the tier's own delay (2 s, no jitter in tests), whatever Retry-After said.
        var retries = scenario.RetryRecords(Lane.Messages);
        Assert.Contains(retries, r => r.Headers[HeaderNames.EventId] == "wamid.throttled");
        foreach (var retry in retries)
        {
            // A first failure: first-failed-at is when the record was moved.
            var notBefore = DateTimeOffset.Parse(retry.Headers[HeaderNames.NotBefore], System.Globalization.CultureInfo.InvariantCulture);
            var moved = DateTimeOffset.Parse(retry.Headers[HeaderNames.FirstFailedAt], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(notBefore - moved <= TimeSpan.FromSeconds(2), $"{retry.Headers[HeaderNames.EventId]}: not-before {notBefore:O}, moved {moved:O}");
        }

        // The throttled destination's own hold covers the rest: its event is not attempted again, and ends in the DLQ.
        Assert.Empty(await kit.WaitSettledAsync(["wamid.throttled"], Settle));
        Assert.Equal(1, throttled.Attempts("wamid.throttled"));
    }

    [Fact]
    public async Task An_http_1_0_endpoint_in_the_table_gets_every_event_at_the_first_attempt()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        using var kit = new DestinationKit(scenario);
        await using var endpoint = Http10EndpointTests.Http10Endpoint.Start();
        kit.Write("destinations:\n" + Entry("old-server", "4001", endpoint.Url, HealthySecret));
        await scenario.StartWorkerAsync(Lane.Messages, ("DESTINATIONS_FILE", kit.File), ("DELIVERY_URL", ""));

        var ids = DestinationKit.Ids("http10", 200);
        kit.Produce("4001", ids);
        await Poll.UntilAsync(() => endpoint.Answered >= ids.Count, Settle, "the HTTP/1.0 endpoint to answer every event");
        await Poll.UntilAsync(() => scenario.Committed(Lane.Messages) == ids.Count, Settle, "every offset to be committed");
        Assert.Empty(scenario.RetryRecords(Lane.Messages));
        Assert.Equal(ids.Count, endpoint.Answered);
    }

    [Fact]
    public async Task With_a_table_the_lanes_circuit_gauge_reads_the_worst_destinations_circuit()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        using var kit = new DestinationKit(scenario);
        await using var healthy = await DownstreamStub.StartAsync(HealthySecret);
        await using var dead = await DownstreamStub.StartAsync(SlowSecret);
        dead.Reply = (_, _) => new StubReply(503);
        kit.Write("destinations:\n" + Entry("healthy", "5001", healthy.LaneUrl(Lane.Messages), HealthySecret)
            + Entry("dead", "5002", dead.LaneUrl(Lane.Messages), SlowSecret));
        var worker = await scenario.StartWorkerAsync(Lane.Messages,
            ("DESTINATIONS_FILE", kit.File), ("DELIVERY_URL", ""), ("CIRCUIT_MIN_THROUGHPUT", "4"), ("CIRCUIT_BREAK_SECONDS", "30"));

        Assert.Equal(0, LaneCircuit(await worker.Client.GetStringAsync("/metrics")));
        kit.Produce("5001", DestinationKit.Ids("fine", 5));
        kit.Produce("5002", DestinationKit.Ids("down", 12));
        await Poll.UntilAsync(async () => LaneCircuit(await worker.Client.GetStringAsync("/metrics")), v => v == 2, Settle, "the lane's circuit gauge to read open");
        Assert.Empty(await kit.WaitSettledAsync(DestinationKit.Ids("fine", 5), Settle, healthy));
    }

    private static double LaneCircuit(string metrics) =>
        metrics.Split('\n').Where(l => l.StartsWith("whatsapp_worker_circuit_state{", StringComparison.Ordinal) && l.Contains("lane=\"messages\"", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture)).Max();

    [Fact]
    public async Task A_reload_that_removes_a_destination_drops_its_runtime_and_its_series()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        using var kit = new DestinationKit(scenario);
        await using var stub = await DownstreamStub.StartAsync(HealthySecret);
        var url = stub.LaneUrl(Lane.Messages);
        kit.Write("destinations:\n" + Entry("stays", "6001", url, HealthySecret) + Entry("goes", "6002", url, HealthySecret));
        var worker = await scenario.StartWorkerAsync(Lane.Messages,
            ("DESTINATIONS_FILE", kit.File), ("DELIVERY_URL", ""), ("DESTINATIONS_RELOAD_SECONDS", "0.1"));
        kit.Produce("6001", ["wamid.stays"]);
        kit.Produce("6002", ["wamid.goes"]);
        Assert.Empty(await kit.WaitSettledAsync(["wamid.stays", "wamid.goes"], Settle, stub));

        var runtimes = worker.Services.GetRequiredService<DestinationRuntimes>();
        Assert.Contains("goes", Observed(worker.Services));
        kit.Write("destinations:\n" + Entry("stays", "6001", url, HealthySecret));
        await Poll.UntilAsync(() => runtimes.Count == 1, Settle, "the removed destination's runtime to be dropped");
        Assert.DoesNotContain("goes", Observed(worker.Services));
        Assert.Contains("stays", Observed(worker.Services));
    }

    /// <summary>The destinations the per-destination gauges report now, read through a MeterListener.</summary>
    private static HashSet<string> Observed(IServiceProvider services)
    {
        var factory = services.GetRequiredService<IMeterFactory>();
        var names = new HashSet<string>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == "destination_in_flight" && instrument.Meter.Scope == factory)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<int>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "destination")
                {
                    names.Add((string)tag.Value!);
                }
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return names;
    }

    [Fact]
    public async Task A_rate_limited_destination_is_paced_within_ten_percent_and_its_waiting_holds_no_slot()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        using var kit = new DestinationKit(scenario);
        await using var paced = await DownstreamStub.StartAsync(SlowSecret);
        await using var healthy = await DownstreamStub.StartAsync(HealthySecret);
        kit.Write("destinations:\n" + Entry("paced", "7001", paced.LaneUrl(Lane.Messages), SlowSecret, "    maxRatePerSecond: 20\n")
            + Entry("healthy", "7002", healthy.LaneUrl(Lane.Messages), HealthySecret));
        await scenario.StartWorkerAsync(Lane.Messages,
            ("DESTINATIONS_FILE", kit.File), ("DELIVERY_URL", ""), ("WORKER_MAX_IN_FLIGHT", "4"), ("WORKER_DESTINATION_MAX_WAIT_MS", "60000"),
            ("WORKER_DESTINATION_MAX_WAITING", "1000"));

        var pacedIds = DestinationKit.Ids("paced", 120);
        kit.Produce("7001", pacedIds);
        await Poll.UntilAsync(() => paced.Delivered.Count >= 10, Settle, "pacing to start");

        // Forty events wait for the rate; the lane's four slots still serve the healthy destination at once.
        var healthyIds = DestinationKit.Ids("healthy", 50);
        kit.Produce("7002", healthyIds);
        Assert.Empty(await kit.WaitSettledAsync(healthyIds, Settle, healthy));
        Assert.True(paced.Delivered.Count < pacedIds.Count, "the healthy events were delivered while paced ones still waited");

        Assert.Empty(await kit.WaitSettledAsync(pacedIds, Settle, paced));
        var times = paced.Receipts.Select(r => r.At).Order().ToArray();
        var steady = times.Skip(10).ToArray(); // after the bucket's first burst
        var rate = (steady.Length - 1) / (steady[^1] - steady[0]).TotalSeconds;
        Assert.InRange(rate, 18, 22);
    }
}
