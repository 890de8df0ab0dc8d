using System.CommandLine;
using Spectre.Console;
using Streaming.Kafka;

namespace Streaming.Ctl.Commands;

internal static class TopicsCommands
{
    public static Command Create(Func<CtlContext> context)
    {
        var create = new Command("create", "Create every topic of the topology that is missing (idempotent); non-zero exit if a topic does not match");
        create.SetAction(async (_, _) =>
        {
            var ctx = context();
            using var admin = ctx.Admin();
            ctx.Reach(admin);
            return Print(ctx, await TopicProvisioner.EnsureAsync(admin, ctx.Topology, TimeSpan.FromSeconds(30)));
        });

        var describe = new Command("describe", "Compare the topology with the cluster, changing nothing");
        describe.SetAction((_, _) =>
        {
            var ctx = context();
            using var admin = ctx.Admin();
            ctx.Reach(admin);
            return Task.FromResult(Print(ctx, TopicProvisioner.Check(admin, ctx.Topology, TimeSpan.FromSeconds(15))));
        });

        return new Command("topics", "The topology's topics: lanes, retry tiers, dead letters, replay ledgers") { create, describe };
    }

    private static int Print(CtlContext ctx, IReadOnlyList<TopicReport> reports)
    {
        var table = new Table().AddColumns("topic", "kind", "partitions", "state", "detail");
        foreach (var r in reports)
        {
            table.AddRow(
                Markup.Escape(r.Topic.Name),
                r.Topic.Kind.ToString(),
                r.ActualPartitions is { } actual && actual != r.Topic.Partitions ? $"{actual} (want {r.Topic.Partitions})" : r.Topic.Partitions.ToString(),
                r.State.ToString(),
                Markup.Escape(r.Detail ?? ""));
        }

        ctx.Console.Write(table);
        var bad = reports.Count(r => !r.IsHealthy);
        if (bad > 0)
        {
            ctx.Error.WriteLine($"streamctl: {bad} of {reports.Count} topics are missing or do not match the topology");
            return CtlException.Refused;
        }

        return 0;
    }
}
