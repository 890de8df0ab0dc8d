using System.Text;
using Confluent.Kafka;

namespace Streaming.Testing;

/// <summary>A record as a test sees it: headers decoded to strings.</summary>
public sealed record ReadRecord(string Topic, int Partition, long Offset, string? Key, byte[] Value, IReadOnlyDictionary<string, string> Headers)
{
    public string ValueText => Encoding.UTF8.GetString(Value);

    public string? Header(string name) => Headers.GetValueOrDefault(name);
}

/// <summary>Reads topics without a consumer group, from the beginning up to the end offsets of the moment.</summary>
public static class TopicReader
{
    public static IReadOnlyList<ReadRecord> ReadAll(string bootstrapServers, params string[] topics)
    {
        using var consumer = new ConsumerBuilder<string?, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "test-reader-unused",
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            EnablePartitionEof = true,
        }).Build();
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();

        var ends = new Dictionary<TopicPartition, long>();
        foreach (var topic in topics)
        {
            var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
            foreach (var partition in metadata.Topics.Single().Partitions)
            {
                var tp = new TopicPartition(topic, partition.PartitionId);
                var end = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value;
                if (end > 0)
                {
                    ends[tp] = end;
                }
            }
        }

        var records = new List<ReadRecord>();
        if (ends.Count == 0)
        {
            return records;
        }

        consumer.Assign(ends.Keys.Select(tp => new TopicPartitionOffset(tp, Offset.Beginning)));
        var remaining = new HashSet<TopicPartition>(ends.Keys);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (remaining.Count > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"could not read up to the end offsets of {string.Join(", ", remaining)}");
            }

            // End of partition, not the high watermark: a transaction's commit marker takes an offset
            // that is never delivered.
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is null)
            {
                continue;
            }

            if (result.IsPartitionEOF)
            {
                remaining.Remove(result.TopicPartition);
                continue;
            }

            records.Add(new ReadRecord(result.Topic, result.Partition.Value, result.Offset.Value, result.Message.Key, result.Message.Value,
                (result.Message.Headers ?? []).ToDictionary(h => h.Key, h => Encoding.UTF8.GetString(h.GetValueBytes()))));
        }

        return records;
    }

    /// <summary>The sum of the end offsets: how many records were ever written to the topics.</summary>
    public static long CountWritten(string bootstrapServers, params string[] topics) =>
        ReadAll(bootstrapServers, topics).Count;
}
