using Streaming.Contracts;

namespace Streaming.Kafka;

public enum TopicKind
{
    Main,
    Retry,
    DeadLetter,
    ReplayLedger,
    Order,
}

/// <summary>One topic of the pipeline: created by provisioning, named by every service the same way.</summary>
public sealed record TopicDefinition(
    string Name,
    Lane Lane,
    TopicKind Kind,
    int Partitions,
    short ReplicationFactor,
    IReadOnlyDictionary<string, string> Config,
    TimeSpan? RetryDelay = null,
    int? RetryTier = null);

/// <summary>The one definition of every topic: names from TOPIC_PREFIX, tiers from RETRY_DELAYS.</summary>
public sealed class Topology
{
    private readonly Dictionary<Lane, LaneTopics> _lanes;

    private Topology(string prefix, IReadOnlyList<TimeSpan> retryDelays, Dictionary<Lane, LaneTopics> lanes)
    {
        Prefix = prefix;
        RetryDelays = retryDelays;
        _lanes = lanes;
        Topics = lanes.Values.SelectMany(l => l.All).ToArray();
    }

    public string Prefix { get; }

    public IReadOnlyList<TimeSpan> RetryDelays { get; }

    public IReadOnlyList<TopicDefinition> Topics { get; }

    public LaneTopics this[Lane lane] => _lanes[lane];

    public static Topology Create(TopologyOptions options)
    {
        var prefix = options.TopicPrefix.Trim();
        if (prefix.Length == 0 || prefix.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')))
        {
            throw new ArgumentException($"TOPIC_PREFIX '{options.TopicPrefix}' must be non-empty and use only letters, digits, '.', '_' and '-'");
        }

        IReadOnlyList<TimeSpan> delays;
        try
        {
            delays = DurationList.Parse(options.RetryDelays);
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"RETRY_DELAYS '{options.RetryDelays}': {e.Message}", e);
        }

        if (delays.Select(DurationList.Format).Distinct().Count() != delays.Count)
        {
            throw new ArgumentException($"RETRY_DELAYS '{options.RetryDelays}' names the same delay twice: each tier needs its own topic");
        }

        var lanes = new Dictionary<Lane, LaneTopics>();
        foreach (var lane in LaneNames.All)
        {
            var mainPartitions = lane == Lane.Messages ? options.MessagesPartitions : options.StatusesPartitions;
            lanes[lane] = LaneTopics.Create(prefix, lane, delays, mainPartitions, options);
        }

        return new Topology(prefix, delays, lanes);
    }

    public string ConsumerGroup(Lane lane) => $"{Prefix}-{lane.ToName()}-worker";

    public TopicDefinition? Find(string topicName) => Topics.FirstOrDefault(t => t.Name == topicName);
}

public sealed record LaneTopics(
    Lane Lane,
    TopicDefinition Main,
    IReadOnlyList<TopicDefinition> RetryTiers,
    TopicDefinition DeadLetter,
    TopicDefinition ReplayLedger,
    TopicDefinition Order)
{
    public IEnumerable<TopicDefinition> All => [Main, .. RetryTiers, DeadLetter, ReplayLedger, Order];

    internal static LaneTopics Create(string prefix, Lane lane, IReadOnlyList<TimeSpan> delays, int mainPartitions, TopologyOptions o)
    {
        var name = $"{prefix}.{lane.ToName()}";
        var rf = o.ReplicationFactor;
        var laneRetention = Retention(TimeSpan.FromHours(o.LaneRetentionHours));
        var main = new TopicDefinition(name, lane, TopicKind.Main, mainPartitions, rf, laneRetention);
        var tiers = delays.Select((delay, i) => new TopicDefinition(
            $"{name}.retry.{DurationList.Format(delay)}", lane, TopicKind.Retry, o.RetryPartitions, rf, laneRetention, delay, i)).ToArray();
        var dlq = new TopicDefinition($"{name}.dlq", lane, TopicKind.DeadLetter, o.DlqPartitions, rf, Retention(TimeSpan.FromHours(o.DlqRetentionHours)));

        // Compacted: one record per replayed DLQ record, kept for as long as the DLQ itself.
        var ledger = new TopicDefinition($"{name}.dlq.replayed", lane, TopicKind.ReplayLedger, 1, rf,
            new Dictionary<string, string> { ["cleanup.policy"] = "compact" });

        // Compacted, keyed by customer key (chains) or message id (status ranks): the state that keeps order
        // across retries (ORDERING), tailed by every replica of the lane. The statuses lane's entries only
        // matter for as long as a status can still be retrying, so old ones are also deleted there.
        var orderConfig = new Dictionary<string, string> { ["cleanup.policy"] = "compact" };
        if (lane == Lane.Statuses)
        {
            var window = TimeSpan.FromTicks(delays.Sum(d => d.Ticks) * 2) + TimeSpan.FromHours(1);
            orderConfig["cleanup.policy"] = "compact,delete";
            orderConfig["retention.ms"] = ((long)window.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var order = new TopicDefinition($"{name}.order", lane, TopicKind.Order, o.RetryPartitions, rf, orderConfig);
        return new LaneTopics(lane, main, tiers, dlq, ledger, order);
    }

    private static Dictionary<string, string> Retention(TimeSpan retention) =>
        new() { ["retention.ms"] = ((long)retention.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture) };
}
