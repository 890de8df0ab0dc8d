using Spectre.Console;

namespace Streaming.Ctl.Output;

/// <summary>One column of a listing: its header and whether it may be shortened to fit.</summary>
public sealed record Column(string Header, bool Shortenable = false);

/// <summary>
/// Prints a listing. To a terminal: a table whose cells never wrap, as wide as its content needs
/// (shortenable columns give way first). Anywhere else (a pipe, a file, a test): one record per line,
/// plain columns aligned with spaces the way kubectl prints, so `grep`, `awk` and `cut` see whole
/// values. Values are never cut except in shortenable columns; an empty value prints as "-" so
/// columns stay countable.
/// </summary>
public static class Columns
{
    private const string Gap = "   ";

    /// <summary>Longest a shortenable value gets: a pipe has no width, a terminal gets what is left after the other columns.</summary>
    public const int ShortenedWidth = 48;

    public static void Write(CtlContext ctx, IReadOnlyList<Column> columns, IEnumerable<string?[]> rows) =>
        Write(ctx.Out, ctx.Console, IsTerminal(ctx.Out), columns, rows);

    public static void Write(TextWriter writer, IAnsiConsole console, bool terminal, IReadOnlyList<Column> columns, IEnumerable<string?[]> rows)
    {
        var cells = rows.Select(r => columns.Select((c, i) => Cell(i < r.Length ? r[i] : null)).ToArray()).ToArray();
        if (terminal)
        {
            WriteTable(console, columns, cells);
        }
        else
        {
            WritePlain(writer, columns, cells);
        }
    }

    /// <summary>Only the process's own stdout, undirected, is a terminal: a StringWriter or a pipe is not.</summary>
    public static bool IsTerminal(TextWriter writer) => ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected;

    public static string Shorten(string text, int width) =>
        text.Length <= width ? text : width <= 3 ? text[..width] : text[..(width - 3)] + "...";

    private static string Cell(string? value)
    {
        // A value on one line, whatever it holds: a record is a line.
        var flat = (value ?? "").ReplaceLineEndings(" ").Replace('\t', ' ').Trim();
        return flat.Length == 0 ? "-" : flat;
    }

    private static void WritePlain(TextWriter writer, IReadOnlyList<Column> columns, string[][] cells)
    {
        var shown = cells.Select(r => r.Select((v, i) => columns[i].Shortenable ? Shorten(v, ShortenedWidth) : v).ToArray()).ToArray();
        var headers = columns.Select(c => c.Header.ToUpperInvariant().Replace(' ', '_')).ToArray();
        var widths = headers.Select((h, i) => shown.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        writer.WriteLine(Line(headers, widths));
        foreach (var row in shown)
        {
            writer.WriteLine(Line(row, widths));
        }
    }

    private static string Line(string[] values, int[] widths) =>
        string.Join(Gap, values.Select((v, i) => i == values.Length - 1 ? v : v.PadRight(widths[i]))).TrimEnd();

    private static void WriteTable(IAnsiConsole console, IReadOnlyList<Column> columns, string[][] cells)
    {
        var available = TerminalWidth() ?? console.Profile.Width;
        var fixedWidth = 1 + columns.Select((c, i) => c.Shortenable ? 3 : 3 + cells.Select(r => r[i].Length).Append(c.Header.Length).Max()).Sum();
        var shortenables = Math.Max(1, columns.Count(c => c.Shortenable));
        var shortened = Math.Max(20, Math.Min(ShortenedWidth, (available - fixedWidth) / shortenables));
        var table = new Table();
        foreach (var column in columns)
        {
            table.AddColumn(new TableColumn(Markup.Escape(column.Header)).NoWrap());
        }

        foreach (var row in cells)
        {
            table.AddRow(row.Select((v, i) => Markup.Escape(columns[i].Shortenable ? Shorten(v, shortened) : v)).ToArray());
        }

        // Wide enough for every unshortened cell: a narrow terminal folds the line, it never cuts an id.
        var needed = fixedWidth + (columns.Count(c => c.Shortenable) * (shortened + 3));
        var before = console.Profile.Width;
        console.Profile.Width = Math.Max(available, needed);
        console.Write(table);
        console.Profile.Width = before;
    }

    private static int? TerminalWidth()
    {
        try
        {
            return Console.WindowWidth is > 0 and var width ? width : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
