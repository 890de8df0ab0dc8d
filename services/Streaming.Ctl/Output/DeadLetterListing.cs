using System.Globalization;
using Streaming.Ctl.DeadLetters;

namespace Streaming.Ctl.Output;

/// <summary>
/// `dlq list` without --json: one dead letter per line. The event id and the key are whole (an id is
/// what an operator copies into `dlq replay --event-id`); the error text is what gets shortened,
/// and it comes last, so the columns before it split on whitespace.
/// </summary>
public static class DeadLetterListing
{
    public static readonly IReadOnlyList<Column> Columns =
    [
        new("position"), new("failed at"), new("reason"), new("status"), new("attempts"),
        new("event id"), new("key"), new("replayed"), new("error", Shortenable: true),
    ];

    public static void Write(CtlContext ctx, IEnumerable<DeadLetterEntry> entries) =>
        Output.Columns.Write(ctx, Columns, entries.Select(Row));

    public static string?[] Row(DeadLetterEntry e)
    {
        var l = e.Letter;
        return
        [
            e.Position, Time(l?.LastFailedAt ?? e.Timestamp), l?.Reason ?? "unreadable", l?.LastStatusCode?.ToString(CultureInfo.InvariantCulture),
            l?.Attempts.ToString(CultureInfo.InvariantCulture), l?.EventId, l?.Key, e.ReplayedAt is { } at ? Time(at) : null, l?.Error ?? e.ParseError,
        ];
    }

    /// <summary>ISO 8601 without a space, so a time is one field.</summary>
    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
