using System.Text;
using System.Text.Json;
using Streaming.Contracts;
using Streaming.Testing;

namespace Streaming.FaultInjection.Tests;

/// <summary>The ledger's out-of-order column, without a broker: every delivery counts, per conversation.</summary>
public sealed class LedgerOrderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    private static ReadRecord OnMain(long offset, string eventId, string phoneNumberId, string? from = "4915550001")
    {
        var payload = from is null ? """{"id":"x"}""" : $$"""{"from":"{{from}}","id":"{{eventId}}"}""";
        var value = $$"""{"schemaVersion":1,"eventId":"{{eventId}}","type":"message","lane":"messages","wabaId":"w","phoneNumberId":"{{phoneNumberId}}","receivedAt":"{{T0:O}}","payload":{{payload}}}""";
        return new ReadRecord("whatsapp.messages", 0, offset, from ?? "w", Encoding.UTF8.GetBytes(value), new Dictionary<string, string> { [HeaderNames.EventId] = eventId });
    }

    private static Receipt Delivered(string eventId, int second, int status = 200) =>
        new("messages", eventId, "4915550001", T0.AddSeconds(second), true, status, JsonDocument.Parse("{}").RootElement);

    [Fact]
    public void A_duplicate_of_an_earlier_message_delivered_after_a_later_one_is_out_of_order()
    {
        ReadRecord[] main = [OnMain(0, "m1", "pn-a"), OnMain(1, "m2", "pn-a")];
        Assert.Equal(0, Ledger.OutOfOrder(main, [Delivered("m1", 1), Delivered("m2", 2), Delivered("m2", 3)]));
        Assert.Equal(1, Ledger.OutOfOrder(main, [Delivered("m1", 1), Delivered("m2", 2), Delivered("m1", 3)]));
        Assert.Equal(1, Ledger.OutOfOrder(main, [Delivered("m2", 1), Delivered("m1", 2)]));
        // The re-forward after a crash: m1 again after m2, and m2 not again after it.
        Assert.Equal(1, Ledger.OutOfOrder(main, [Delivered("m1", 1), Delivered("m2", 2), Delivered("m1", 3), Delivered("m3", 4)]));
        // A refused attempt is not a delivery.
        Assert.Equal(0, Ledger.OutOfOrder(main, [Delivered("m1", 1), Delivered("m2", 2), Delivered("m1", 3, status: 503)]));
    }

    [Fact]
    public void A_rewind_after_a_crash_that_delivers_every_later_event_again_in_order_is_not_out_of_order()
    {
        ReadRecord[] main = [OnMain(0, "m1", "pn-a"), OnMain(1, "m2", "pn-a"), OnMain(2, "m3", "pn-a")];
        Assert.Equal(0, Ledger.OutOfOrder(main, [Delivered("m1", 1), Delivered("m2", 2), Delivered("m3", 3), Delivered("m2", 4), Delivered("m3", 5)]));
        Assert.Equal(0, Ledger.OutOfOrder(main, [Delivered("m1", 1), Delivered("m2", 2), Delivered("m1", 3), Delivered("m2", 4), Delivered("m3", 5)]));
        // A rewind that skips one, or goes back again within itself, is not a rewind.
        Assert.Equal(1, Ledger.OutOfOrder(main, [Delivered("m1", 1), Delivered("m2", 2), Delivered("m3", 3), Delivered("m1", 4), Delivered("m3", 5)]));
        Assert.Equal(2, Ledger.OutOfOrder(main, [Delivered("m1", 1), Delivered("m2", 2), Delivered("m3", 3), Delivered("m2", 4), Delivered("m1", 5), Delivered("m3", 6)]));
    }

    [Fact]
    public void One_customers_messages_to_two_businesses_are_two_conversations_and_account_events_are_in_none()
    {
        ReadRecord[] main = [OnMain(0, "a1", "pn-a"), OnMain(1, "b1", "pn-b"), OnMain(2, "acct-1", "pn-a", from: null), OnMain(3, "acct-2", "pn-a", from: null)];
        Assert.Equal(0, Ledger.OutOfOrder(main, [Delivered("b1", 1), Delivered("a1", 2), Delivered("acct-2", 3), Delivered("acct-1", 4)]));
    }
}
