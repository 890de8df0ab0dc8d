using System.Globalization;

namespace Streaming.Ctl.DeadLetters;

/// <summary>Which dead letters a command is about. Empty filter = all.</summary>
public sealed record DeadLetterFilter(
    IReadOnlyCollection<string> EventIds,
    string? Reason,
    int? StatusCode,
    string? Key,
    DateTimeOffset? Since,
    DateTimeOffset? Until,
    string? Destination = null)
{
    public static readonly string[] Reasons =
    [
        Contracts.DeadLetterReasons.Terminal4xx, Contracts.DeadLetterReasons.RetriesExhausted, Contracts.DeadLetterReasons.Poison,
        Contracts.DeadLetterReasons.ProcessingError, Contracts.DeadLetterReasons.OrderBlocked,
        Contracts.DeadLetterReasons.Unroutable, Contracts.DeadLetterReasons.DestinationSaturated,
    ];

    public bool IsEmpty => EventIds.Count == 0 && Reason is null && StatusCode is null && Key is null && Since is null && Until is null && Destination is null;

    public static DeadLetterFilter Create(IReadOnlyCollection<string>? eventIds, string? reason, int? status, string? key, string? since, string? until, string? destination = null)
    {
        if (destination is not null && !Streaming.Destinations.DestinationFile.IsValidName(destination))
        {
            throw new CtlException($"--destination '{destination}' is not a destination name ([a-z0-9-]{{1,40}})");
        }

        if (reason is not null && !Reasons.Contains(reason))
        {
            throw new CtlException($"unknown reason '{reason}': use {string.Join(", ", Reasons)}");
        }

        if (status is < 100 or > 599)
        {
            throw new CtlException($"--status {status} is not an HTTP status code");
        }

        return new DeadLetterFilter(eventIds ?? [], reason, status, key, Time(since, "--since"), Time(until, "--until"), destination);
    }

    public bool Matches(DeadLetterEntry entry)
    {
        var letter = entry.Letter;
        var failedAt = letter?.LastFailedAt ?? entry.Timestamp;
        return (EventIds.Count == 0 || (letter?.EventId is { } id && EventIds.Contains(id)))
            && (Reason is null || letter?.Reason == Reason)
            && (StatusCode is null || letter?.LastStatusCode == StatusCode)
            && (Key is null || letter?.Key == Key)
            && (Since is null || failedAt >= Since)
            && (Until is null || failedAt <= Until)
            && (Destination is null || DestinationOf(entry) == Destination);
    }

    /// <summary>The letter's destination field, or its copied <c>destination</c> header.</summary>
    public static string? DestinationOf(DeadLetterEntry entry) =>
        entry.Letter?.Destination ?? entry.Letter?.OriginalHeaders.GetValueOrDefault(Contracts.HeaderNames.Destination);

    /// <summary>ISO-8601 times, or a duration back from now (30m, 2h, 7d).</summary>
    private static DateTimeOffset? Time(string? text, string option)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return time;
        }

        try
        {
            return DateTimeOffset.UtcNow - Kafka.DurationList.ParseOne(text);
        }
        catch (FormatException)
        {
            throw new CtlException($"{option} '{text}' is neither an ISO-8601 time nor a duration like 30m, 2h, 7d");
        }
    }
}
