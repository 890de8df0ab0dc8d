using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Streaming.FaultInjection.Tests;

/// <summary>One run of one scenario, as the soak books it.</summary>
public sealed record SoakRun(string Scenario, int Run, bool Passed, LedgerResult Result, string? Diagnosis);

/// <summary>
/// The soak's books (make soak): with SOAK_LEDGER_DIR set, every scenario run appends one JSON line to
/// runs.jsonl there and re-renders table.md, one row per scenario over its runs, so the table is current
/// (and honest about partial runs) at any moment. Without it (make test) nothing is written.
/// </summary>
public static class SoakLedger
{
    public const string DirectoryVariable = "SOAK_LEDGER_DIR";
    public const string RunsVariable = "SOAK_RUNS";
    public const string FirstRunVariable = "SOAK_FIRST_RUN";

    private static readonly object Gate = new();
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>How many times each scenario theory runs: 1 in CI, SOAK_RUNS in the soak.</summary>
    public static int Runs => int.TryParse(Environment.GetEnvironmentVariable(RunsVariable), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 1;

    /// <summary>The soak runs scenarios in blocks; this numbers a block's runs on from the previous ones.</summary>
    public static int FirstRun => int.TryParse(Environment.GetEnvironmentVariable(FirstRunVariable), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 1;

    /// <summary>The theory data of every fault scenario: run numbers FirstRun..FirstRun+Runs-1 (just 1 in make test).</summary>
    public static IEnumerable<object[]> RunNumbers => Enumerable.Range(FirstRun, Runs).Select(i => new object[] { i });

    /// <summary>A column of the table: its header and how it sums up one scenario's runs.</summary>
    public sealed record Column(string Header, Func<IReadOnlyList<SoakRun>, string> Value);

    public static readonly IReadOnlyList<Column> Columns =
    [
        new("runs", r => r.Count.ToString(CultureInfo.InvariantCulture)),
        new("failed runs", r => r.Count(x => !x.Passed).ToString(CultureInfo.InvariantCulture)),
        new("accepted", r => Sum(r, x => x.Accepted)),
        new("delivered", r => Sum(r, x => x.Delivered)),
        new("dead-lettered", r => Sum(r, x => x.DeadLettered)),
        new("duplicates max / median per run", r => $"{r.Max(x => x.Result.Duplicates)} / {Median(r.Select(x => x.Result.Duplicates))}"),
        new("missing", r => Sum(r, x => x.Missing.Count)),
        new("unverified acks: ingress (503s) / worker moves", r => $"{Sum(r, x => x.UnverifiedAcks)} ({Sum(r, x => x.UnverifiedRefusals)}) / {Sum(r, x => x.UnverifiedMoves)}"),
        new("503s", r => Sum(r, x => x.Refused)),
        new("out-of-order per conversation (every delivery)", r => Sum(r, x => x.OutOfOrderPerKey)),
        new("not delivered: duplicate / superseded (counted, not lost)", r => Sum(r, x => x.NotDelivered)),
    ];

    public static void Record(SoakRun run)
    {
        var directory = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (string.IsNullOrWhiteSpace(directory))
        {
            return;
        }

        lock (Gate)
        {
            Directory.CreateDirectory(directory);
            var runs = Path.Combine(directory, "runs.jsonl");
            File.AppendAllText(runs, JsonSerializer.Serialize(run, Json) + "\n");
            var all = File.ReadAllLines(runs).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<SoakRun>(l, Json)!).ToList();
            File.WriteAllText(Path.Combine(directory, "table.md"), Render(all));
        }
    }

    /// <summary>The fuzzer's line under the table.</summary>
    public static void RecordFuzz(string summary)
    {
        var directory = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (!string.IsNullOrWhiteSpace(directory))
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(Path.Combine(directory, "fuzz.md"), $"Fuzzer: {summary}\n");
        }
    }

    public static string Render(IReadOnlyList<SoakRun> runs)
    {
        var text = new StringBuilder();
        text.AppendLine("| scenario | " + string.Join(" | ", Columns.Select(c => c.Header)) + " |");
        text.AppendLine("| --- |" + string.Concat(Columns.Select(_ => " ---: |")));
        foreach (var scenario in runs.GroupBy(r => r.Scenario).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var list = scenario.ToList();
            text.AppendLine($"| {scenario.Key} | " + string.Join(" | ", Columns.Select(c => c.Value(list))) + " |");
        }

        var all = runs.ToList();
        if (all.Count > 0)
        {
            text.AppendLine("| **all** | " + string.Join(" | ", Columns.Select(c => c.Value(all))) + " |");
        }

        foreach (var failed in runs.Where(r => !r.Passed))
        {
            text.AppendLine();
            text.AppendLine($"- {failed.Scenario} run {failed.Run} failed: {failed.Result}");
            if (failed.Diagnosis is { Length: > 0 } diagnosis)
            {
                text.AppendLine("  " + diagnosis.Replace("\n", "\n  ", StringComparison.Ordinal));
            }
        }

        return text.ToString();
    }

    private static string Sum(IEnumerable<SoakRun> runs, Func<LedgerResult, long> value) =>
        runs.Sum(r => value(r.Result)).ToString(CultureInfo.InvariantCulture);

    private static string Median(IEnumerable<int> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return "0";
        }

        var mid = sorted.Length / 2;
        var median = sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2.0;
        return median.ToString("0.#", CultureInfo.InvariantCulture);
    }
}
