using System.Text.Json;
using Streaming.Contracts;
using Streaming.Worker.Ordering;

namespace Streaming.Worker.Tests;

/// <summary>
/// The ORDERING=key state without a broker: every transition of <see cref="OrderState"/> and the
/// conversation key. The embedded-broker tests (<see cref="OrderingTests"/>) show the same end to end.
/// </summary>
public sealed class OrderStateTests
{
    private const string Key = "pn-a|4915550001";
    private const string Tier1 = "whatsapp.messages.retry.1s";
    private const string Tier2 = "whatsapp.messages.retry.2s";
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(500);

    /// <summary>m1 (offset 10 of partition 0) went to tier 1: the conversation is blocked behind it.</summary>
    private static OrderState BlockedBehindM1(int maxBlocked = 1000, string? destination = "shop-a")
    {
        var state = new OrderState(maxBlocked);
        state.ApplyClaim(new OwnerClaim(0, 7));
        Assert.True(state.ApplyBlock(Key, state.HeadBlocked("m1", 0, 10, Tier1, Now.AddSeconds(1), destination)));
        return state;
    }

    private static MainDecision.Follow Follow(OrderState state, long offset)
    {
        var follow = Assert.IsType<MainDecision.Follow>(state.OnMain(Key, 0, offset));
        Assert.True(state.ApplyBlock(Key, follow.Block));
        return follow;
    }

    private static EventEnvelope Envelope(string type, string? phoneNumberId, string payload) => new()
    {
        EventId = "e1", Type = type, Lane = LaneNames.Messages, WabaId = "waba-1", PhoneNumberId = phoneNumberId,
        ReceivedAt = Now, Payload = JsonDocument.Parse(payload).RootElement,
    };

    [Fact]
    public void The_chain_key_is_the_business_number_and_the_customer_so_one_customer_of_two_businesses_is_two_chains()
    {
        var toA = ChainKey.Of(Envelope(EventTypes.Message, "pn-a", """{"from":"4915550001","id":"wamid.1"}"""));
        var toB = ChainKey.Of(Envelope(EventTypes.Message, "pn-b", """{"from":"4915550001","id":"wamid.2"}"""));
        Assert.Equal("pn-a|4915550001", toA);
        Assert.Equal("pn-b|4915550001", toB);
        Assert.Equal("pn-a|4915550001", ChainKey.Of(Envelope(EventTypes.Status, "pn-a", """{"recipient_id":"4915550001","id":"wamid.1","status":"read"}""")));
    }

    [Theory]
    [InlineData("message_template_status_update", """{"event":"APPROVED","message_template_id":1}""")]
    [InlineData(EventTypes.Errors, """{"code":131000}""")]
    [InlineData(EventTypes.Message, """{"id":"wamid.no-sender"}""")]
    public void Events_without_a_customer_are_not_chained(string type, string payload) =>
        Assert.Null(ChainKey.Of(Envelope(type, "pn-a", payload)));

    [Fact]
    public void Two_businesses_blocking_one_customer_do_not_share_a_chain()
    {
        var state = BlockedBehindM1();
        Assert.IsType<MainDecision.Follow>(state.OnMain(Key, 0, 11));
        Assert.Equal(new MainDecision.Attempt(false), state.OnMain("pn-b|4915550001", 0, 12));
    }

    [Fact]
    public void An_event_of_a_conversation_that_is_not_blocked_is_attempted()
    {
        var state = new OrderState(1000);
        Assert.Equal(new MainDecision.Attempt(false), state.OnMain(Key, 0, 3));
    }

    [Fact]
    public void Followers_join_the_chain_in_order_where_the_head_waits()
    {
        var state = BlockedBehindM1();
        var m2 = Follow(state, 11);
        var m3 = Follow(state, 14);
        Assert.Equal((2, Tier1, Now.AddSeconds(1)), (m2.Seq, m2.Tier, m2.NotBefore));
        Assert.Equal(3, m3.Seq);
        Assert.Equal(14, state.Block(Key)!.LastOffset);
        Assert.Equal(7, state.Block(Key)!.Epoch);

        // The head moved on: later followers go to its new tier.
        var head = Assert.IsType<TierDecision.Head>(state.OnTier(Key, "m1", 1, "m1", Tier1, null, Now, Pause));
        state.ApplyProgress(Key, OrderState.AfterHead("m1", 1, head, HeadEnd.Retried, "m1", Tier1, Tier2, Now.AddSeconds(2), Now));
        Assert.Equal(Tier2, Follow(state, 20).Tier);
    }

