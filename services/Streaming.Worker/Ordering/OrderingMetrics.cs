using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Streaming.Worker.Telemetry;

namespace Streaming.Worker.Ordering;

/// <summary>The ordering metrics, on the worker's meter (whatsapp_worker_*).</summary>
public sealed class OrderingMetrics
{
    private readonly KeyValuePair<string, object?> _lane;
    private readonly Counter<long> _superseded;
    private readonly Counter<long> _followed;
    private readonly Counter<long> _blocked;
    private readonly Counter<long> _released;
    private readonly Counter<long> _notDelivered;

    public OrderingMetrics(IMeterFactory meters, IOptions<WorkerOptions> options, OrderStateStore store)
    {
        var meter = meters.Create(WorkerTelemetry.Name);
        _lane = new("lane", options.Value.LaneName);
        _superseded = meter.CreateCounter<long>("statuses_superseded_total",
            description: "Statuses dropped because a higher-ranked status of the same message id was delivered or is pending");
        _followed = meter.CreateCounter<long>("order_followed_total",
            description: "Events moved, without an attempt, behind their key's event waiting in a retry tier (ORDERING=key)");
        _blocked = meter.CreateCounter<long>("order_blocked_total", description: "Keys that became blocked behind an event in a retry tier");
        _released = meter.CreateCounter<long>("order_released_total", description: "Blocked keys whose chain settled and that flow directly again");
        _notDelivered = meter.CreateCounter<long>("not_delivered_total",
            description: "Records settled without a delivery and without a dead letter, by reason: duplicate, superseded, already-settled");
        var fenced = meter.CreateCounter<long>("order_fenced_writes_total",
            description: "Ordering-state writes of a previous owner of a main partition that landed after the new owner claimed it: ignored");
        fenced.Add(0, _lane);
        store.WriteFenced += () => fenced.Add(1, _lane);
        meter.CreateObservableGauge("order_blocked_keys", () => new Measurement<int>(store.BlockedKeys, _lane),
            description: "Keys known to be blocked behind an event in a retry tier");
        _superseded.Add(0, _lane);
        _followed.Add(0, _lane);
        _blocked.Add(0, _lane);
        _released.Add(0, _lane);
        foreach (var reason in NotDeliveredReasons.All)
        {
            _notDelivered.Add(0, _lane, new("reason", reason));
        }
    }

    /// <summary>A superseded status: counted under both names (the older one is on dashboards).</summary>
    public void Superseded()
    {
        _superseded.Add(1, _lane);
        NotDelivered(NotDeliveredReasons.Superseded);
    }

    public void NotDelivered(string reason) => _notDelivered.Add(1, _lane, new("reason", reason));

    public void Followed() => _followed.Add(1, _lane);

    public void Blocked() => _blocked.Add(1, _lane);

    public void Released() => _released.Add(1, _lane);
}
