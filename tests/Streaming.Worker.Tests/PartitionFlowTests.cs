using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Worker.Consuming;

namespace Streaming.Worker.Tests;

/// <summary>The pause and commit policy, without a broker: a fake client records what the consumer is told.</summary>
public sealed class PartitionFlowTests
{
    private const string Main = "t.messages";
    private const string Tier = "t.messages.retry.1s";
    private static readonly TopicPartition MainP0 = new(Main, 0);
    private static readonly TopicPartition TierP0 = new(Tier, 0);

    private readonly ManualClock _clock = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
    private readonly FakeHold _hold = new();
    private readonly FakeClient _client = new();

    private PartitionFlow Flow(TimeSpan? drain = null)
    {
        var flow = new PartitionFlow(Main, _hold, _clock, drain ?? TimeSpan.FromSeconds(5), NullLogger.Instance);
        flow.Assigned([MainP0, TierP0]);
        return flow;
    }

    private static ConsumeResult<string?, byte[]> Record(TopicPartition tp, long offset, string key) => new()
    {
        TopicPartitionOffset = new TopicPartitionOffset(tp, offset),
        Message = new Message<string?, byte[]> { Key = key, Value = [] },
    };

    [Fact]
    public void A_retry_record_not_yet_due_pauses_its_partition_until_due_and_then_resumes()
    {
        var flow = Flow();
        var position = new TopicPartitionOffset(TierP0, 7);
        Assert.True(flow.DeferIfNotDue(_client, position, _clock.GetUtcNow().AddSeconds(2)));
        Assert.Equal([TierP0], _client.Paused);
        Assert.Equal([position], _client.Seeks);

        flow.ApplyPauses(_client, slotFree: true);
        Assert.Empty(_client.Resumed);
        Assert.True(flow.IsPaused(TierP0));

        _clock.Advance(TimeSpan.FromSeconds(2));
        flow.ApplyPauses(_client, slotFree: true);
        Assert.Equal([TierP0], _client.Resumed);
        Assert.False(flow.IsPaused(TierP0));
    }

    [Fact]
    public void Main_topic_records_and_due_retry_records_are_never_deferred()
    {
        var flow = Flow();
        Assert.False(flow.DeferIfNotDue(_client, new TopicPartitionOffset(MainP0, 1), _clock.GetUtcNow().AddHours(1)));
        Assert.False(flow.DeferIfNotDue(_client, new TopicPartitionOffset(TierP0, 1), _clock.GetUtcNow()));
        Assert.False(flow.DeferIfNotDue(_client, new TopicPartitionOffset(TierP0, 1), null));
        Assert.Empty(_client.Paused);
    }

    [Fact]
    public void A_lane_hold_pauses_every_partition_and_lifting_it_resumes_them_except_those_waiting_for_a_due_time()
    {
        var flow = Flow();
        flow.DeferIfNotDue(_client, new TopicPartitionOffset(TierP0, 3), _clock.GetUtcNow().AddSeconds(10));
        _client.Paused.Clear();
        _hold.HoldAll = true;
        flow.ApplyPauses(_client, slotFree: true);
        Assert.Equal([MainP0], _client.Paused);

        _hold.HoldAll = false;
        flow.ApplyPauses(_client, slotFree: true);
        Assert.Equal([MainP0], _client.Resumed);
        Assert.True(flow.IsPaused(TierP0));
    }