    [Fact]
    public void An_event_read_again_after_a_crash_is_a_duplicate_not_a_new_follower()
    {
        var state = BlockedBehindM1();
        Follow(state, 11);
        Assert.Equal(NotDeliveredReasons.Duplicate, Assert.IsType<MainDecision.Drop>(state.OnMain(Key, 0, 10)).Reason); // the head itself
        Assert.Equal(NotDeliveredReasons.Duplicate, Assert.IsType<MainDecision.Drop>(state.OnMain(Key, 0, 11)).Reason); // a follower
        Assert.Equal(3, Assert.IsType<MainDecision.Follow>(state.OnMain(Key, 0, 12)).Seq);
    }

    [Fact]
    public void A_follower_forwarded_twice_around_a_crash_is_delivered_once_the_second_copy_counted_already_settled()
    {
        var state = BlockedBehindM1();
        var m2 = Assert.IsType<MainDecision.Follow>(state.OnMain(Key, 0, 11));
        // Crash before the block was written: read again, the same decision (same seq), then written.
        Assert.Equal(m2, state.OnMain(Key, 0, 11));
        state.ApplyBlock(Key, m2.Block);
        Follow(state, 12);

        var head = Assert.IsType<TierDecision.Head>(state.OnTier(Key, "m1", 1, "m1", Tier1, null, Now, Pause));
        state.ApplyProgress(Key, OrderState.AfterHead("m1", 1, head, HeadEnd.Settled, "m1", Tier1, null, null, Now));
        var second = Assert.IsType<TierDecision.Head>(state.OnTier(Key, "m1", 2, "m2", Tier1, head.Version, Now, Pause));
        state.ApplyProgress(Key, OrderState.AfterHead("m1", 2, second, HeadEnd.Settled, "m2", Tier1, null, null, Now));

        Assert.Equal(NotDeliveredReasons.AlreadySettled, Assert.IsType<TierDecision.Drop>(state.OnTier(Key, "m1", 2, "m2", Tier1, head.Version, Now, Pause)).Reason);
        Assert.IsType<TierDecision.Head>(state.OnTier(Key, "m1", 3, "m3", Tier1, second.Version, Now, Pause));
    }

    [Fact]
    public void A_replayed_head_is_never_dropped_it_joins_the_tail_and_is_attempted_there_without_naming_itself()
    {
        var state = BlockedBehindM1();
        Follow(state, 11); // m2
        // m1 is dead-lettered while m2 waits.
        var m1 = Assert.IsType<TierDecision.Head>(state.OnTier(Key, "m1", 1, "m1", Tier2, null, Now, Pause));
        state.ApplyProgress(Key, OrderState.AfterHead("m1", 1, m1, HeadEnd.DeadLettered, "m1", Tier2, null, null, Now));
        var m2 = Assert.IsType<TierDecision.Head>(state.OnTier(Key, "m1", 2, "m2", Tier1, m1.Version, Now, Pause));
        Assert.Equal("m1", m2.AfterDeadLetter);
        state.ApplyProgress(Key, OrderState.AfterHead("m1", 2, m2, HeadEnd.Retried, "m2", Tier1, Tier2, Now.AddSeconds(2), Now));

        // The replay of m1 is a new record on the main topic (offset 40), while its chain (named m1) is still blocked.
        var replay = Assert.IsType<MainDecision.Follow>(state.OnMain(Key, 0, 40));
        Assert.Equal((3, Tier2), (replay.Seq, replay.Tier));
        state.ApplyBlock(Key, replay.Block);

        // m2 delivered; the replayed m1 is then the head and is attempted, not told it follows itself.
        var again = Assert.IsType<TierDecision.Head>(state.OnTier(Key, "m1", 2, "m2", Tier2, m2.Version, Now, Pause));
        state.ApplyProgress(Key, OrderState.AfterHead("m1", 2, again, HeadEnd.Settled, "m2", Tier2, null, null, Now));
        var replayed = Assert.IsType<TierDecision.Head>(state.OnTier(Key, "m1", 3, "m1", Tier2, again.Version, Now, Pause));
        Assert.Null(replayed.AfterDeadLetter);
    }

    [Fact]
    public void A_replay_into_a_conversation_that_is_not_blocked_is_attempted_at_once()
    {
        var state = BlockedBehindM1();
        var head = Assert.IsType<TierDecision.Head>(state.OnTier(Key, "m1", 1, "m1", Tier1, null, Now, Pause));
        state.ApplyProgress(Key, OrderState.AfterHead("m1", 1, head, HeadEnd.DeadLettered, "m1", Tier1, null, null, Now));
        Assert.True(state.ApplyRelease(Key, 0, 7, 10, Now));
        Assert.Equal(new MainDecision.Attempt(false), state.OnMain(Key, 0, 50));
    }

