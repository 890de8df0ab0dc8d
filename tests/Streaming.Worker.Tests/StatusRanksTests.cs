using Streaming.Worker.Ordering;

namespace Streaming.Worker.Tests;

/// <summary>Status truth's decision without a broker: what is dropped, what is written before its attempt.</summary>
public sealed class StatusRanksTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("sent", 1)]
    [InlineData("delivered", 2)]
    [InlineData("read", 3)]
    [InlineData("failed", 4)]
    [InlineData("deleted", 0)]
    public void Ranks_go_forward_only_and_failed_is_above_all(string status, int rank) => Assert.Equal(rank, StatusRanks.Rank(status));

    [Fact]
    public void A_status_below_the_highest_delivered_or_in_flight_is_superseded() =>
        Assert.Equal(StatusStep.Supersede, StatusRanks.Decide(StatusRanks.Rank("sent"), new StatusMark(StatusRanks.Rank("read"), At)));

    [Theory]
    [InlineData("delivered", null)]
    [InlineData("read", "delivered")]
    [InlineData("failed", "read")]
    public void A_status_that_raises_the_rank_is_written_before_its_attempt_so_a_new_owner_knows_it(string status, string? known) =>
        Assert.Equal(StatusStep.MarkThenAttempt, StatusRanks.Decide(StatusRanks.Rank(status), known is null ? null : new StatusMark(StatusRanks.Rank(known), At)));

    [Fact]
    public void Sent_is_never_written_and_a_retried_copy_of_the_same_rank_is_attempted()
    {
        Assert.Equal(StatusStep.Attempt, StatusRanks.Decide(StatusRanks.Rank("sent"), null));
        Assert.Equal(StatusStep.Attempt, StatusRanks.Decide(StatusRanks.Rank("delivered"), new StatusMark(StatusRanks.Rank("delivered"), At)));
    }
}
