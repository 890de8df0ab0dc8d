using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Streaming.Contracts;
using Streaming.Kafka;

namespace Streaming.Worker.Processing;

/// <summary>Where a record stands in its retry journey, read from its topic and headers (retry state lives in Kafka).</summary>
public sealed record RetryState(int Attempts, int? Tier, DateTimeOffset? FirstFailedAt, DateTimeOffset? NotBefore, string OriginTopic)
{
    public static RetryState From(ConsumeResult<string?, byte[]> record, LaneTopics lane)
    {
        var headers = record.Message.Headers;
        var tier = lane.RetryTiers.FirstOrDefault(t => t.Name == record.Topic)?.RetryTier;
        return new RetryState(
            int.TryParse(Header(headers, HeaderNames.Attempt), NumberStyles.None, CultureInfo.InvariantCulture, out var attempts) ? attempts : 0,
            tier,
            Time(Header(headers, HeaderNames.FirstFailedAt)),
            Time(Header(headers, HeaderNames.NotBefore)),
            Header(headers, HeaderNames.OriginTopic) ?? lane.Main.Name);
    }

    public static DateTimeOffset? NotBeforeOf(Headers? headers) => Time(Header(headers, HeaderNames.NotBefore));

    public static string? Header(Headers? headers, string name) =>
        headers is not null && headers.TryGetLastBytes(name, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;

    public static string FormatTime(DateTimeOffset time) => time.ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset? Time(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t) ? t : null;
}
