using System.Globalization;

namespace Streaming.Kafka;

/// <summary>Parses operator-friendly duration lists such as <c>5s,30s,5m,30m</c> (units ms, s, m, h, d).</summary>
public static class DurationList
{
    public static IReadOnlyList<TimeSpan> Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new FormatException("expected a comma-separated list of durations such as 5s,30s,5m,30m");
        }

        return text.Split(',', StringSplitOptions.TrimEntries).Select(ParseOne).ToArray();
    }

    public static TimeSpan ParseOne(string item)
    {
        var unitStart = item.Length;
        while (unitStart > 0 && char.IsLetter(item[unitStart - 1]))
        {
            unitStart--;
        }

        var unit = item[unitStart..].ToLowerInvariant();
        if (!double.TryParse(item[..unitStart], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || amount <= 0)
        {
            throw new FormatException($"'{item}' is not a positive duration (e.g. 500ms, 5s, 5m, 1h)");
        }

        return unit switch
        {
            "ms" => TimeSpan.FromMilliseconds(amount),
            "s" => TimeSpan.FromSeconds(amount),
            "m" => TimeSpan.FromMinutes(amount),
            "h" => TimeSpan.FromHours(amount),
            "d" => TimeSpan.FromDays(amount),
            _ => throw new FormatException($"'{item}' has no unit: use ms, s, m, h or d"),
        };
    }

    /// <summary>The shortest form that parses back to the same value: used in topic names (retry.5s).</summary>
    public static string Format(TimeSpan value) =>
        value.TotalMilliseconds % 1000 != 0 ? $"{value.TotalMilliseconds:0}ms"
        : value.TotalSeconds % 60 != 0 || value.TotalSeconds < 60 ? $"{value.TotalSeconds:0}s"
        : value.TotalMinutes % 60 != 0 || value.TotalMinutes < 60 ? $"{value.TotalMinutes:0}m"
        : value.TotalHours % 24 != 0 || value.TotalHours < 24 ? $"{value.TotalHours:0}h"
        : $"{value.TotalDays:0}d";
}