    [Fact]
    public void Saturation_gives_the_record_back_and_pauses_until_a_slot_frees()
    {
        var flow = Flow();
        var position = new TopicPartitionOffset(MainP0, 5);
        flow.Saturated(_client, position);
        Assert.Equal([position], _client.Seeks);

        flow.ApplyPauses(_client, slotFree: false);
        Assert.Equal(2, _client.Paused.Count);
        flow.ApplyPauses(_client, slotFree: true);
        Assert.Equal(2, _client.Resumed.Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_paused_partition_is_resumed_before_it_is_revoked_or_lost_so_it_is_fetched_when_assigned_back(bool commit)
    {
        // librdkafka keeps the pause of a partition across a rebalance: a lane that lost its partitions while
        // saturated used to get them back paused and never fetch them again.
        var flow = Flow();
        flow.Saturated(_client, new TopicPartitionOffset(MainP0, 5));
        flow.ApplyPauses(_client, slotFree: false);
        Assert.Equal(2, _client.Paused.Count);

        flow.Release(_client, [MainP0, TierP0], commit);
        Assert.Equal([MainP0, TierP0], _client.Resumed.Order(Comparer<TopicPartition>.Create((a, b) => string.CompareOrdinal(a.Topic, b.Topic))));

        _client.Resumed.Clear();
        flow.Assigned([MainP0, TierP0]);
        flow.ApplyPauses(_client, slotFree: true);
        Assert.False(flow.IsPaused(MainP0));
        Assert.False(flow.IsPaused(TierP0));
        Assert.Equal(2, _client.Paused.Count);
    }

    [Fact]
    public void Offsets_are_stored_only_below_the_lowest_unsettled_event()
    {
        var flow = Flow();
        var work = flow.WorkOf(MainP0)!;
        var slow = new TaskCompletionSource();
        var t10 = work.Start(Record(MainP0, 10, "a"), _ => slow.Task);
        var t11 = work.Start(Record(MainP0, 11, "b"), _ => Task.CompletedTask);

        flow.Settle(work, 11, "b", t11);
        flow.StoreSettled(_client);
        Assert.Equal([new TopicPartitionOffset(MainP0, 10)], _client.Stored);

        slow.SetResult();
        flow.Settle(work, 10, "a", t10);
        flow.StoreSettled(_client);
        Assert.Equal(new TopicPartitionOffset(MainP0, 12), _client.Stored[^1]);
    }

    [Fact]
    public void Revocation_drains_what_is_under_way_and_commits_it()
    {
        var flow = Flow();
        var work = flow.WorkOf(MainP0)!;
        var running = new TaskCompletionSource();
        Task? task = null;
        task = work.Start(Record(MainP0, 20, "a"), _ => running.Task.ContinueWith(_ => flow.Settle(work, 20, "a", task!), TaskScheduler.Default));
        _ = Task.Delay(100).ContinueWith(_ => running.SetResult(), TaskScheduler.Default);

        var committed = flow.Release(_client, [MainP0], commit: true);
        Assert.Equal([new TopicPartitionOffset(MainP0, 21)], committed);
        Assert.Equal(committed, _client.Committed);
        Assert.True(work.Cancellation.IsCancellationRequested);
        Assert.Null(flow.WorkOf(MainP0));
    }

    [Fact]
    public void A_lost_partition_commits_nothing_and_cancels_its_work()
    {
        var flow = Flow();
        var work = flow.WorkOf(MainP0)!;
        work.Start(Record(MainP0, 1, "a"), _ => new TaskCompletionSource().Task);

        Assert.Empty(flow.Release(_client, [MainP0], commit: false));
        Assert.Empty(_client.Committed);
        Assert.True(work.Cancellation.IsCancellationRequested);
    }

    [Fact]
    public void Shutdown_drains_at_most_the_drain_timeout_and_commits_below_what_is_still_unsettled()
    {
        var flow = Flow(TimeSpan.FromMilliseconds(200));
        var work = flow.WorkOf(MainP0)!;
        var t1 = work.Start(Record(MainP0, 1, "a"), _ => Task.CompletedTask);
        flow.Settle(work, 1, "a", t1);
        work.Start(Record(MainP0, 2, "b"), _ => new TaskCompletionSource().Task); // never settles

        var committed = flow.Shutdown(_client);
        Assert.Equal([new TopicPartitionOffset(MainP0, 2)], committed);
    }

    [Fact]
    public void Leaving_the_group_after_shutdown_does_not_commit_the_same_offsets_again()
    {
        var flow = Flow();
        var work = flow.WorkOf(MainP0)!;
        var t1 = work.Start(Record(MainP0, 1, "a"), _ => Task.CompletedTask);
        flow.Settle(work, 1, "a", t1);
        Assert.Equal([new TopicPartitionOffset(MainP0, 2)], flow.Shutdown(_client));
        Assert.Equal([new TopicPartitionOffset(MainP0, 2)], _client.Committed);

        // Close() revokes what shutdown committed: nothing moved, nothing to commit.
        flow.Release(_client, [MainP0, TierP0], commit: true);
        Assert.Equal([new TopicPartitionOffset(MainP0, 2)], _client.Committed);
    }

    [Fact]
    public void A_store_on_a_partition_revoked_meanwhile_is_ignored()
    {
        var flow = Flow();
        var work = flow.WorkOf(MainP0)!;
        _client.StoreThrows = true;
        var t = work.Start(Record(MainP0, 1, "a"), _ => Task.CompletedTask);
        flow.Settle(work, 1, "a", t);
        flow.StoreSettled(_client); // does not throw
    }

    [Fact]
    public void Capabilities_are_told_which_partitions_come_and_go()
    {
        var listener = new FakeListener();
        var flow = new PartitionFlow(Main, _hold, _clock, TimeSpan.FromSeconds(1), NullLogger.Instance, [listener]);
        flow.Assigned([MainP0, TierP0]);
        flow.Release(_client, [TierP0], commit: true);

        Assert.Equal([MainP0, TierP0], listener.Assigned);
        Assert.Equal([TierP0], listener.Released);
    }

    private sealed class FakeListener : IPartitionListener
    {
        public List<TopicPartition> Assigned { get; } = [];
        public List<TopicPartition> Released { get; } = [];

        void IPartitionListener.Assigned(IReadOnlyCollection<TopicPartition> partitions) => Assigned.AddRange(partitions);

        void IPartitionListener.Released(IReadOnlyCollection<TopicPartition> partitions) => Released.AddRange(partitions);
    }

    private sealed class FakeHold : ILaneHold
    {
        public bool HoldAll { get; set; }
    }

    private sealed class FakeClient : IPartitionClient
    {
        public List<TopicPartition> Paused { get; } = [];
        public List<TopicPartition> Resumed { get; } = [];
        public List<TopicPartitionOffset> Seeks { get; } = [];
        public List<TopicPartitionOffset> Stored { get; } = [];
        public List<TopicPartitionOffset> Committed { get; } = [];
        public bool StoreThrows { get; set; }

        public void Pause(IReadOnlyList<TopicPartition> partitions) => Paused.AddRange(partitions);

        public void Resume(IReadOnlyList<TopicPartition> partitions) => Resumed.AddRange(partitions);

        public void Seek(TopicPartitionOffset position) => Seeks.Add(position);

        public void StoreOffset(TopicPartitionOffset offset)
        {
            if (StoreThrows)
            {
                throw new KafkaException(ErrorCode.Local_State);
            }

            Stored.Add(offset);
        }

        public void Commit(IReadOnlyList<TopicPartitionOffset> offsets) => Committed.AddRange(offsets);
    }
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
