using System.Collections.Concurrent;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Streaming.Kafka;
using Streaming.Kafka.Clients;
using Streaming.Worker.Telemetry;

namespace Streaming.Worker.Consuming;

/// <summary>
/// whatsapp_worker_consumer_lag from the broker's end offsets. The consumer's own cached high watermark
/// moves only while librdkafka fetches a partition, and the lane pauses partitions exactly while its
/// endpoint is down (circuit open) or it is saturated: lag computed from that cache freezes when it
/// matters. So the poll thread only hands over its partitions and positions (<see cref="Track"/>, a
/// local read), and this service asks the broker for each partition's end offset on its own timer, with a
/// handle of its own that never joins the group. A partition whose position is not known yet (assigned
/// while held, never fetched) counts from the group's committed offset, or from the start of the log
/// when nothing is committed (auto.offset.reset=earliest).
/// </summary>
public sealed class BrokerLag : BackgroundService
{
    /// <summary>How often the broker is asked; the lag alerts' windows are minutes.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(5);

    private readonly KafkaClientFactory _clients;
    private readonly string _group;
    private readonly WorkerTelemetry _telemetry;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly ILogger<BrokerLag> _logger;
    private readonly ConcurrentDictionary<TopicPartition, Offset> _positions = new();
    private readonly Lock _gate = new();

    public BrokerLag(KafkaClientFactory clients, Topology topology, IOptions<WorkerOptions> options, WorkerTelemetry telemetry, TimeProvider time, ILogger<BrokerLag> logger)
        : this(clients, topology.ConsumerGroup(options.Value.Lane), telemetry, time, DefaultInterval, logger)
    {
    }

    internal BrokerLag(KafkaClientFactory clients, string group, WorkerTelemetry telemetry, TimeProvider time, TimeSpan interval, ILogger<BrokerLag> logger)
    {
        _clients = clients;
        _group = group;
        _telemetry = telemetry;
        _time = time;
        _interval = interval;
        _logger = logger;
    }

    /// <summary>
    /// Poll thread: the partitions this member owns and the next offset it reads on each (Offset.Unset when
    /// not fetched yet). Partitions not named keep their last position until <see cref="Forget"/>, so that
    /// more than one consumer may report here.
    /// </summary>
    public void Track(IEnumerable<TopicPartition> partitions, Func<TopicPartition, Offset> positionOf)
    {
        foreach (var tp in partitions)
        {
            _positions[tp] = positionOf(tp);
        }
    }

    /// <summary>Revoked or lost: no longer this member's lag. Its series reads 0 from now on.</summary>
    public void Forget(IEnumerable<TopicPartition> partitions)
    {
        lock (_gate)
        {
            foreach (var tp in partitions)
            {
                _positions.TryRemove(tp, out _);
                _telemetry.ForgetLag(tp);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Blocking broker calls: on a thread of their own, never the poll thread or the host's start-up path.
        await Task.Yield();
        IConsumer<Ignore, Ignore>? reader = null;
        using var timer = new PeriodicTimer(_interval, _time);
        try
        {
            do
            {
                if (_positions.IsEmpty)
                {
                    continue;
                }

                try
                {
                    reader ??= BuildReader();
                    Measure(reader, stoppingToken);
                }
                catch (KafkaException e)
                {
                    // The broker is unreachable: the last lag stays; the next tick asks again.
                    _logger.LagQueryFailed(e.Error.Reason);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            reader?.Dispose();
        }
    }

    /// <summary>Reads committed offsets with the group's id but never subscribes: it causes no rebalance and commits nothing.</summary>
    private IConsumer<Ignore, Ignore> BuildReader() => _clients.Consumer<Ignore, Ignore>(new ConsumerConfig
    {
        GroupId = _group,
        ClientId = $"{_group}-lag-{Environment.MachineName}",
        EnableAutoCommit = false,
        EnableAutoOffsetStore = false,
        IsolationLevel = IsolationLevel.ReadCommitted,
    }).Build();

    private void Measure(IConsumer<Ignore, Ignore> reader, CancellationToken stop)
    {
        var snapshot = _positions.ToArray();
        var unknown = snapshot.Where(p => p.Value == Offset.Unset).Select(p => p.Key).ToList();
        var committed = unknown.Count == 0
            ? new Dictionary<TopicPartition, Offset>()
            : reader.Committed(unknown, QueryTimeout).ToDictionary(c => c.TopicPartition, c => c.Offset);
        foreach (var (tp, position) in snapshot)
        {
            // Each query may wait for an unreachable broker: never hold up a shutdown for all of them.
            if (stop.IsCancellationRequested)
            {
                return;
            }

            var watermarks = reader.QueryWatermarkOffsets(tp, QueryTimeout);
            var from = position != Offset.Unset ? position
                : committed.TryGetValue(tp, out var c) && c != Offset.Unset ? c
                : watermarks.Low;
            if (watermarks.High == Offset.Unset || from == Offset.Unset)
            {
                continue;
            }

            lock (_gate)
            {
                // Revoked while the broker was asked: its series already reads 0 and stays so.
                if (_positions.ContainsKey(tp))
                {
                    _telemetry.SetLag(tp, Math.Max(0, watermarks.High.Value - from.Value));
                }
            }
        }
    }
}
