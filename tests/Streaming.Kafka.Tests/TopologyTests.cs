using Streaming.Contracts;
using Streaming.Kafka;

namespace Streaming.Kafka.Tests;

public class TopologyTests
{
    [Fact]
    public void Default_topology_names_every_topic_of_the_contract()
    {
        var topology = new TopologyOptions().Build();
        Assert.Equal(
            [
                "whatsapp.messages", "whatsapp.messages.retry.5s", "whatsapp.messages.retry.30s", "whatsapp.messages.retry.5m", "whatsapp.messages.retry.30m",
                "whatsapp.messages.dlq", "whatsapp.messages.dlq.replayed", "whatsapp.messages.order",
                "whatsapp.statuses", "whatsapp.statuses.retry.5s", "whatsapp.statuses.retry.30s", "whatsapp.statuses.retry.5m", "whatsapp.statuses.retry.30m",
                "whatsapp.statuses.dlq", "whatsapp.statuses.dlq.replayed", "whatsapp.statuses.order",
            ],
            topology.Topics.Select(t => t.Name));
        Assert.Equal("whatsapp-messages-worker", topology.ConsumerGroup(Lane.Messages));
        Assert.Equal("whatsapp-statuses-worker", topology.ConsumerGroup(Lane.Statuses));
        Assert.Equal([0, 1, 2, 3], topology[Lane.Messages].RetryTiers.Select(t => t.RetryTier!.Value));
        Assert.Equal(TimeSpan.FromMinutes(5), topology[Lane.Statuses].RetryTiers[2].RetryDelay);
        Assert.Equal("compact", topology[Lane.Messages].ReplayLedger.Config["cleanup.policy"]);
        Assert.Equal("compact", topology[Lane.Messages].Order.Config["cleanup.policy"]);
        Assert.Equal("compact,delete", topology[Lane.Statuses].Order.Config["cleanup.policy"]);
        Assert.Equal((7 * 24 * 3600 * 1000L).ToString(), topology[Lane.Messages].Main.Config["retention.ms"]);
    }

    [Fact]
    public void Prefix_tiers_and_partitions_come_from_the_options()
    {
        var topology = new TopologyOptions { TopicPrefix = "acme", RetryDelays = "500ms, 2s,1h", MessagesPartitions = 24, RetryPartitions = 3 }.Build();
        Assert.Equal(["acme.messages.retry.500ms", "acme.messages.retry.2s", "acme.messages.retry.1h"], topology[Lane.Messages].RetryTiers.Select(t => t.Name));
        Assert.Equal(24, topology[Lane.Messages].Main.Partitions);
        Assert.Equal(12, topology[Lane.Statuses].Main.Partitions);
        Assert.All(topology[Lane.Messages].RetryTiers, t => Assert.Equal(3, t.Partitions));
        Assert.Equal("acme-messages-worker", topology.ConsumerGroup(Lane.Messages));
        Assert.Same(topology[Lane.Messages].DeadLetter, topology.Find("acme.messages.dlq"));
    }

    [Theory]
    [InlineData("", "whatsapp", "RETRY_DELAYS")]
    [InlineData("5s,abc", "whatsapp", "'abc'")]
    [InlineData("5s,-1s", "whatsapp", "'-1s'")]
    [InlineData("5s,10", "whatsapp", "no unit")]
    [InlineData("5s,5000ms", "whatsapp", "same delay twice")]
    [InlineData("5s", "bad prefix!", "TOPIC_PREFIX")]
    public void Bad_settings_are_refused_with_the_variable_named(string delays, string prefix, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => new TopologyOptions { RetryDelays = delays, TopicPrefix = prefix }.Build());
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("250ms", 250)]
    [InlineData("5s", 5000)]
    [InlineData("1.5s", 1500)]
    [InlineData("30m", 1_800_000)]
    [InlineData("2h", 7_200_000)]
    [InlineData("1d", 86_400_000)]
    public void Durations_parse(string text, double ms) => Assert.Equal(TimeSpan.FromMilliseconds(ms), DurationList.ParseOne(text));

    [Theory]
    [InlineData("5s")]
    [InlineData("90s")]
    [InlineData("30m")]
    [InlineData("1500ms")]
    [InlineData("36h")]
    [InlineData("2d")]
    public void Durations_format_back_to_what_parses_to_the_same(string text) =>
        Assert.Equal(DurationList.ParseOne(text), DurationList.ParseOne(DurationList.Format(DurationList.ParseOne(text))));
}
