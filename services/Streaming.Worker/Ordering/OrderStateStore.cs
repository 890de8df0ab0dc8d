using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Streaming.Contracts;
using Streaming.Kafka;
using Streaming.Kafka.Clients;
using Streaming.Worker.Consuming;
using Streaming.Worker.Processing;
using Streaming.Worker.Telemetry;

namespace Streaming.Worker.Ordering;

/// <summary>
/// The ordering state of the lane, kept in its compacted <c>&lt;prefix&gt;.&lt;lane&gt;.order</c> topic and
/// mirrored in memory: every replica tails the whole topic (no consumer group), applies what the others
/// write, and applies its own writes once the broker has acknowledged them. Before a newly assigned
/// partition's records are decided, the tail has read up to the end offsets seen at the assignment
/// (<see cref="Ready"/>), so a replica that takes over knows what its predecessor wrote. Memory holds only
/// blocked keys (constant size each, however many events wait) and status ranks younger than the window.
/// </summary>
public sealed class OrderStateStore : IPartitionListener, IHostedService, IDisposable
{
    internal const string ChainPrefix = "c|";
    internal const string ProgressPrefix = "p|";
    internal const string StatusPrefix = "s|";
    internal const string ClaimPrefix = "o|";
    private const string WriterHeader = "order-writer";

    // On a release (tombstone), what a value would say: whose write it is, and the chain's last main offset.
    private const string EpochHeader = "order-epoch";
    private const string PartitionHeader = "order-partition";
    private const string LastOffsetHeader = "order-last-offset";
    private static readonly TimeSpan ReleasedWindow = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan StrayWindow = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan CatchUpLimit = TimeSpan.FromSeconds(15);

    private readonly string _topic;
    private readonly int _partitions;
    private readonly string _mainTopic;
    private readonly TimeSpan _statusWindow;
    private readonly TimeSpan _fetchRound;
    private readonly StoredProducer _producer;
    private readonly TimeProvider _time;
    private readonly ILogger<OrderStateStore> _logger;
    private readonly IConsumer<string?, byte[]> _tail;
    private readonly byte[] _writer = Encoding.UTF8.GetBytes(Guid.NewGuid().ToString("N"));
    private readonly ConcurrentDictionary<string, StatusMark> _marks = new();
    private readonly ConcurrentDictionary<int, long> _positions = new();
    private readonly ConcurrentDictionary<int, byte> _ownedMain = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _ready = Task.CompletedTask;
    private Thread? _thread;
    private int _disposed;

    public OrderStateStore(
        Topology topology, IOptions<WorkerOptions> options, IOptions<OrderingOptions> ordering, KafkaClientFactory clients,
        StoredProducer producer, TimeProvider time, ILogger<OrderStateStore> logger)
    {
        var lane = topology[options.Value.Lane];
        // Statuses always keep their ranks; a lane keeps chains with ORDERING=key.
        Enabled = lane.Lane == Contracts.Lane.Statuses || ordering.Value.ByKey;
        _topic = lane.Order.Name;
        _partitions = lane.Order.Partitions;
        _mainTopic = lane.Main.Name;
        // A status can come back from the tiers at most the sum of their delays after it first failed.
        _statusWindow = TimeSpan.FromTicks(topology.RetryDelays.Sum(d => d.Ticks)) + TimeSpan.FromMinutes(1);
        _producer = producer;
        _fetchRound = TimeSpan.FromMilliseconds((3 * options.Value.FetchWaitMs) + 100);
        _time = time;
        _logger = logger;
        State = new OrderState(ordering.Value.MaxBlocked);
        _tail = clients.Consumer<string?, byte[]>(new ConsumerConfig
        {
            // Assigned by hand, never committed: the group id is only required by the client.
            GroupId = $"{topology.ConsumerGroup(options.Value.Lane)}-order-tail",
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            EnablePartitionEof = true,
            FetchWaitMaxMs = options.Value.FetchWaitMs,
        })
        .Build();
    }

    public bool Enabled { get; }

    /// <summary>Completes once the tail has read what was written before the latest assignment.</summary>
    public Task Ready => Volatile.Read(ref _ready);

