using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Streaming.Contracts;
using Streaming.Testing;

namespace Streaming.Ctl.Tests;

/// <summary>streamctl destinations list (never a secret) and the --destination filter of dlq list/replay.</summary>
public sealed class DestinationsCommandTests : IDisposable
{
    private const string Secret = "whsec_Y3RsLXRlc3Qtc2lnbmluZy1rZXktbmV2ZXItcHJpbnRlZA==";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ctl-destinations-" + Guid.NewGuid().ToString("N"));

    public DestinationsCommandTests() => Directory.CreateDirectory(_directory);

    private sealed record Run(int ExitCode, string Out, string Error);

    private static async Task<Run> Ctl(Dictionary<string, string?> settings, params string[] args)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await Cli.RunAsync(args, configuration, stdout, stderr);
        return new Run(code, stdout.ToString(), stderr.ToString());
    }

    private string File(string yaml)
    {
        var path = Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".yaml");
        System.IO.File.WriteAllText(path, yaml);
        return path;
    }

    private string ValidFile() => File($"""
        destinations:
          - name: acme
            phoneNumberIds: ["106540352242922"]
            messagesUrl: https://acme.example/wa/messages
            statusesUrl: https://acme.example/wa/statuses
            signingSecret: {Secret}
            maxConcurrency: 8
          - name: brand-2
            wabaIds: ["102290129340398"]
            statusesUrl: https://brand2.example/statuses
            signingSecretFile: /run/secrets/not-mounted-here
            maxRatePerSecond: 50
        """);

    [Fact]
    public async Task Destinations_list_shows_names_matches_and_urls_but_never_a_secret()
    {
        var file = ValidFile();
        var table = await Ctl(new() { ["DESTINATIONS_FILE"] = file }, "destinations", "list");
        Assert.True(table.ExitCode == 0, table.Error);
        foreach (var expected in new[] { "acme", "phone 106540352242922", "https://acme.example/wa/messages", "brand-2", "waba 102290129340398",
            "https://brand2.example/statuses", "inline", "file /run/secrets/not-mounted-here", "2 destinations from" })
        {
            Assert.Contains(expected, table.Out);
        }

        var json = await Ctl(new() { ["DESTINATIONS_FILE"] = file }, "destinations", "list", "--json");
        Assert.Equal(0, json.ExitCode);
        var views = JsonDocument.Parse(json.Out).RootElement.EnumerateArray().ToArray();
        Assert.Equal(["acme", "brand-2"], views.Select(v => v.GetProperty("name").GetString()));
        Assert.Equal(8, views[0].GetProperty("maxConcurrency").GetInt32());
        Assert.Equal(JsonValueKind.Null, views[1].GetProperty("messagesUrl").ValueKind);
        foreach (var output in new[] { table.Out, table.Error, json.Out, json.Error })
        {
            Assert.DoesNotContain(Secret[6..], output);
        }
    }

    [Fact]
    public async Task Destinations_list_with_worker_metrics_shows_circuit_limit_and_in_flight()
    {
        await using var metrics = await FakeMetricsAsync("""
            # TYPE whatsapp_worker_destination_circuit_state gauge
            whatsapp_worker_destination_circuit_state{lane="messages",destination="acme"} 2
            whatsapp_worker_destination_concurrency_limit{lane="messages",destination="acme"} 3
            whatsapp_worker_destination_in_flight{lane="messages",destination="acme"} 1
            whatsapp_worker_destination_circuit_state{lane="messages",destination="default"} 0
            whatsapp_worker_destination_concurrency_limit{lane="messages",destination="default"} 16
            whatsapp_worker_destination_in_flight{lane="messages",destination="default"} 0
            """);
        var url = metrics.Urls.First() + "/metrics";
        var run = await Ctl(new() { ["DESTINATIONS_FILE"] = ValidFile() }, "destinations", "list", "--json", "--worker-metrics", url, url);
        Assert.True(run.ExitCode == 0, run.Error);
        var views = JsonDocument.Parse(run.Out).RootElement.EnumerateArray().ToDictionary(v => v.GetProperty("name").GetString()!);
        var acme = Assert.Single(views["acme"].GetProperty("live").EnumerateArray());
        Assert.Equal("open", acme.GetProperty("circuit").GetString());
        Assert.Equal(6, acme.GetProperty("limit").GetInt32());
        Assert.Equal(2, acme.GetProperty("inFlight").GetInt32());
        Assert.Empty(views["brand-2"].GetProperty("live").EnumerateArray());
        Assert.Equal("closed", views["default"].GetProperty("live").EnumerateArray().Single().GetProperty("circuit").GetString());

        var table = await Ctl(new() { ["DESTINATIONS_FILE"] = ValidFile() }, "destinations", "list", "--worker-metrics", url);
        Assert.Contains("messages=open", table.Out);
        Assert.Contains("messages=3", table.Out);
    }

    [Fact]
    public async Task Destinations_list_refuses_a_missing_setting_or_an_invalid_file_in_one_line()
    {
        var unset = await Ctl([], "destinations", "list");
        Assert.Equal(CtlException.Usage, unset.ExitCode);
        Assert.Contains("DESTINATIONS_FILE is not set", unset.Error);

        var invalid = await Ctl(new() { ["DESTINATIONS_FILE"] = File($"destinations:\n  - name: ACME\n    messagesUrl: http://x/\n    signingSecret: {Secret}\n") }, "destinations", "list");
        Assert.Equal(CtlException.Usage, invalid.ExitCode);
        Assert.Contains("name must match [a-z0-9-]{1,40}", invalid.Error);
        Assert.Single(invalid.Error.Trim().Split('\n'));
        Assert.DoesNotContain(Secret[6..], invalid.Error);

        var missing = await Ctl(new() { ["DESTINATIONS_FILE"] = Path.Combine(_directory, "absent.yaml") }, "destinations", "list");
        Assert.Equal(CtlException.Usage, missing.ExitCode);
        Assert.Contains("cannot read", missing.Error);
    }

    [Fact]
    public async Task Dlq_list_and_replay_select_one_destinations_dead_letters()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        var lane = scenario.Topology[Lane.Messages];
        foreach (var (id, destination) in new[] { ("wamid.a1", "acme"), ("wamid.a2", "acme"), ("wamid.b1", "brand-2"), ("wamid.u1", null) })
        {
            var letter = new DeadLetter
            {
                Reason = destination is null ? DeadLetterReasons.Unroutable : DeadLetterReasons.RetriesExhausted, Lane = "messages", EventId = id,
                SourceTopic = lane.Main.Name, SourcePartition = 0, SourceOffset = 0, OriginTopic = lane.Main.Name, Attempts = 3,
                LastFailedAt = DateTimeOffset.UtcNow, Key = "49" + id, Destination = destination,
                OriginalValue = PipelineScenario.Envelope(Lane.Messages, id, "49" + id),
                OriginalHeaders = destination is null ? new() { [HeaderNames.EventId] = id } : new() { [HeaderNames.EventId] = id, [HeaderNames.Destination] = destination },
            };
            scenario.ProduceRaw(lane.DeadLetter.Name, letter.Key, JsonSerializer.SerializeToUtf8Bytes(letter, ContractsJsonContext.Default.DeadLetter));
        }

        var settings = scenario.Broker.Settings(("RETRY_DELAYS", scenario.RetryDelays));
        var acme = await Ctl(settings, "dlq", "list", "--lane", "messages", "--destination", "acme", "--json");
        Assert.True(acme.ExitCode == 0, acme.Error);
        Assert.Equal(["wamid.a1", "wamid.a2"], JsonDocument.Parse(acme.Out).RootElement.EnumerateArray()
            .Select(e => e.GetProperty("letter").GetProperty("eventId").GetString()).Order());
        var unroutable = await Ctl(settings, "dlq", "list", "--lane", "messages", "--reason", "unroutable", "--json");
        Assert.Equal("wamid.u1", JsonDocument.Parse(unroutable.Out).RootElement.EnumerateArray().Single().GetProperty("letter").GetProperty("eventId").GetString());

        // While brand-2's own circuit is open on a worker, its replay is refused; acme's is not.
        await using var metrics = await FakeMetricsAsync("""
            whatsapp_worker_circuit_state{lane="messages"} 0
            whatsapp_worker_destination_circuit_state{lane="messages",destination="brand-2"} 2
            whatsapp_worker_destination_circuit_state{lane="messages",destination="acme"} 0
            """);
        var url = metrics.Urls.First() + "/metrics";
        var refused = await Ctl(settings, "dlq", "replay", "--lane", "messages", "--destination", "brand-2", "--worker-metrics", url);
        Assert.Equal(CtlException.Refused, refused.ExitCode);
        Assert.Contains("destination brand-2's circuit is open", refused.Error);

        var replay = await Ctl(settings, "dlq", "replay", "--lane", "messages", "--destination", "acme", "--since", "2h", "--worker-metrics", url);
        Assert.True(replay.ExitCode == 0, replay.Error);
        Assert.Contains("replayed 2 ", replay.Out);
        var replayed = TopicReader.ReadAll(scenario.Broker.BootstrapServers, lane.Main.Name);
        Assert.Equal(["wamid.a1", "wamid.a2"], replayed.Select(r => r.Header(HeaderNames.EventId)).Order());
        // The worker routes a replay afresh: the old destination does not travel with it.
        Assert.All(replayed, r => Assert.Null(r.Header(HeaderNames.Destination)));

        var bad = await Ctl(settings, "dlq", "list", "--lane", "messages", "--destination", "Not A Name");
        Assert.Equal(CtlException.Usage, bad.ExitCode);
        Assert.Contains("--destination 'Not A Name'", bad.Error);
    }

    private static async Task<WebApplication> FakeMetricsAsync(string body)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapGet("/metrics", () => Results.Text(body, "text/plain", Encoding.UTF8));
        await app.StartAsync();
        return app;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
