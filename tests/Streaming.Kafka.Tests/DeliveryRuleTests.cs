using Confluent.Kafka;
using Streaming.Kafka.Acknowledgements;

namespace Streaming.Kafka.Tests;

public class DeliveryRuleTests
{
    [Theory]
    [InlineData(ErrorCode.NoError, PersistenceStatus.Persisted, 0L, DeliveryVerdict.Stored)]
    [InlineData(ErrorCode.NoError, PersistenceStatus.Persisted, 41L, DeliveryVerdict.Stored)]
    [InlineData(ErrorCode.NoError, PersistenceStatus.Persisted, -1001L, DeliveryVerdict.Unverified)] // Offset.Unset: librdkafka's implicit ack
    [InlineData(ErrorCode.NoError, PersistenceStatus.Persisted, -1L, DeliveryVerdict.Unverified)]
    [InlineData(ErrorCode.NoError, PersistenceStatus.PossiblyPersisted, 7L, DeliveryVerdict.Failed)]
    [InlineData(ErrorCode.NoError, PersistenceStatus.NotPersisted, -1001L, DeliveryVerdict.Failed)]
    [InlineData(ErrorCode.Local_MsgTimedOut, PersistenceStatus.Persisted, 3L, DeliveryVerdict.Failed)]
    [InlineData(ErrorCode.RequestTimedOut, PersistenceStatus.PossiblyPersisted, -1001L, DeliveryVerdict.Failed)]
    public void A_report_counts_as_stored_only_with_no_error_status_persisted_and_an_offset(ErrorCode error, PersistenceStatus status, long offset, DeliveryVerdict expected)
    {
        Assert.Equal(expected, DeliveryRule.Judge(new Error(error), status, new Offset(offset)));
        var report = new DeliveryReport<string, byte[]>
        {
            Error = new Error(error), Status = status, TopicPartitionOffset = new TopicPartitionOffset("t", 0, offset),
        };
        Assert.Equal(expected, DeliveryRule.Judge(report));
    }

    [Fact]
    public void A_produce_async_result_is_judged_by_status_and_offset()
    {
        Assert.Equal(DeliveryVerdict.Unverified, DeliveryRule.Judge(new DeliveryResult<string, byte[]>
        {
            Status = PersistenceStatus.Persisted, TopicPartitionOffset = new TopicPartitionOffset("t", 0, Offset.Unset),
        }));
        Assert.Equal(DeliveryVerdict.Stored, DeliveryRule.Judge(new DeliveryResult<string, byte[]>
        {
            Status = PersistenceStatus.Persisted, TopicPartitionOffset = new TopicPartitionOffset("t", 0, 12),
        }));
    }
}
