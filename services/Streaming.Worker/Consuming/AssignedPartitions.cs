using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Streaming.Kafka;
using Streaming.Worker.Telemetry;

namespace Streaming.Worker.Consuming;

/// <summary>
/// Which partitions this replica holds now, per topic: the replica's share of the lane. Exported as
/// whatsapp_worker_assigned_partitions{lane,topic}, so an operator sees at a glance whether every pod has
/// its part of the main topic (the contract: an even share, ±1, of the main topic and of each tier) and
/// how long a new pod took to get it.
/// </summary>
public sealed class AssignedPartitions : IPartitionListener
{
    private readonly ConcurrentDictionary<TopicPartition, byte> _held = new();

    public AssignedPartitions(IMeterFactory meters, IOptions<WorkerOptions> options, Topology topology)
    {
        var lane = new KeyValuePair<string, object?>("lane", options.Value.LaneName);
        var topics = topology[options.Value.Lane] is var t ? new[] { t.Main.Name }.Concat(t.RetryTiers.Select(r => r.Name)).ToArray() : [];
        // Every topic the lane consumes, 0 included: a pod holding none of the main topic is what to see.
        // The factory hands back the worker's meter (same name), so the gauge is one of whatsapp_worker_*.
        meters.Create(WorkerTelemetry.Name).CreateObservableGauge("assigned_partitions",
            () => topics.Select(topic => new Measurement<int>(Count(topic), lane, new("topic", topic))),
            description: "Partitions this replica holds, per topic of its lane");
    }

    /// <summary>How many partitions of the topic this replica holds.</summary>
    public int Count(string topic) => _held.Keys.Count(tp => tp.Topic == topic);

    /// <summary>The partitions of the topic this replica holds, in order.</summary>
    public IReadOnlyList<int> Of(string topic) => [.. _held.Keys.Where(tp => tp.Topic == topic).Select(tp => tp.Partition.Value).Order()];

    public void Assigned(IReadOnlyCollection<TopicPartition> partitions)
    {
        foreach (var tp in partitions)
        {
            _held[tp] = 0;
        }
    }

    public void Released(IReadOnlyCollection<TopicPartition> partitions)
    {
        foreach (var tp in partitions)
        {
            _held.TryRemove(tp, out _);
        }
    }
}
