using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Confluent.Kafka;
using Streaming.Contracts;
using Streaming.Ctl.Output;

namespace Streaming.Ctl.Commands;

public sealed record PartitionLag(string Lane, string Group, string Topic, int Partition, long? Committed, long End, long Lag);

[JsonSerializable(typeof(IReadOnlyList<PartitionLag>))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
internal sealed partial class LagJsonContext : JsonSerializerContext;

internal static class LagCommand
{
    public static Command Create(Func<CtlContext> context)
    {
        var lane = new Option<string?>("--lane") { Description = "messages or statuses (default: both)" };
        var json = new Option<bool>("--json") { Description = "JSON for scripts instead of a table: every partition's row" };
        var partitions = new Option<bool>("--partitions") { Description = "one row per partition (committed, end, lag) instead of one per topic" };
        var command = new Command("lag", "Per lane's consumer group and topic: lag, and partitions with lag (--partitions: per partition)") { lane, json, partitions };
        command.SetAction((parse, _) =>
        {
            var ctx = context();
            var lanes = parse.GetValue(lane) is { } name ? [CtlContext.ParseLane(name)] : LaneNames.All;
            var rows = lanes.SelectMany(l => Measure(ctx, l)).ToArray();
            if (parse.GetValue(json))
            {
                ctx.Out.WriteLine(JsonSerializer.Serialize<IReadOnlyList<PartitionLag>>(rows, LagJsonContext.Default.IReadOnlyListPartitionLag));
                return Task.FromResult(0);
            }

            LagListing.Write(ctx, rows, parse.GetValue(partitions));
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>Lag of the lane's group on its main topic and retry tiers (what the workers consume).</summary>
    public static IEnumerable<PartitionLag> Measure(CtlContext ctx, Lane lane)
    {
        var topics = ctx.Topology[lane];
        var group = ctx.Topology.ConsumerGroup(lane);
        using var admin = ctx.Admin();
        var metadata = ctx.Reach(admin);
        // Committed offsets are read with the group's id but without joining it: no rebalance is caused.
        using var consumer = ctx.Reader(group);
        var partitions = new[] { topics.Main }.Concat(topics.RetryTiers)
            .SelectMany(t => metadata.Topics.SingleOrDefault(m => m.Topic == t.Name)?.Partitions.Select(p => new TopicPartition(t.Name, p.PartitionId)) ?? [])
            .ToArray();
        var committed = consumer.Committed(partitions, TimeSpan.FromSeconds(15)).ToDictionary(c => c.TopicPartition, c => c.Offset);
        foreach (var tp in partitions)
        {
            var w = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10));
            var done = committed.TryGetValue(tp, out var c) && c != Offset.Unset ? c.Value : (long?)null;
            yield return new PartitionLag(lane.ToName(), group, tp.Topic, tp.Partition.Value, done, w.High.Value, Math.Max(0, w.High.Value - (done ?? w.Low.Value)));
        }
    }
}
