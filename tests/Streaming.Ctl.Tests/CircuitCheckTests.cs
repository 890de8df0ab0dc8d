using Streaming.Contracts;
using Streaming.Ctl.DeadLetters;
using Streaming.Ctl.Metrics;

namespace Streaming.Ctl.Tests;

/// <summary>The replay's circuit check reads the metric by name, labels and value, not by a line prefix.</summary>
public sealed class CircuitCheckTests
{
    [Fact]
    public void A_sample_parses_into_name_labels_and_value()
    {
        var samples = PrometheusText.Parse("""
            # HELP whatsapp_worker_circuit_state Endpoint circuit: 0 closed, 1 half-open, 2 open
            # TYPE whatsapp_worker_circuit_state gauge
            whatsapp_worker_circuit_state{lane="messages",destination="a\"b\\c"} 2 1700000000000
            whatsapp_worker_delivered_total 12
            x_seconds_bucket{le="+Inf"} +Inf

            not a sample line {
            """).ToArray();

        Assert.Equal(3, samples.Length);
        Assert.Equal("whatsapp_worker_circuit_state", samples[0].Name);
        Assert.Equal("messages", samples[0].Labels["lane"]);
        Assert.Equal("a\"b\\c", samples[0].Labels["destination"]);
        Assert.Equal(2, samples[0].Value);
        Assert.Empty(samples[1].Labels);
        Assert.Equal(12, samples[1].Value);
        Assert.Equal(double.PositiveInfinity, samples[2].Value);
    }

    [Theory]
    [InlineData("whatsapp_worker_circuit_state{lane=\"messages\"} 2", true)]
    [InlineData("whatsapp_worker_circuit_state{lane=\"messages\"} 1", false)]
    [InlineData("whatsapp_worker_circuit_state{lane=\"messages\"} 0", false)]
    // Label order and extra labels (a destination per circuit) do not hide an open circuit.
    [InlineData("whatsapp_worker_circuit_state{destination=\"acme\",lane=\"messages\"} 2", true)]
    [InlineData("whatsapp_worker_circuit_state{lane=\"messages\",destination=\"acme\"} 2e0", true)]
    // Another lane, a lane whose name only starts the same, another metric sharing the prefix: not this circuit.
    [InlineData("whatsapp_worker_circuit_state{lane=\"statuses\"} 2", false)]
    [InlineData("whatsapp_worker_circuit_state{lane=\"messages-eu\"} 2", false)]
    [InlineData("whatsapp_worker_circuit_state_changes_total{lane=\"messages\"} 9", false)]
    [InlineData("# whatsapp_worker_circuit_state{lane=\"messages\"} 2", false)]
    public void The_circuit_is_open_only_for_the_metric_of_this_lane_at_2(string metrics, bool open) =>
        Assert.Equal(open, CircuitCheck.IsOpen(metrics, Lane.Messages));

    [Fact]
    public void One_open_circuit_among_several_series_of_the_lane_counts_as_open() =>
        Assert.True(CircuitCheck.IsOpen("""
            whatsapp_worker_circuit_state{lane="messages",destination="a"} 0
            whatsapp_worker_circuit_state{lane="messages",destination="b"} 2
            """, Lane.Messages));
}