    /// <summary>Invoked by the tail's sweep: a key whose chain is fully settled, on a main partition this replica owns.</summary>
    public Func<string, Task>? ChainSettled { get; set; }

    /// <summary>The ORDERING=key state, as far as the order topic has been read (and this replica's own writes acknowledged).</summary>
    public OrderState State { get; }

    public int BlockedKeys => State.BlockedKeys;

    public int StatusMarks => _marks.Count;

    /// <summary>A write of an earlier owner (or epoch), read or acknowledged after a newer owner claimed, was ignored.</summary>
    public event Action? WriteFenced;

    public ChainBlock? Block(string key) => State.Block(key);

    /// <summary>The chain's progress, if what is known is about that chain.</summary>
    public ChainProgress? Progress(string key, string chain) => State.Progress(key, chain);

    /// <summary>The highest rank written for the message id (delivered, in flight or pending), within the window.</summary>
    public StatusMark? Mark(string messageId) =>
        _marks.TryGetValue(messageId, out var m) && _time.GetUtcNow() - m.At < _statusWindow ? m : null;

    public bool OwnsMain(int partition) => _ownedMain.ContainsKey(partition);

    /// <summary>
    /// Writes a block into the order partition of its main partition, where that partition's owner claims
    /// are: what the block's epoch is compared with is then exactly what was claimed before it landed.
    /// Returns false when it is fenced (this replica no longer owns the partition).
    /// </summary>
    public async Task<bool> WriteBlockAsync(string key, ChainBlock block, CancellationToken ct)
    {
        await WriteAsync(OrderPartition(block.MainPartition), ChainPrefix + key, JsonSerializer.SerializeToUtf8Bytes(block, OrderingJsonContext.Default.ChainBlock), [], ct);
        return Fenced(key, State.ApplyBlock(key, block));
    }

    /// <summary>
    /// Releases a settled conversation: one tombstone of its block, fenced by the headers it carries. Its
    /// progress is forgotten with it, not written: a progress record read later names a chain that has no
    /// block, is never taken for a newer chain's, and is forgotten after a while (one record less per chain).
    /// </summary>
    public async Task<bool> ReleaseAsync(string key, ChainBlock block, CancellationToken ct)
    {
        var epoch = State.ReleaseEpoch(block);
        await WriteAsync(OrderPartition(block.MainPartition), ChainPrefix + key, null, [
            (EpochHeader, Format(epoch)), (PartitionHeader, Format(block.MainPartition)), (LastOffsetHeader, Format(block.LastOffset))], ct);
        return Fenced(key, State.ApplyRelease(key, block.MainPartition, epoch, block.LastOffset, _time.GetUtcNow()));
    }

    public async Task WriteProgressAsync(string key, ChainProgress progress, CancellationToken ct)
    {
        await WriteAsync(null, ProgressPrefix + key, JsonSerializer.SerializeToUtf8Bytes(progress, OrderingJsonContext.Default.ChainProgress), [], ct);
        State.ApplyProgress(key, progress);
    }

    public async Task WriteMarkAsync(string messageId, StatusMark mark, CancellationToken ct)
    {
        await WriteAsync(null, StatusPrefix + messageId, JsonSerializer.SerializeToUtf8Bytes(mark, OrderingJsonContext.Default.StatusMark), [], ct);
        ApplyMark(messageId, mark);
    }

    public void Assigned(IReadOnlyCollection<TopicPartition> partitions)
    {
        var main = partitions.Where(p => p.Topic == _mainTopic).Select(p => p.Partition.Value).ToArray();
        foreach (var p in main)
        {
            _ownedMain[p] = 0;
        }

        if (Enabled && partitions.Count > 0)
        {
            var previous = Ready;
            Volatile.Write(ref _ready, Task.Run(async () =>
            {
                await previous; // claims of an earlier assignment first: epochs only grow
                await CatchUpBoundedAsync(_stop.Token);
                await ClaimAsync(main, _stop.Token);
            }));
        }
    }

