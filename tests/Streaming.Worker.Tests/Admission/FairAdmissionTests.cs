using Streaming.Testing;
using Streaming.Worker.Admission;

namespace Streaming.Worker.Tests.Admission;

/// <summary>The lane's budget shared between destinations: shares, round robin, bounded waits. No broker, no HTTP.</summary>
public sealed class FairAdmissionTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    private static async Task<List<FairAdmission.Slot>> TakeAsync(FairAdmission.Tenant tenant, int count)
    {
        var slots = new List<FairAdmission.Slot>();
        for (var i = 0; i < count; i++)
        {
            if (await tenant.EnterAsync(0, TimeSpan.Zero, CancellationToken.None) is { } slot)
            {
                slots.Add(slot);
            }
        }

        return slots;
    }

    [Fact]
    public async Task Slow_destinations_that_came_first_leave_a_healthy_one_a_quarter_of_the_budget_at_once()
    {
        // Twenty destinations known to answer slowly, each limited to 16, all busy first.
        var admission = new FairAdmission(64, TimeProvider.System) { KnownDestinations = 21 };
        var held = 0;
        foreach (var tenant in Enumerable.Range(0, 20).Select(i => admission.Join($"slow-{i}", () => 16, () => false)))
        {
            held += (await TakeAsync(tenant, 60)).Count;
        }

        Assert.Equal(64 - 16, held);

        // A healthy one, not known yet, may probe; proven fast by its first answer, it finds the reserve whole.
        bool? fast = null;
        var healthy = admission.Join("healthy", () => 16, () => fast);
        var first = await healthy.EnterAsync(0, TimeSpan.Zero, CancellationToken.None);
        Assert.NotNull(first);
        fast = true;
        Assert.Equal(15, (await TakeAsync(healthy, 15)).Count);
    }

    [Fact]
    public async Task While_another_waits_below_its_share_no_destination_takes_more_than_its_own()
    {
        var admission = new FairAdmission(8, TimeProvider.System) { KnownDestinations = 2 };
        var a = admission.Join("a", () => 8);
        var b = admission.Join("b", () => 8);
        var aSlots = await TakeAsync(a, 8);
        Assert.Equal(8, aSlots.Count); // alone, nobody waits: the whole budget
        var bWaits = Enumerable.Range(0, 6).Select(_ => b.EnterAsync(10, Long, CancellationToken.None).AsTask()).ToArray();

        // As a's slots come back, b (below its share of 4) gets them, and a none until b has its share.
        var aWaits = a.EnterAsync(10, Long, CancellationToken.None).AsTask();
        for (var i = 0; i < 4; i++)
        {
            aSlots[i].Dispose();
        }

        await Poll.UntilAsync(() => bWaits.Count(t => t.IsCompletedSuccessfully) == 4, Long, "b to get the four freed slots");
        Assert.False(aWaits.IsCompleted);
        aSlots[4].Dispose();
        Assert.NotNull(await aWaits.WaitAsync(Long)); // a is below its share again: its turn
        Assert.Equal(4, bWaits.Count(t => t.IsCompletedSuccessfully));
    }

    [Fact]
    public async Task With_one_destination_known_it_may_use_the_whole_budget()
    {
        var admission = new FairAdmission(64, TimeProvider.System) { KnownDestinations = 1 };
        var only = admission.Join("default", () => 64);
        Assert.Equal(64, (await TakeAsync(only, 100)).Count);
    }

    [Fact]
    public async Task Freed_slots_go_round_robin_to_the_destinations_that_wait()
    {
        var admission = new FairAdmission(1, TimeProvider.System) { KnownDestinations = 3 };
        var holder = await admission.Join("holder", () => 1).EnterAsync(0, TimeSpan.Zero, CancellationToken.None);
        var a = admission.Join("a", () => 1);
        var b = admission.Join("b", () => 1);
        var a1 = a.EnterAsync(10, Long, CancellationToken.None).AsTask();
        var a2 = a.EnterAsync(10, Long, CancellationToken.None).AsTask();
        var b1 = b.EnterAsync(10, Long, CancellationToken.None).AsTask();
        var b2 = b.EnterAsync(10, Long, CancellationToken.None).AsTask();
        Assert.Equal(1, admission.InFlight); // waiting holds nothing
        Assert.Equal(2, a.Waiting);

        holder!.Dispose();
        var order = new List<string>();
        foreach (var (name, next) in new[] { ("a1", a1), ("b1", b1), ("a2", a2), ("b2", b2) })
        {
            var slot = await next.WaitAsync(Long);
            order.Add(name);
            slot!.Dispose();
        }

        Assert.Equal(["a1", "b1", "a2", "b2"], order);
    }

    [Fact]
    public async Task A_wait_is_bounded_in_time_and_in_the_number_of_waiters()
    {
        var admission = new FairAdmission(1, TimeProvider.System);
        var tenant = admission.Join("d", () => 1);
        using var held = await tenant.EnterAsync(1, TimeSpan.Zero, CancellationToken.None);
        Assert.NotNull(held);

        Assert.Null(await tenant.EnterAsync(1, TimeSpan.FromMilliseconds(50), CancellationToken.None));
        Assert.Equal(0, tenant.Waiting);

        var waiting = tenant.EnterAsync(1, Long, CancellationToken.None).AsTask();
        Assert.Null(await tenant.EnterAsync(1, Long, CancellationToken.None)); // one waiter at most: refused at once
        held!.Dispose();
        Assert.NotNull(await waiting.WaitAsync(Long));
    }

    [Fact]
    public async Task A_destination_below_its_limit_is_limited_by_it_not_by_its_share()
    {
        var admission = new FairAdmission(64, TimeProvider.System) { KnownDestinations = 2 };
        var limited = admission.Join("limited", () => 3);
        Assert.Equal(3, (await TakeAsync(limited, 10)).Count);
    }

    [Fact]
    public async Task A_slot_disposed_twice_is_released_once()
    {
        var admission = new FairAdmission(2, TimeProvider.System) { KnownDestinations = 1 };
        var tenant = admission.Join("d", () => 2);
        var slot = await tenant.EnterAsync(0, TimeSpan.Zero, CancellationToken.None);
        slot!.Dispose();
        slot.Dispose();
        Assert.Equal(0, admission.InFlight);
        Assert.Equal(2, (await TakeAsync(tenant, 5)).Count);
    }
}
