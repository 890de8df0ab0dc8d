using Microsoft.Extensions.Configuration;
using Streaming.Contracts;
using Streaming.Ctl;
using Streaming.Testing;

namespace Streaming.Worker.Tests.Destinations;

/// <summary>Routing through a live worker: the default, unroutable events, a reloaded table and a refused one, start-up errors.</summary>
public sealed class DestinationRoutingTests
{
    private const string AcmeSecret = "whsec_YWNtZS1kZXN0aW5hdGlvbi1zaWduaW5nLWtleS0xMjM0";
    private const string BetaSecret = "whsec_YmV0YS1kZXN0aW5hdGlvbi1zaWduaW5nLWtleS01Njc4";
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    private static string Table(params (string Name, string Phone, DownstreamStub Stub, string Secret)[] destinations) =>
        "destinations:\n" + string.Concat(destinations.Select(d => $"""
              - name: {d.Name}
                phoneNumberIds: ["{d.Phone}"]
                messagesUrl: {d.Stub.LaneUrl(Lane.Messages)}
                signingSecret: {d.Secret}

            """));

    [Fact]
    public async Task Unmatched_events_go_to_the_default_destination_by_phone_number_id_then_waba_id()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        using var kit = new DestinationKit(scenario);
        await using var acme = await DownstreamStub.StartAsync(AcmeSecret);
        kit.Write(Table(("acme", "2001", acme, AcmeSecret)) + """
                wabaIds: ["waba-acme"]
            """);
        await scenario.StartWorkerAsync(Lane.Messages, ("DESTINATIONS_FILE", kit.File));

