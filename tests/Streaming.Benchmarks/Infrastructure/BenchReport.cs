using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Streaming.Benchmarks.Infrastructure;

/// <summary>What one benchmark produced: tables, headline lines, notes (what was cut down and why) and raw extras.</summary>
public sealed class BenchReport(string name, string title)
{
    public string Name { get; } = name;

    public string Title { get; } = title;

    public List<ResultTable> Tables { get; } = [];

    /// <summary>The numbers that matter, one line each (e.g. a ratio).</summary>
    public List<string> Headlines { get; } = [];

    public List<string> Notes { get; } = [];

    public string? Error { get; set; }

    public TimeSpan Duration { get; set; }

    public ResultTable Table(string title, params Column[] columns)
    {
        var table = new ResultTable(title, columns);
        Tables.Add(table);
        return table;
    }

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine($"### {Title} (`{Name}`)").AppendLine();
        if (Error is not null)
        {
            text.AppendLine($"**Did not complete:** {Error}").AppendLine();
        }

        foreach (var table in Tables)
        {
            text.AppendLine(table.ToMarkdown());
        }

        foreach (var line in Headlines)
        {
            text.AppendLine($"- **{line}**");
        }

        if (Headlines.Count > 0)
        {
            text.AppendLine();
        }

        foreach (var note in Notes)
        {
            text.AppendLine($"- {note}");
        }

        text.AppendLine().AppendLine($"_Took {Duration.TotalSeconds:0} s._");
        return text.ToString();
    }

    public JsonObject ToJson(MachineInfo machine, BenchOptions options) => new()
    {
        ["benchmark"] = Name,
        ["title"] = Title,
        ["machine"] = machine.ToJson(),
        ["quick"] = options.Quick,
        ["durationSeconds"] = Math.Round(Duration.TotalSeconds, 1),
        ["error"] = Error,
        ["headlines"] = new JsonArray(Headlines.Select(h => (JsonNode?)JsonValue.Create(h)).ToArray()),
        ["notes"] = new JsonArray(Notes.Select(n => (JsonNode?)JsonValue.Create(n)).ToArray()),
        ["tables"] = new JsonArray(Tables.Select(t => (JsonNode?)TableJson(t)).ToArray()),
    };

    private static JsonObject TableJson(ResultTable table) => new()
    {
        ["title"] = table.Title,
        ["columns"] = new JsonArray(table.Columns.Select(c => (JsonNode?)new JsonObject { ["key"] = c.Key, ["header"] = c.Header }).ToArray()),
        ["rows"] = new JsonArray(table.Rows.Select(r => (JsonNode?)new JsonObject(r.Select(kv =>
            KeyValuePair.Create(kv.Key, kv.Value is null ? null : JsonSerializer.SerializeToNode(Round(kv.Value)))))).ToArray()),
    };

    private static object Round(object value) => value is double d ? (double.IsFinite(d) ? Math.Round(d, 3) : "n/a") : value;
}
