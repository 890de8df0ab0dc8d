using System.Globalization;
using System.Text;
using Streaming.Kafka;

namespace Streaming.Ctl.DeadLetters;

/// <summary>
/// What was replayed, kept in Kafka (the lane's compacted <c>.dlq.replayed</c> topic, keyed by the DLQ
/// record's partition:offset), so no operator and no machine replays the same dead letter twice.
/// </summary>
public static class ReplayLedger
{
    public static IReadOnlyDictionary<string, DateTimeOffset> Read(CtlContext context, LaneTopics lane)
    {
        var replayed = new Dictionary<string, DateTimeOffset>();
        foreach (var record in TopicScanner.ReadAll(context, lane.ReplayLedger.Name))
        {
            if (record.Message.Key is { } key && record.Message.Value is { Length: > 0 } value
                && DateTimeOffset.TryParse(Encoding.UTF8.GetString(value), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at))
            {
                replayed[key] = at;
            }
        }

        return replayed;
    }

    public static byte[] Value(DateTimeOffset replayedAt) => Encoding.UTF8.GetBytes(replayedAt.ToString("O", CultureInfo.InvariantCulture));
}
