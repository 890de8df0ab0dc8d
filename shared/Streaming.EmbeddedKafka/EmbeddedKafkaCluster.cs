using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;
using Streaming.Kafka;

namespace Streaming.EmbeddedKafka;

/// <summary>
/// librdkafka's mock cluster: brokers that speak the real Kafka protocol on loopback TCP, with consumer
/// groups, idempotent and transactional producers and fault injection. In memory only, each partition
/// capped at about 5 MiB / 100,000 batches (the oldest are dropped), no Admin API for topics, no TLS/SASL.
/// A development and test broker, never a production one.
/// </summary>
public sealed class EmbeddedKafkaCluster : IDisposable
{
    public const string Banner =
        "embedded Kafka (librdkafka mock cluster): IN MEMORY ONLY, each partition keeps ~5 MiB / 100k batches and drops the oldest, no TLS/SASL. For development and tests, NEVER for production.";

    private readonly IntPtr _handle;
    private readonly IntPtr _cluster;
    private readonly object _gate = new();
    private bool _disposed;

    private EmbeddedKafkaCluster(IntPtr handle, IntPtr cluster, int brokerCount)
    {
        _handle = handle;
        _cluster = cluster;
        BrokerCount = brokerCount;
        BootstrapServers = Marshal.PtrToStringUTF8(NativeMock.rd_kafka_mock_cluster_bootstraps(cluster))
            ?? throw new InvalidOperationException("the mock cluster returned no bootstrap servers");
    }

    public string BootstrapServers { get; }

    public int BrokerCount { get; }

    /// <summary>Broker ids are 1..BrokerCount.</summary>
    public IEnumerable<int> BrokerIds => Enumerable.Range(1, BrokerCount);

    public static EmbeddedKafkaCluster Start(int brokerCount = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokerCount, 1);
        NativeMock.EnsureBound();
        var errstr = new byte[512];
        var conf = NativeMock.rd_kafka_conf_new();
        // The mock cluster logs through this handle; keep it to warnings and errors.
        NativeMock.rd_kafka_conf_set(conf, "log_level", "3", errstr, (UIntPtr)errstr.Length);
        var handle = NativeMock.rd_kafka_new(0 /* RD_KAFKA_PRODUCER */, conf, errstr, (UIntPtr)errstr.Length);
        if (handle == IntPtr.Zero)
        {
            throw new InvalidOperationException($"rd_kafka_new failed: {Encoding.UTF8.GetString(errstr).TrimEnd('\0')}");
        }

        var cluster = NativeMock.rd_kafka_mock_cluster_new(handle, brokerCount);
        if (cluster == IntPtr.Zero)
        {
            NativeMock.rd_kafka_destroy(handle);
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
        }

