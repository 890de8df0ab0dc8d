using Streaming.Worker.Ordering;

namespace Streaming.Worker.Tests;

public sealed class OrderingOptionsTests
{
    [Theory]
    [InlineData("messages", null, true)]
    [InlineData("statuses", null, false)]
    [InlineData("messages", "none", false)]
    [InlineData("statuses", "key", true)]
    [InlineData("messages", " KEY ", true)]
    public void Ordering_defaults_to_key_on_messages_and_none_on_statuses(string lane, string? mode, bool byKey) =>
        Assert.Equal(byKey, new OrderingOptions { LaneName = lane, Mode = mode }.ByKey);

    [Fact]
    public void A_wrong_mode_or_bound_is_refused_with_the_variable_named()
    {
        Assert.Contains("ORDERING", Assert.Single(new OrderingOptions { LaneName = "messages", Mode = "fifo" }.Validate()));
        Assert.Contains("ORDERING_MAX_BLOCKED", Assert.Single(new OrderingOptions { LaneName = "messages", MaxBlocked = 0 }.Validate()));
    }

    [Fact]
    public void Status_ranks_go_sent_delivered_read_and_failed_is_above_them_all()
    {
        Assert.True(StatusTruth.Rank("sent") < StatusTruth.Rank("delivered"));
        Assert.True(StatusTruth.Rank("delivered") < StatusTruth.Rank("read"));
        Assert.True(StatusTruth.Rank("read") < StatusTruth.Rank("failed"));
        Assert.Equal(0, StatusTruth.Rank("deleted"));
    }
}
