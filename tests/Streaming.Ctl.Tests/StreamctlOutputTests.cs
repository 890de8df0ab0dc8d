using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Streaming.Contracts;
using Streaming.Ctl.Output;
using Streaming.Testing;

namespace Streaming.Ctl.Tests;

/// <summary>
/// streamctl's output as people read and pipe it: `make ctl ARGS="dlq list ..." | grep &lt;id&gt;` finds
/// the id whole, one record per line; `lag` sums per group and topic unless asked for partitions.
/// (Here stdout is a StringWriter, not a terminal: the plain, kubectl-like form.)
/// </summary>
[Collection(SharedKafkaContainer.Collection)]
public sealed class StreamctlOutputTests
{
    // Real wamids are base64 of about 40 bytes: longer than any table cell of a fixed 160 columns.
    private const string LongId = "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFDNBMDFFQzU1QjY0RTJBNzM4QTZEAA==";
    private const string StatusId = "wamid.HBgMNDQ3NzAwOTAwNDU2FQIAERgSMkE5QzFGNjBDRTQ0QjdBQjU2AA==:delivered";

    private sealed record Run(int ExitCode, string Out, string Error);

    private static async Task<Run> Ctl(PipelineScenario scenario, params string[] args)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(scenario.Broker.Settings(("RETRY_DELAYS", scenario.RetryDelays))).Build();
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await Cli.RunAsync(args, configuration, stdout, stderr);
        return new Run(code, stdout.ToString(), stderr.ToString());
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [Fact]
    public async Task Dlq_list_piped_prints_one_record_per_line_with_whole_ids_that_grep_finds()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        var error = "connection error: " + string.Concat(Enumerable.Repeat("the endpoint said something long and unhelpful; ", 6)) + "END-OF-ERROR";
        DeadLetter(scenario, LongId, "5511987654321", error);
        DeadLetter(scenario, StatusId, "447700900456", "HTTP 404 Not Found");

        var list = await Ctl(scenario, "dlq", "list", "--lane", "messages");
        Assert.True(list.ExitCode == 0, list.Error);
        var lines = Lines(list.Out);
        Assert.Equal(4, lines.Length); // header, two records, the count
        Assert.StartsWith("POSITION", lines[0]);
        Assert.Equal("2 dead letters (2 not replayed)", lines[3]);

        var record = Assert.Single(Grep(list.Out, LongId));
        var fields = record.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // position, failed at, reason, status, attempts, event id, key, replayed, error...
        Assert.Equal(LongId, fields[5]);
        Assert.Equal("5511987654321", fields[6]);
        Assert.Equal("-", fields[7]);
        Assert.DoesNotContain("END-OF-ERROR", record);
        Assert.Contains("connection error: the endpoint", record);
        Assert.EndsWith("...", record);
        Assert.Equal(StatusId, Assert.Single(Grep(list.Out, StatusId)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[5]);

        // Every record's columns start where the header's do.
        var idColumn = lines[0].IndexOf("EVENT_ID", StringComparison.Ordinal);
        Assert.Equal(idColumn, lines[1].IndexOf("wamid.", StringComparison.Ordinal));
        Assert.Equal(idColumn, lines[2].IndexOf("wamid.", StringComparison.Ordinal));

        // What the operator copies from the list replays that letter.
        var dry = await Ctl(scenario, "dlq", "replay", "--lane", "messages", "--event-id", fields[5], "--dry-run");
        Assert.Contains("1 would be replayed", dry.Out);
    }

    [Fact]
    public async Task Lag_sums_per_group_and_topic_by_default_partitions_gives_every_partition_and_json_keeps_every_row()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        scenario.Produce(Lane.Statuses, Enumerable.Range(0, 30).Select(i => ($"lag-{i}", $"k{i % 6}")));
        var lane = scenario.Topology[Lane.Statuses];
        var topics = new[] { lane.Main.Name }.Concat(lane.RetryTiers.Select(t => t.Name)).ToArray();

        var json = JsonDocument.Parse((await Ctl(scenario, "lag", "--lane", "statuses", "--json")).Out).RootElement.EnumerateArray().ToArray();
        var mainRows = json.Where(r => r.GetProperty("topic").GetString() == lane.Main.Name).ToArray();
        Assert.Equal(topics.Sum(t => scenario.Topology.Find(t)!.Partitions), json.Length);
        Assert.Equal(30, mainRows.Sum(r => r.GetProperty("lag").GetInt64()));
        var withLag = mainRows.Count(r => r.GetProperty("lag").GetInt64() > 0);
        Assert.InRange(withLag, 1, mainRows.Length);

