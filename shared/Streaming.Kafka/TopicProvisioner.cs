using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Streaming.Kafka;

public enum TopicState
{
    Created,
    Exists,
    WrongPartitionCount,
    Missing,
}

public sealed record TopicReport(TopicDefinition Topic, TopicState State, int? ActualPartitions, string? Detail = null)
{
    public bool IsHealthy => State is TopicState.Created or TopicState.Exists;
}

/// <summary>
/// Creates the topology on a real broker with CreateTopics (idempotent: existing topics are fine) and
/// reports what does not match. The embedded broker has no CreateTopics; its topics are made through
/// the mock API by whoever starts it, so here they are only checked.
/// </summary>
public static class TopicProvisioner
{
    public static async Task<IReadOnlyList<TopicReport>> EnsureAsync(IAdminClient admin, Topology topology, TimeSpan timeout)
    {
        var metadata = admin.GetMetadata(timeout);
        var brokers = Math.Max(1, metadata.Brokers.Count);
        var existing = metadata.Topics.Where(t => t.Error.Code == ErrorCode.NoError).ToDictionary(t => t.Topic, t => t.Partitions.Count);
        var missing = topology.Topics.Where(t => !existing.ContainsKey(t.Name)).ToList();
        var created = new HashSet<string>();
        var failures = new Dictionary<string, string>();

        if (missing.Count > 0)
        {
            try
            {
                await admin.CreateTopicsAsync(
                    missing.Select(t => new TopicSpecification
                    {
                        Name = t.Name,
                        NumPartitions = t.Partitions,
                        // A dev cluster may have fewer brokers than production's replication factor.
                        ReplicationFactor = (short)Math.Min(t.ReplicationFactor, brokers),
                        Configs = t.Config.ToDictionary(),
                    }),
                    new CreateTopicsOptions { RequestTimeout = timeout, OperationTimeout = timeout });
                created.UnionWith(missing.Select(t => t.Name));
            }
            catch (CreateTopicsException e)
            {
                foreach (var result in e.Results)
                {
                    if (result.Error.Code is ErrorCode.NoError or ErrorCode.TopicAlreadyExists)
                    {
                        created.Add(result.Topic);
                    }
                    else
                    {
                        failures[result.Topic] = result.Error.Reason;
                    }
                }
            }
            catch (KafkaException e)
            {
                foreach (var t in missing)
                {
                    failures[t.Name] = e.Error.Reason;
                }
            }
        }

        return Check(admin, topology, timeout, created, failures);
    }

    /// <summary>Compares the cluster's topics with the topology without changing anything.</summary>
    public static IReadOnlyList<TopicReport> Check(IAdminClient admin, Topology topology, TimeSpan timeout) =>
        Check(admin, topology, timeout, [], new Dictionary<string, string>());

    private static IReadOnlyList<TopicReport> Check(
        IAdminClient admin, Topology topology, TimeSpan timeout, HashSet<string> created, Dictionary<string, string> failures)
    {
        var metadata = admin.GetMetadata(timeout);
        var actual = metadata.Topics.Where(t => t.Error.Code == ErrorCode.NoError).ToDictionary(t => t.Topic, t => t.Partitions.Count);
        return topology.Topics.Select(t =>
        {
            if (!actual.TryGetValue(t.Name, out var partitions))
            {
                return new TopicReport(t, TopicState.Missing, null, failures.GetValueOrDefault(t.Name));
            }

            if (partitions != t.Partitions)
            {
                return new TopicReport(t, TopicState.WrongPartitionCount, partitions,
                    $"has {partitions} partitions, the topology says {t.Partitions}; partitions can only grow (kafka-topics --alter)");
            }

            return new TopicReport(t, created.Contains(t.Name) ? TopicState.Created : TopicState.Exists, partitions);
        }).ToArray();
    }
}