    [Fact]
    public void Only_the_chains_next_event_is_attempted_an_out_of_turn_follower_goes_behind_the_head_again()
    {
        var state = BlockedBehindM1();
        Follow(state, 11);
        Follow(state, 12);

        var elsewhere = Assert.IsType<TierDecision.Follow>(state.OnTier(Key, "m1", 3, "m3", Tier2, null, Now, Pause));
        Assert.Equal((Tier1, Now.AddSeconds(1)), (elsewhere.Tier, elsewhere.NotBefore));
        var sameTier = Assert.IsType<TierDecision.Follow>(state.OnTier(Key, "m1", 3, "m3", Tier1, null, Now.AddSeconds(5), Pause));
        Assert.Equal(Now.AddSeconds(5) + Pause, sameTier.NotBefore);
        Assert.True(state.NeedsCatchUp(Key, "m1", 3, Tier1));
        Assert.False(state.NeedsCatchUp(Key, "m1", 1, Tier1));
        Assert.True(state.NeedsCatchUp(Key, "another-chain", 1, Tier1));
    }

    [Theory]
    [InlineData(HeadEnd.Settled)]
    [InlineData(HeadEnd.DeadLettered)]
    public void Every_end_of_a_head_but_a_retry_settles_its_place_and_the_last_one_settles_the_chain(HeadEnd end)
    {
        var state = BlockedBehindM1();
        Follow(state, 11);
        var m1 = Assert.IsType<TierDecision.Head>(state.OnTier(Key, "m1", 1, "m1", Tier1, null, Now, Pause));
        state.ApplyProgress(Key, OrderState.AfterHead("m1", 1, m1, HeadEnd.Retried, "m1", Tier1, Tier2, Now.AddSeconds(2), Now));
        Assert.False(state.IsSettled(Key));
        Assert.Equal(0, state.Progress(Key, "m1")!.Done);

        var again = Assert.IsType<TierDecision.Head>(state.OnTier(Key, "m1", 1, "m1", Tier2, m1.Version, Now, Pause));
        Assert.True(again.Version > m1.Version);
        state.ApplyProgress(Key, OrderState.AfterHead("m1", 1, again, end, "m1", Tier2, null, null, Now));
        var m2 = Assert.IsType<TierDecision.Head>(state.OnTier(Key, "m1", 2, "m2", Tier1, again.Version, Now, Pause));
        Assert.Equal(end == HeadEnd.DeadLettered ? "m1" : null, m2.AfterDeadLetter);
        Assert.False(state.IsSettled(Key));

        state.ApplyProgress(Key, OrderState.AfterHead("m1", 2, m2, end, "m2", Tier1, null, null, Now));
        Assert.True(state.IsSettled(Key));
        Assert.Equal(new MainDecision.Attempt(ReleaseFirst: true), state.OnMain(Key, 0, 30));
    }

    [Fact]
    public void A_late_progress_of_an_older_version_does_not_undo_a_newer_one()
    {
        var state = BlockedBehindM1();
        state.ApplyProgress(Key, new ChainProgress("m1", 3, 1, Tier1, Now, null));
        state.ApplyProgress(Key, new ChainProgress("m1", 2, 0, Tier2, Now, null));
        Assert.Equal(1, state.Progress(Key, "m1")!.Done);
    }

    [Fact]
    public void A_head_read_before_its_block_is_visible_is_still_the_head_and_its_end_settles_the_chain_when_the_block_shows()
    {
        var state = new OrderState(1000);
        var head = Assert.IsType<TierDecision.Head>(state.OnTier(Key, "m1", 1, "m1", Tier1, null, Now, Pause));
        state.ApplyProgress(Key, OrderState.AfterHead("m1", 1, head, HeadEnd.Settled, "m1", Tier1, null, null, Now));
        // A later member with no block known after reading up to now: a copy of a released chain.
        Assert.IsType<TierDecision.Unchained>(state.OnTier(Key, "gone", 2, "x2", Tier1, null, Now, Pause));

        Assert.True(state.ApplyBlock(Key, new ChainBlock("m1", 1, 0, Tier1, Now, 0, 10)));
        Assert.True(state.IsSettled(Key));
    }

    [Fact]
    public void More_followers_than_the_bound_are_dead_lettered_as_order_blocked_with_the_heads_destination()
    {
        var state = BlockedBehindM1(maxBlocked: 2);
        Follow(state, 11);
        Follow(state, 12);
        var blocked = Assert.IsType<MainDecision.OrderBlocked>(state.OnMain(Key, 0, 13));
        Assert.Equal(2, blocked.Waiting);
        Assert.Equal("shop-a", blocked.Block.Destination);
    }

