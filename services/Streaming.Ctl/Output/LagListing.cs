using System.Globalization;
using Streaming.Ctl.Commands;

namespace Streaming.Ctl.Output;

/// <summary>One topic of one group, summed over its partitions: what `lag` prints by default.</summary>
public sealed record TopicLag(string Lane, string Group, string Topic, int Partitions, int PartitionsWithLag, long Lag);

/// <summary>
/// `lag` without --json: by default one line per group and topic (lag, and how many partitions
/// have any), in topology order; with --partitions one line per partition. Then each group's total.
/// </summary>
public static class LagListing
{
    public static readonly IReadOnlyList<Column> SummaryColumns =
        [new("group"), new("topic"), new("partitions"), new("with lag"), new("lag")];

    public static readonly IReadOnlyList<Column> PartitionColumns =
        [new("group"), new("topic"), new("partition"), new("committed"), new("end"), new("lag")];

    public static IReadOnlyList<TopicLag> Summarize(IEnumerable<PartitionLag> rows) =>
        rows.GroupBy(r => (r.Lane, r.Group, r.Topic))
            .Select(g => new TopicLag(g.Key.Lane, g.Key.Group, g.Key.Topic, g.Count(), g.Count(r => r.Lag > 0), g.Sum(r => r.Lag)))
            .ToArray();

    public static void Write(CtlContext ctx, IReadOnlyList<PartitionLag> rows, bool partitions)
    {
        if (partitions)
        {
            Columns.Write(ctx, PartitionColumns, rows.Select(r => new[]
            {
                r.Group, r.Topic, Number(r.Partition), r.Committed is { } c ? Number(c) : null, Number(r.End), Number(r.Lag),
            }));
        }
        else
        {
            Columns.Write(ctx, SummaryColumns, Summarize(rows).Select(t => new[]
            {
                t.Group, t.Topic, Number(t.Partitions), Number(t.PartitionsWithLag), Number(t.Lag),
            }));
        }

        foreach (var group in rows.GroupBy(r => r.Group))
        {
            ctx.Out.WriteLine($"{group.Key}: total lag {group.Sum(r => r.Lag)}");
        }
    }

    private static string Number(long n) => n.ToString(CultureInfo.InvariantCulture);
}