        var summary = Lines((await Ctl(scenario, "lag", "--lane", "statuses")).Out);
        Assert.Equal(["GROUP", "TOPIC", "PARTITIONS", "WITH_LAG", "LAG"], Fields(summary[0]));
        var topicRows = summary.Skip(1).Where(l => !l.Contains("total lag", StringComparison.Ordinal)).Select(Fields).ToArray();
        Assert.Equal(topics, topicRows.Select(r => r[1]));
        Assert.Equal([scenario.Topology.ConsumerGroup(Lane.Statuses), lane.Main.Name, mainRows.Length.ToString(), withLag.ToString(), "30"], topicRows[0]);
        Assert.All(topicRows.Skip(1), r => Assert.Equal(["0", "0"], r[3..]));
        Assert.Contains($"{scenario.Topology.ConsumerGroup(Lane.Statuses)}: total lag 30", summary);

        var partitions = Lines((await Ctl(scenario, "lag", "--lane", "statuses", "--partitions")).Out);
        Assert.Equal(["GROUP", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG"], Fields(partitions[0]));
        var partitionRows = partitions.Skip(1).Where(l => !l.Contains("total lag", StringComparison.Ordinal)).Select(Fields).ToArray();
        Assert.Equal(json.Length, partitionRows.Length);
        Assert.Equal(30, partitionRows.Where(r => r[1] == lane.Main.Name).Sum(r => long.Parse(r[5])));
        Assert.All(partitionRows, r => Assert.Equal("-", r[3])); // nothing committed yet

        // --json is every partition's row whether or not --partitions is given.
        Assert.Equal(json.Length, JsonDocument.Parse((await Ctl(scenario, "lag", "--lane", "statuses", "--json", "--partitions")).Out).RootElement.GetArrayLength());
    }

    [Fact]
    public void A_terminal_table_never_wraps_or_cuts_an_id_and_shortens_the_error_instead()
    {
        var writer = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
        {
            Out = new Spectre.Console.AnsiConsoleOutput(writer),
            Ansi = Spectre.Console.AnsiSupport.No,
            ColorSystem = Spectre.Console.ColorSystemSupport.NoColors,
        });
        console.Profile.Width = 80;
        Columns.Write(writer, console, terminal: true, [new("event id"), new("key"), new("error", Shortenable: true)],
            [[LongId, "5511987654321", new string('e', 200) + "END"]]);

        var row = Assert.Single(Lines(writer.ToString()), l => l.Contains("wamid.", StringComparison.Ordinal));
        Assert.Contains(LongId, row);
        Assert.DoesNotContain("END", row);
        Assert.Contains("...", row);
    }

    private static string[] Fields(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private static void DeadLetter(PipelineScenario scenario, string eventId, string key, string error)
    {
        var letter = new DeadLetter
        {
            Reason = DeadLetterReasons.RetriesExhausted,
            Lane = "messages",
            EventId = eventId,
            SourceTopic = scenario.Topology[Lane.Messages].RetryTiers[^1].Name,
            SourcePartition = 0,
            SourceOffset = 7,
            OriginTopic = scenario.Topology[Lane.Messages].Main.Name,
            Attempts = 3,
            LastFailedAt = DateTimeOffset.UtcNow,
            LastStatusCode = 503,
            Error = error,
            Key = key,
            OriginalValue = PipelineScenario.Envelope(Lane.Messages, eventId, key),
            OriginalHeaders = new Dictionary<string, string> { [HeaderNames.EventId] = eventId },
        };
        scenario.ProduceRaw(scenario.Topology[Lane.Messages].DeadLetter.Name, key, JsonSerializer.SerializeToUtf8Bytes(letter, ContractsJsonContext.Default.DeadLetter));
    }

    /// <summary>The real grep, as in `make ctl ARGS="dlq list ..." | grep &lt;id&gt;`.</summary>
    private static string[] Grep(string input, string pattern)
    {
        var start = new ProcessStartInfo("grep") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("-F");
        start.ArgumentList.Add("--");
        start.ArgumentList.Add(pattern);
        using var grep = Process.Start(start)!;
        var output = grep.StandardOutput.ReadToEndAsync();
        grep.StandardInput.Write(input);
        grep.StandardInput.Close();
        grep.WaitForExit();
        return Lines(output.GetAwaiter().GetResult());
    }
}
