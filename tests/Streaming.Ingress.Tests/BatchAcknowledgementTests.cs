using Confluent.Kafka;
using Streaming.Ingress.Publishing;

namespace Streaming.Ingress.Tests;

/// <summary>How one webhook's delivery reports become its answer, without a broker.</summary>
public sealed class BatchAcknowledgementTests
{
    private readonly List<(int Partition, bool Decided)> _unverified = [];
    private long _finishedBytes;

    private BatchAcknowledgement Batch(int records) =>
        new(records, 100, b => _finishedBytes += b, (r, decided) => _unverified.Add((r.Partition.Value, decided)));

    private static DeliveryReport<string, byte[]> Report(long offset, ErrorCode error = ErrorCode.NoError, PersistenceStatus status = PersistenceStatus.Persisted) => new()
    {
        TopicPartitionOffset = new TopicPartitionOffset("whatsapp.messages", 3, offset),
        Error = new Error(error),
        Status = status,
    };

    [Fact]
    public async Task Every_record_with_an_offset_is_stored()
    {
        var batch = Batch(2);
        batch.Handler(Report(10));
        batch.Handler(Report(11));
        Assert.Null(await batch.Completion);
        Assert.Equal(100, _finishedBytes);
    }

    [Fact]
    public async Task A_record_persisted_without_an_offset_refuses_the_webhook_as_unverified()
    {
        var batch = Batch(2);
        batch.Handler(Report(10));
        batch.Handler(Report(Offset.Unset));
        var refusal = await batch.Completion;
        Assert.Equal(PublishOutcome.Unverified, refusal?.Outcome);
        Assert.Contains("[3]", refusal?.Reason, StringComparison.Ordinal);
        Assert.Equal([(3, true)], _unverified);
        Assert.Equal(100, _finishedBytes);
    }

    [Fact]
    public async Task An_unverified_report_after_the_budget_ran_out_is_reported_but_does_not_decide()
    {
        var batch = Batch(1);
        Assert.True(batch.GiveUp(PublishOutcome.TimedOut, "budget"));
        batch.Handler(Report(Offset.Unset));
        Assert.Equal(PublishOutcome.TimedOut, (await batch.Completion)?.Outcome);
        Assert.Equal([(3, false)], _unverified);
    }

    [Fact]
    public async Task An_error_or_an_uncertain_status_fails_the_webhook()
    {
        var failed = Batch(1);
        failed.Handler(Report(Offset.Unset, ErrorCode.Local_MsgTimedOut, PersistenceStatus.NotPersisted));
        Assert.Equal(PublishOutcome.Failed, (await failed.Completion)?.Outcome);

        var possibly = Batch(1);
        possibly.Handler(Report(12, status: PersistenceStatus.PossiblyPersisted));
        Assert.Equal(PublishOutcome.Failed, (await possibly.Completion)?.Outcome);
        Assert.Empty(_unverified);
    }
}