    [Fact]
    public void A_previous_owners_block_that_lands_after_the_new_owners_claim_is_fenced()
    {
        var state = BlockedBehindM1(); // owner epoch 7, m1 at offset 10
        var late = state.Block(Key)! with { Seq = 2, LastOffset = 11 }; // its write for m2, still in flight
        state.ApplyClaim(new OwnerClaim(0, state.NextEpoch(0, Now)));
        Assert.True(state.Epoch(0) > 7);

        // The new owner re-reads m2 (offset 11 was not committed) and forwards it under its epoch, then m3.
        var m2 = Follow(state, 11);
        Assert.Equal(state.Epoch(0), m2.Block.Epoch);
        Follow(state, 12);
        Assert.False(state.ApplyBlock(Key, late));
        Assert.Equal((3, 12L), (state.Block(Key)!.Seq, state.Block(Key)!.LastOffset));
        // No seq is used twice: the next follower is the fourth.
        Assert.Equal(4, Assert.IsType<MainDecision.Follow>(state.OnMain(Key, 0, 13)).Seq);
    }

    [Fact]
    public void A_previous_owners_release_that_lands_late_is_fenced_and_one_that_landed_in_time_counts()
    {
        var state = BlockedBehindM1();
        var old = state.Block(Key)!;
        state.ApplyClaim(new OwnerClaim(0, 9));
        Assert.False(state.ApplyRelease(Key, 0, old.Epoch, old.LastOffset, Now));
        Assert.NotNull(state.Block(Key));

        Assert.True(state.ApplyRelease(Key, 0, 9, old.LastOffset, Now));
        Assert.Null(state.Block(Key));
    }

    [Fact]
    public void A_new_owner_releases_a_chain_its_predecessor_blocked_under_its_own_epoch()
    {
        var state = BlockedBehindM1(); // blocked under epoch 7
        state.ApplyClaim(new OwnerClaim(0, 9));
        var block = state.Block(Key)!;
        Assert.Equal(9, state.ReleaseEpoch(block));
        Assert.True(state.ApplyRelease(Key, 0, state.ReleaseEpoch(block), block.LastOffset, Now));
        Assert.Null(state.Block(Key));
    }

    [Fact]
    public void A_write_that_landed_before_the_claim_is_applied()
    {
        var state = new OrderState(1000);
        state.ApplyClaim(new OwnerClaim(0, 3));
        Assert.True(state.ApplyBlock(Key, new ChainBlock("m1", 1, 0, Tier1, Now, 3, 10)));
        Assert.True(state.ApplyBlock(Key, new ChainBlock("m1", 2, 0, Tier1, Now, 3, 11)));
        Assert.Equal(2, state.Block(Key)!.Seq);
    }

    [Fact]
    public void Events_of_a_released_chain_read_again_after_a_crash_are_duplicates_for_a_while()
    {
        var state = BlockedBehindM1();
        Follow(state, 11);
        Assert.True(state.ApplyRelease(Key, 0, 7, 11, Now));
        Assert.Equal(NotDeliveredReasons.Duplicate, Assert.IsType<MainDecision.Drop>(state.OnMain(Key, 0, 11)).Reason);
        Assert.Equal(new MainDecision.Attempt(false), state.OnMain(Key, 0, 12));

        state.ForgetReleased(Now.AddMinutes(11), TimeSpan.FromMinutes(10));
        Assert.Equal(new MainDecision.Attempt(false), state.OnMain(Key, 0, 11));
    }

    [Fact]
    public void A_progress_tombstone_clears_only_the_chain_it_names()
    {
        var state = BlockedBehindM1();
        state.ApplyProgress(Key, new ChainProgress("m1", 1, 0, Tier1, Now, null));
        state.ApplyProgressCleared(Key, "an-older-chain");
        Assert.NotNull(state.Progress(Key, "m1"));
        state.ApplyProgressCleared(Key, "m1");
        Assert.Null(state.Progress(Key, "m1"));
    }

    [Fact]
    public void A_new_owners_epoch_is_above_every_claim_known()
    {
        var state = new OrderState(1000);
        var far = Now.AddYears(1).ToUnixTimeMilliseconds();
        state.ApplyClaim(new OwnerClaim(2, far));
        Assert.Equal(far + 1, state.NextEpoch(2, Now));
        Assert.Equal(Now.ToUnixTimeMilliseconds(), state.NextEpoch(1, Now));
    }

    [Fact]
    public void Progress_of_a_chain_without_a_block_is_forgotten_after_a_while()
    {
        var state = new OrderState(1000);
        state.ApplyProgress(Key, new ChainProgress("m1", 1, 1, Tier1, Now, null));
        state.ForgetStrays(Now.AddMinutes(5), TimeSpan.FromMinutes(10));
        Assert.NotNull(state.Progress(Key, "m1"));
        state.ForgetStrays(Now.AddMinutes(11), TimeSpan.FromMinutes(10));
        Assert.Null(state.Progress(Key, "m1"));
    }
}
