using Microsoft.Extensions.Options;
using Streaming.Kafka;

namespace Streaming.Worker.Consuming;

/// <summary>
/// The lane's consumers in this process: one <see cref="LaneConsumer"/> per topic (the main topic and each
/// retry tier), each a member of the lane's group (<c>&lt;prefix&gt;-&lt;lane&gt;-worker</c>, the group KEDA
/// and operators read) subscribed to that one topic.
/// <para>
/// Why not one member subscribed to all of them: the cooperative-sticky assignor balances the number of
/// partitions per member over every topic it subscribes to, not per topic, so a replica could end up with
/// only tier partitions and none of the main topic while the lane's lag grows. A member is only eligible for
/// the topics it subscribes to, so with one topic per member the assignor balances each topic on its own
/// among the replicas: an even share (±1) of the main topic and of every tier, after any joins and leaves.
/// It stays one group, so offsets committed before carry over, the assignor stays cooperative (a join moves
/// only the partitions that change owner) and KEDA's lag on the main topic is unchanged.
/// </para>
/// They share the process's <see cref="LaneSlots"/>, lane hold and listeners. One failing stops the others:
/// the process ends and is restarted whole rather than serving part of the lane. On the way out every one
/// drains and commits before any leaves the group: a member leaving starts a rebalance, during which a
/// commit can be refused (REBALANCE_IN_PROGRESS; the embedded broker does), and the main topic's consumer,
/// the slowest to drain, would lose its last commit to its tier siblings' leaving: its next owner would
/// deliver those events again.
/// </summary>
public sealed class LaneConsumers(
    IServiceProvider services, Topology topology, IOptions<WorkerOptions> options, IEnumerable<IPartitionListener> listeners) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var lane = topology[options.Value.Lane];
        var shared = new SerializedListeners(listeners);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        // Started together, so that a new replica's members join the group in one rebalance.
        var consumers = new[] { lane.Main.Name }.Concat(lane.RetryTiers.Select(t => t.Name))
            .Select(topic => ActivatorUtilities.CreateInstance<LaneConsumer>(services, topic, shared))
            .ToArray();
        var runs = consumers
            .Select(consumer => Task.Factory.StartNew(() => consumer.Run(stop.Token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default))
            .ToArray();

        await Task.WhenAny(runs);
        await stop.CancelAsync();
        try
        {
            await Task.WhenAll(runs);
        }
        finally
        {
            await Task.WhenAll(consumers.Select(c => Task.Run(c.Close, CancellationToken.None)));
        }
    }
}