        kit.Produce("2001", ["wamid.by-phone"], wabaId: "waba-other");
        kit.Produce("9999", ["wamid.by-waba"], wabaId: "waba-acme");
        kit.Produce("9999", ["wamid.unmatched"], wabaId: "waba-other");
        Assert.Empty(await kit.WaitSettledAsync(["wamid.by-phone", "wamid.by-waba", "wamid.unmatched"], Settle, acme, scenario.Stub));
        Assert.Equal(["wamid.by-phone", "wamid.by-waba"], acme.Delivered.Order());
        Assert.Equal(["wamid.unmatched"], scenario.Stub.Delivered);
        Assert.All(acme.Receipts.Concat(scenario.Stub.Receipts), r => Assert.True(r.SignatureValid));
    }

    [Fact]
    public async Task With_no_default_an_unmatched_event_is_dead_lettered_unroutable_and_replays_once_the_table_routes_it()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        using var kit = new DestinationKit(scenario);
        await using var acme = await DownstreamStub.StartAsync(AcmeSecret);
        kit.Write(Table(("acme", "2001", acme, AcmeSecret)));
        var worker = await scenario.StartWorkerAsync(Lane.Messages,
            ("DESTINATIONS_FILE", kit.File), ("DELIVERY_URL", null), ("DELIVERY_SIGNING_SECRET", null), ("DESTINATIONS_RELOAD_SECONDS", "0.5"));

        kit.Produce("2002", ["wamid.nobody"]);
        var letter = await Poll.UntilAsync(() => Task.FromResult(scenario.DeadLetters(Lane.Messages)), l => l.Count > 0, Settle, "the unroutable dead letter");
        Assert.Equal(DeadLetterReasons.Unroutable, letter.Single().Letter.Reason);
        Assert.Null(letter.Single().Letter.Destination);
        Assert.Empty(acme.Receipts);
        Assert.Equal(1, MetricsText.Value(await worker.Client.GetStringAsync("/metrics"), "whatsapp_worker_dead_lettered_total{lane=\"messages\",reason=\"unroutable\"}"));

        // The table is fixed: 2002 belongs to acme now; a replay of the unroutable letters delivers it there.
        kit.Write(Table(("acme", "2001", acme, AcmeSecret)).Replace("[\"2001\"]", "[\"2001\", \"2002\"]"));
        await Poll.UntilAsync(async () => MetricsText.Value(await worker.Client.GetStringAsync("/metrics"), "whatsapp_worker_destination_table_reloads_total{lane=\"messages\",result=\"applied\"}"),
            v => v >= 1, Settle, "the fixed table to be applied");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(scenario.Broker.Settings(("RETRY_DELAYS", scenario.RetryDelays))).Build();
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.Equal(0, await Cli.RunAsync(["dlq", "replay", "--lane", "messages", "--reason", "unroutable"], configuration, stdout, stderr));
        await Poll.UntilAsync(() => acme.Delivered.Contains("wamid.nobody"), Settle, "the replayed event at acme");
    }

    [Fact]
    public async Task A_changed_file_is_in_force_without_a_restart_and_an_invalid_one_is_refused_whole()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        using var kit = new DestinationKit(scenario);
        await using var acme = await DownstreamStub.StartAsync(AcmeSecret);
        await using var beta = await DownstreamStub.StartAsync(BetaSecret);
        kit.Write(Table(("acme", "3001", acme, AcmeSecret)));
        // The default reload interval (2 s): a change is in force well within the 10 s the contract gives.
        var worker = await scenario.StartWorkerAsync(Lane.Messages, ("DESTINATIONS_FILE", kit.File));
        kit.Produce("3001", ["wamid.before"]);
        await Poll.UntilAsync(() => acme.Delivered.Contains("wamid.before"), Settle, "delivery to acme");

        // 3001 moves to beta, whose secret comes from a file.
        var betaSecretFile = kit.WriteSecret("beta.secret", BetaSecret);
        kit.Write($"""
            destinations:
              - name: acme
                phoneNumberIds: ["3002"]
                messagesUrl: {acme.LaneUrl(Lane.Messages)}
                signingSecret: {AcmeSecret}
              - name: beta
                phoneNumberIds: ["3001"]
                messagesUrl: {beta.LaneUrl(Lane.Messages)}
                signingSecretFile: {betaSecretFile}
            """);
        var n = 0;
        await Poll.UntilAsync(() =>
        {
            kit.Produce("3001", [$"wamid.after.{n++}"]);
            return beta.Delivered.Count > 0;
        }, Settle, "an event for 3001 to reach beta");
        Assert.All(beta.Receipts, r => Assert.True(r.SignatureValid));

        // An invalid file (a bad name and a missing secret file): refused whole, beta stays in force.
        kit.Write(Table(("Acme", "3001", acme, AcmeSecret)).Replace("signingSecret: " + AcmeSecret, "signingSecretFile: missing.secret"));
        var metrics = await Poll.UntilAsync(() => worker.Client.GetStringAsync("/metrics"),
            m => MetricsText.Value(m, "whatsapp_worker_destination_table_valid{lane=\"messages\"}") == 0, Settle, "the refused file to show in the metrics");
        Assert.Equal(1, MetricsText.Value(metrics, "whatsapp_worker_destination_table_refused_total{lane=\"messages\",problem=\"name\"}"));
        Assert.Equal(1, MetricsText.Value(metrics, "whatsapp_worker_destination_table_refused_total{lane=\"messages\",problem=\"secret\"}"));
        Assert.DoesNotContain(AcmeSecret[6..], metrics);
        Assert.DoesNotContain(BetaSecret[6..], metrics);
        var before = beta.Delivered.Count;
        kit.Produce("3001", ["wamid.while-refused"]);
        await Poll.UntilAsync(() => beta.Delivered.Contains("wamid.while-refused"), Settle, "delivery to beta under the last good table");
        Assert.DoesNotContain("wamid.while-refused", acme.Delivered);
    }

    [Fact]
    public async Task A_worker_with_an_invalid_destinations_file_names_the_problem_in_one_line_and_exits_2()
    {
        using var kit = new DestinationKit(await PipelineScenario.StartAsync());
        kit.Write($"""
            destinations:
              - name: acme
                phoneNumberIds: ["4001"]
                messagesUrl: http://127.0.0.1:1/messages
                signingSecret: {AcmeSecret}
              - name: beta
                phoneNumberIds: ["4001"]
                messagesUrl: http://127.0.0.1:1/messages
                signingSecret: {BetaSecret}
            """);
        using var process = ServiceProcess.Start("Streaming.Worker.dll", new Dictionary<string, string?>
        {
            ["DOTNET_ENVIRONMENT"] = "Production", ["KAFKA_BOOTSTRAP_SERVERS"] = "127.0.0.1:1", ["WORKER_PORT"] = "0", ["WORKER_LANE"] = "messages",
            ["DESTINATIONS_FILE"] = kit.File,
        });
        var code = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(2, code);
        var lines = process.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var line = Assert.Single(lines);
        Assert.Equal($"worker: configuration error: DESTINATIONS_FILE {kit.File}: destination 'beta': phoneNumberIds 4001 is already routed to 'acme'", line);
        Assert.DoesNotContain(AcmeSecret[6..], process.Output);
        Assert.DoesNotContain(BetaSecret[6..], process.Output);
    }
}