    /// <summary>
    /// Claims the newly assigned main partitions under an epoch above every earlier owner's, once what they
    /// wrote has been read: from then on their late writes are fenced. Bounded like the catch-up: an order
    /// partition that cannot be written must not stop the lane (the claim is then only known here, and the
    /// conversations this replica writes still carry the higher epoch).
    /// </summary>
    private async Task ClaimAsync(IReadOnlyCollection<int> mainPartitions, CancellationToken ct)
    {
        foreach (var p in mainPartitions)
        {
            var claim = new OwnerClaim(p, State.NextEpoch(p, _time.GetUtcNow()));
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(CatchUpLimit);
            try
            {
                await WriteAsync(OrderPartition(p), ClaimPrefix + Format(p), JsonSerializer.SerializeToUtf8Bytes(claim, OrderingJsonContext.Default.OwnerClaim), [], limit.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                _logger.CatchUpSlow(_topic, (int)CatchUpLimit.TotalSeconds);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            State.ApplyClaim(claim);
        }
    }

    private TopicPartition OrderPartition(int mainPartition) => new(_topic, mainPartition % _partitions);

    private bool Fenced(string key, bool applied)
    {
        if (!applied)
        {
            _logger.WriteFenced(key);
            WriteFenced?.Invoke();
        }

        return applied;
    }

    private static string Format(long n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public void Released(IReadOnlyCollection<TopicPartition> partitions)
    {
        foreach (var tp in partitions.Where(p => p.Topic == _mainTopic))
        {
            _ownedMain.TryRemove(tp.Partition.Value, out _);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return Task.CompletedTask;
        }

        _tail.Assign(Enumerable.Range(0, _partitions).Select(p => new TopicPartitionOffset(_topic, p, Offset.Beginning)));
        _thread = new Thread(Tail) { IsBackground = true, Name = "order-tail" };
        _thread.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stop.Cancel();
        _thread?.Join(TimeSpan.FromSeconds(5));
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        // Disposed twice: as a singleton and as the hosted service it also is.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _stop.Cancel();
        if (_thread is null || _thread.Join(TimeSpan.FromSeconds(5)))
        {
            _tail.Dispose();
        }

        _stop.Dispose();
    }

    // The decision it records is not acted on (offset stored) until the broker confirms it.
    private Task WriteAsync(TopicPartition? partition, string key, byte[]? value, IReadOnlyList<(string Name, string Value)> headers, CancellationToken ct)
    {
        var message = new Message<string?, byte[]> { Key = key, Value = value!, Headers = new Headers { { WriterHeader, _writer } } };
        foreach (var (name, text) in headers)
        {
            message.Headers.Add(name, Encoding.UTF8.GetBytes(text));
        }

        return partition is null ? _producer.ProduceUntilStoredAsync(_topic, message, ct) : _producer.ProduceUntilStoredAsync(partition, message, ct);
    }

    /// <summary>
    /// Catches up, but for at most <see cref="CatchUpLimit"/>: an order partition that cannot be read (its
    /// leader down) must not stop the whole lane. Past the limit the replica goes on with what it knows;
    /// only a rebalance during that broker fault can then let a follower overtake its head. Never faults,
    /// never blocks a thread.
    /// </summary>
    public async Task CatchUpBoundedAsync(CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(CatchUpLimit);
        try
        {
            await CatchUpAsync(limit.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            _logger.CatchUpSlow(_topic, (int)CatchUpLimit.TotalSeconds);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Waits until the tail has read up to the end offsets of now. The end offsets are the tail's own view,
    /// refreshed by each of its fetches (no blocking query): a round of fetches is let through first, so
    /// the view is no older than the call.
    /// </summary>
    private async Task CatchUpAsync(CancellationToken ct)
    {
        await Task.Delay(_fetchRound, _time, ct);
        var targets = new Dictionary<int, long>();
        while (true)
        {
            for (var p = 0; p < _partitions; p++)
            {
                if (!targets.ContainsKey(p) && _tail.GetWatermarkOffsets(new TopicPartition(_topic, p)).High is { } high && high != Offset.Unset)
                {
                    targets[p] = high.Value;
                }
            }

            if (targets.Count == _partitions && targets.All(t => _positions.GetValueOrDefault(t.Key) >= t.Value))
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), _time, ct);
        }
    }

    private void Tail()
    {
        var lastSweep = _time.GetTimestamp();
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var record = _tail.Consume(TimeSpan.FromMilliseconds(100));
                if (record is not null)
                {
                    if (!record.IsPartitionEOF)
                    {
                        Apply(record);
                    }

                    _positions[record.Partition.Value] = record.Offset.Value + (record.IsPartitionEOF ? 0 : 1);
                }
            }
            catch (ConsumeException e)
            {
                _logger.OrderStateUnavailable($"order state: {e.Error.Reason}");
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            if (_time.GetElapsedTime(lastSweep) > TimeSpan.FromSeconds(1))
            {
                lastSweep = _time.GetTimestamp();
                Sweep();
            }
        }
    }

    private void Apply(ConsumeResult<string?, byte[]> record)
    {
        if (record.Message.Key is not { } key
            || (record.Message.Headers.TryGetLastBytes(WriterHeader, out var writer) && writer.AsSpan().SequenceEqual(_writer)))
        {
            // Our own write: applied when the broker acknowledged it, possibly overtaken by a later one since.
            return;
        }

        var value = record.Message.Value;
        try
        {
            if (key.StartsWith(ChainPrefix, StringComparison.Ordinal))
            {
                var conversation = key[ChainPrefix.Length..];
                if (value is not null && JsonSerializer.Deserialize(value, OrderingJsonContext.Default.ChainBlock) is { } block)
                {
                    Fenced(conversation, State.ApplyBlock(conversation, block));
                }
                else if (value is null)
                {
                    var headers = record.Message.Headers;
                    Fenced(conversation, State.ApplyRelease(conversation, (int)(HeaderNumber(headers, PartitionHeader) ?? -1), HeaderNumber(headers, EpochHeader) ?? 0,
                        HeaderNumber(headers, LastOffsetHeader) ?? -1, _time.GetUtcNow()));
                }
            }
            else if (key.StartsWith(ProgressPrefix, StringComparison.Ordinal))
            {
                var conversation = key[ProgressPrefix.Length..];
                if (value is not null && JsonSerializer.Deserialize(value, OrderingJsonContext.Default.ChainProgress) is { } progress)
                {
                    State.ApplyProgress(conversation, progress);
                }
                else if (value is null && RetryState.Header(record.Message.Headers, HeaderNames.OrderChain) is { } chain)
                {
                    State.ApplyProgressCleared(conversation, chain);
                }
            }
            else if (key.StartsWith(ClaimPrefix, StringComparison.Ordinal) && value is not null
                && JsonSerializer.Deserialize(value, OrderingJsonContext.Default.OwnerClaim) is { } claim)
            {
                State.ApplyClaim(claim);
            }
            else if (key.StartsWith(StatusPrefix, StringComparison.Ordinal) && value is not null
                && JsonSerializer.Deserialize(value, OrderingJsonContext.Default.StatusMark) is { } mark)
            {
                ApplyMark(key[StatusPrefix.Length..], mark);
            }
        }
        catch (JsonException)
        {
            // Not ours to understand: ignored, like an unknown key.
        }
    }

    private static long? HeaderNumber(Headers? headers, string name) =>
        long.TryParse(RetryState.Header(headers, name), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : null;

    private void ApplyMark(string messageId, StatusMark mark) =>
        _marks.AddOrUpdate(messageId, mark, (_, current) => current.Rank >= mark.Rank ? current with { At = Max(current.At, mark.At) } : mark);

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    /// <summary>Forgets status ranks older than the window; hands settled chains of owned keys to be released.</summary>
    private void Sweep()
    {
        var now = _time.GetUtcNow();
        foreach (var (id, mark) in _marks)
        {
            if (now - mark.At >= _statusWindow)
            {
                _marks.TryRemove(new KeyValuePair<string, StatusMark>(id, mark));
            }
        }

        State.ForgetStrays(now, StrayWindow);
        State.ForgetReleased(now, ReleasedWindow);
        if (ChainSettled is not { } settled)
        {
            return;
        }

        foreach (var (key, block) in State.SettledBlocks())
        {
            if (OwnsMain(block.MainPartition))
            {
                _ = settled(key);
            }
        }
    }
}
