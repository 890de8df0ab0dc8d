using Confluent.Kafka;

namespace Streaming.Ctl;

/// <summary>Reads a topic from the beginning to the end offsets of the moment, without joining a group.</summary>
public static class TopicScanner
{
    public static IReadOnlyList<ConsumeResult<string?, byte[]>> ReadAll(CtlContext context, string topic)
    {
        using var admin = context.Admin();
        var metadata = context.Reach(admin);
        var partitions = metadata.Topics.SingleOrDefault(t => t.Topic == topic && t.Error.Code == ErrorCode.NoError)?.Partitions
            ?? throw new CtlException($"topic {topic} does not exist: run `streamctl topics create`", CtlException.Refused);

        using var consumer = context.Reader();
        var ends = new Dictionary<TopicPartition, long>();
        foreach (var p in partitions)
        {
            var tp = new TopicPartition(topic, p.PartitionId);
            var w = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10));
            if (w.High > w.Low)
            {
                ends[tp] = w.High.Value;
            }
        }

        var records = new List<ConsumeResult<string?, byte[]>>();
        if (ends.Count == 0)
        {
            return records;
        }

        consumer.Assign(ends.Keys.Select(tp => new TopicPartitionOffset(tp, Offset.Beginning)));
        var remaining = new HashSet<TopicPartition>(ends.Keys);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (remaining.Count > 0 && DateTime.UtcNow < deadline)
        {
            // End of partition, not the high watermark: a transaction's commit marker takes an offset
            // that is never delivered, so the last offset may never be seen.
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is null)
            {
                continue;
            }

            if (r.IsPartitionEOF)
            {
                remaining.Remove(r.TopicPartition);
                continue;
            }

            records.Add(r);
        }

        if (remaining.Count > 0)
        {
            throw new CtlException($"could not read {topic} to its end ({string.Join(",", remaining)}) within 60 s", CtlException.Unreachable);
        }

        return records;
    }
}
