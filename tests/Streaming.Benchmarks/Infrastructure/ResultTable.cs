using System.Globalization;
using System.Text;

namespace Streaming.Benchmarks.Infrastructure;

/// <summary>How a column's values are printed in the markdown table (JSON keeps the raw value).</summary>
public enum Format
{
    Text,
    Integer,
    Rate,
    Millis,
    Ratio,
    Percent,
    MiB,
}

public sealed record Column(string Key, string Header, Format Format = Format.Text);

/// <summary>One benchmark table: typed rows for JSON, formatted cells for markdown.</summary>
public sealed class ResultTable(string title, params Column[] columns)
{
    private readonly List<Dictionary<string, object?>> _rows = [];

    public string Title { get; } = title;

    public IReadOnlyList<Column> Columns { get; } = columns;

    public IReadOnlyList<Dictionary<string, object?>> Rows => _rows;

    public void Add(params (string Key, object? Value)[] cells)
    {
        var row = new Dictionary<string, object?>();
        foreach (var (key, value) in cells)
        {
            if (Columns.All(c => c.Key != key))
            {
                throw new ArgumentException($"table '{Title}' has no column '{key}'");
            }

            row[key] = value;
        }

        _rows.Add(row);
    }

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine($"**{Title}**").AppendLine();
        text.Append("| ").AppendJoin(" | ", Columns.Select(c => c.Header)).AppendLine(" |");
        text.Append("| ").AppendJoin(" | ", Columns.Select(c => c.Format == Format.Text ? "---" : "---:")).AppendLine(" |");
        foreach (var row in _rows)
        {
            text.Append("| ").AppendJoin(" | ", Columns.Select(c => Cell(c, row.GetValueOrDefault(c.Key)))).AppendLine(" |");
        }

        return text.ToString();
    }

    public static string Cell(Column column, object? value) => value switch
    {
        null => "—",
        string s => s,
        double d when double.IsNaN(d) || double.IsInfinity(d) => "—",
        _ => FormatNumber(column.Format, Convert.ToDouble(value, CultureInfo.InvariantCulture)),
    };

    private static string FormatNumber(Format format, double v) => format switch
    {
        Format.Integer => v.ToString("#,0", CultureInfo.InvariantCulture),
        Format.Rate => v >= 100 ? v.ToString("#,0", CultureInfo.InvariantCulture) : v.ToString("0.0", CultureInfo.InvariantCulture),
        Format.Millis => v >= 100 ? v.ToString("#,0", CultureInfo.InvariantCulture) : v >= 10 ? v.ToString("0.0", CultureInfo.InvariantCulture) : v.ToString("0.00", CultureInfo.InvariantCulture),
        Format.Ratio => v >= 10 ? v.ToString("0.0", CultureInfo.InvariantCulture) : v.ToString("0.00", CultureInfo.InvariantCulture),
        Format.Percent => v.ToString("0.0", CultureInfo.InvariantCulture) + " %",
        Format.MiB => v.ToString("0.0", CultureInfo.InvariantCulture),
        _ => v.ToString(CultureInfo.InvariantCulture),
    };
}