        return new EmbeddedKafkaCluster(handle, cluster, brokerCount);
    }

    /// <summary>Creates every topic of the topology (replication capped by the broker count).</summary>
    public void CreateTopics(Topology topology)
    {
        foreach (var topic in topology.Topics)
        {
            CreateTopic(topic.Name, topic.Partitions, Math.Min(topic.ReplicationFactor, (short)BrokerCount));
        }
    }

    public void CreateTopic(string name, int partitions, int replicationFactor = 1)
    {
        var err = Call(() => NativeMock.rd_kafka_mock_topic_create(_cluster, name, partitions, replicationFactor));
        ThrowOnError(err, $"create topic {name}");
    }

    public void SetBrokerDown(int brokerId) => ThrowOnError(Call(() => NativeMock.rd_kafka_mock_broker_set_down(_cluster, brokerId)), $"set broker {brokerId} down");

    public void SetBrokerUp(int brokerId) => ThrowOnError(Call(() => NativeMock.rd_kafka_mock_broker_set_up(_cluster, brokerId)), $"set broker {brokerId} up");

    public void SetAllBrokersDown()
    {
        foreach (var id in BrokerIds)
        {
            SetBrokerDown(id);
        }
    }

    public void SetAllBrokersUp()
    {
        foreach (var id in BrokerIds)
        {
            SetBrokerUp(id);
        }
    }

    /// <summary>Adds round-trip latency to every request served by a broker.</summary>
    public void SetBrokerLatency(int brokerId, TimeSpan rtt) =>
        ThrowOnError(Call(() => NativeMock.rd_kafka_mock_broker_set_rtt(_cluster, brokerId, (int)rtt.TotalMilliseconds)), $"set broker {brokerId} rtt");

    /// <summary>The next requests of this type, cluster-wide, fail with these errors in order.</summary>
    public void PushRequestErrors(KafkaApiKey api, params ErrorCode[] errors)
    {
        var codes = errors.Select(e => (int)e).ToArray();
        Call(() =>
        {
            NativeMock.rd_kafka_mock_push_request_errors_array(_cluster, (short)api, (UIntPtr)codes.Length, codes);
            return 0;
        });
    }

    /// <summary>
    /// The next requests of this type served by one broker answer these errors, each reply held back by
    /// its delay (0 ms and NoError for a delayed success). The request is handled at once (an errored
    /// Produce appends nothing) and only its reply waits; replies on a connection leave in order, so later
    /// requests on it are processed (and appended) while their replies queue behind the delayed one.
    /// Broker errors take precedence over the cluster-wide ones of <see cref="PushRequestErrors"/>.
    /// </summary>
    public void PushBrokerRequestErrors(int brokerId, KafkaApiKey api, params (ErrorCode Error, TimeSpan Delay)[] replies)
    {
        if (OperatingSystem.IsMacOS() && RuntimeInformation.ProcessArchitecture == Architecture.Arm64)
        {
            // Apple's arm64 ABI passes C varargs on the stack, not in registers: the fixed binding would be wrong.
            throw new PlatformNotSupportedException("broker request errors with delays need x86-64 or Linux arm64");
        }

        foreach (var (error, delay) in replies)
        {
            var err = Call(() => NativeMock.rd_kafka_mock_broker_push_request_error_rtts(
                _cluster, brokerId, (short)api, 1, (int)error, (int)delay.TotalMilliseconds));
            ThrowOnError(err, $"push a {api} error on broker {brokerId}");
        }
    }

    /// <summary>How many of the errors pushed on this broker for this request type are still waiting for a request.</summary>
    public int PendingBrokerRequestErrors(int brokerId, KafkaApiKey api)
    {
        var count = UIntPtr.Zero;
        ThrowOnError(Call(() => NativeMock.rd_kafka_mock_broker_error_stack_cnt(_cluster, brokerId, (short)api, out count)), $"count broker {brokerId}'s {api} errors");
        return (int)count;
    }

    public void ClearRequestErrors(KafkaApiKey api) => Call(() =>
    {
        NativeMock.rd_kafka_mock_clear_request_errors(_cluster, (short)api);
        return 0;
    });

    /// <summary>Makes every request for the topic fail with this error (NoError clears it).</summary>
    public void SetTopicError(string topic, ErrorCode error) => Call(() =>
    {
        NativeMock.rd_kafka_mock_topic_set_error(_cluster, topic, (int)error);
        return 0;
    });

    /// <summary>Moves a partition's leadership: the way to simulate a leader change (broker down does not).</summary>
    public void SetPartitionLeader(string topic, int partition, int brokerId) =>
        ThrowOnError(Call(() => NativeMock.rd_kafka_mock_partition_set_leader(_cluster, topic, partition, brokerId)), $"move leader of {topic}[{partition}]");

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            NativeMock.rd_kafka_mock_cluster_destroy(_cluster);
            NativeMock.rd_kafka_destroy(_handle);
        }
    }

    private int Call(Func<int> call)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return call();
        }
    }

    private static void ThrowOnError(int err, string what)
    {
        if (err != 0)
        {
            throw new KafkaException(new Error((ErrorCode)err, $"embedded Kafka: could not {what}: {(ErrorCode)err}"));
        }
    }
}
