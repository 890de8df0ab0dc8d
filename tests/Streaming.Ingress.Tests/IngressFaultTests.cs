using System.Net;
using System.Text;
using Streaming.Contracts;
using Streaming.EmbeddedKafka;
using Streaming.Kafka;
using Streaming.Testing;

namespace Streaming.Ingress.Tests;

/// <summary>Broker faults injected through the embedded cluster while the ingress takes webhooks.</summary>
[Collection(SharedKafkaContainer.Collection)]
public sealed class IngressFaultTests : IAsyncLifetime
{
    private KafkaBroker _broker = null!;
    private Topology _topology = null!;

    private EmbeddedKafkaCluster Cluster => _broker.Embedded!;

    public async Task InitializeAsync()
    {
        _broker = await KafkaBroker.StartAsync();
        _topology = _broker.Topology();
        await _broker.ProvisionAsync(_topology);
    }

    public Task DisposeAsync() => _broker.DisposeAsync().AsTask();

    private IReadOnlyList<ReadRecord> ReadLanes() =>
        TopicReader.ReadAll(_broker.BootstrapServers, _topology[Lane.Messages].Main.Name, _topology[Lane.Statuses].Main.Name);

    private static byte[] Message(int i) => Encoding.UTF8.GetBytes($$$"""
        {"object":"whatsapp_business_account","entry":[{"id":"waba-1","changes":[{"field":"messages","value":{
          "messaging_product":"whatsapp","metadata":{"display_phone_number":"1555","phone_number_id":"p1"},
          "messages":[{"from":"49{{{i % 7}}}","id":"wamid.fault.{{{i}}}","timestamp":"1","type":"text","text":{"body":"m{{{i}}}"}}]}}]}]}
        """);

    private static byte[] Status(int i) => Encoding.UTF8.GetBytes($$$"""
        {"object":"whatsapp_business_account","entry":[{"id":"waba-1","changes":[{"field":"messages","value":{
          "messaging_product":"whatsapp","metadata":{"display_phone_number":"1555","phone_number_id":"p1"},
          "statuses":[{"id":"wamid.out.{{{i}}}","status":"delivered","timestamp":"1","recipient_id":"49{{{i % 7}}}"}]}}]}]}
        """);

    [EmbeddedKafkaFact]
    public async Task With_every_broker_down_the_ingress_answers_503_within_the_budget_and_never_200()
    {
        await using var ingress = await IngressHost.StartAsync(_broker, ("INGRESS_PRODUCE_BUDGET_MS", "1000"));
        // Warm-up: the first produce also fetches metadata, which a loaded machine may not do within 1 s.
        await Poll.UntilAsync(async () => (await ingress.PostSignedAsync(Message(0))).StatusCode, s => s == HttpStatusCode.OK,
            TimeSpan.FromSeconds(30), "the ingress to store its first webhook");

        Cluster.SetAllBrokersDown();
        var started = DateTime.UtcNow;
        var response = await ingress.PostSignedAsync(Message(1));
        var elapsed = DateTime.UtcNow - started;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("5", response.Headers.GetValues("Retry-After").Single());
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"answered after {elapsed.TotalMilliseconds:0} ms, budget 1000 ms");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await ingress.Client.GetAsync("/readyz")).StatusCode);

        Cluster.SetAllBrokersUp();
        await Poll.UntilAsync(async () => (await ingress.PostSignedAsync(Message(2))).StatusCode, s => s == HttpStatusCode.OK,
            TimeSpan.FromSeconds(30), "the ingress to store again after the brokers came back");
        Assert.Contains(ReadLanes(), r => r.Header(HeaderNames.EventId) == "wamid.fault.2");
    }

    [EmbeddedKafkaFact]
    public async Task Every_event_answered_200_is_on_the_topics_while_brokers_fail_and_recover()
    {
        await using var ingress = await IngressHost.StartAsync(_broker, ("INGRESS_PRODUCE_BUDGET_MS", "800"));
        var accepted = new HashSet<string>();
        var refused = 0;

        for (var i = 0; i < 120; i++)
        {
            // One broker down, then all, then back: a leader's loss and a whole-cluster outage mid-stream.
            if (i == 20) Cluster.SetBrokerDown(1);
            if (i == 40) Cluster.SetAllBrokersDown();
            if (i == 50) Cluster.SetAllBrokersUp();
            if (i == 70) Cluster.PushRequestErrors(KafkaApiKey.Produce, Confluent.Kafka.ErrorCode.NotLeaderForPartition, Confluent.Kafka.ErrorCode.RequestTimedOut);
            if (i == 90) Cluster.SetPartitionLeader(_topology[Lane.Messages].Main.Name, 0, 2);

            var isMessage = i % 2 == 0;
            var response = await ingress.PostSignedAsync(isMessage ? Message(i) : Status(i));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                accepted.Add(isMessage ? $"wamid.fault.{i}" : $"wamid.out.{i}:delivered");
            }
            else
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                refused++;
            }
        }

        var stored = ReadLanes().Select(r => r.Header(HeaderNames.EventId)!).ToHashSet();
        Assert.True(refused > 0, "the outage should have refused some webhooks");
        Assert.True(accepted.Count > 60, $"only {accepted.Count} accepted");
        Assert.Empty(accepted.Except(stored));
    }

    [EmbeddedKafkaFact]
    public async Task A_saturated_producer_sheds_status_only_webhooks_but_still_takes_customer_messages()
    {
        await using var ingress = await IngressHost.StartAsync(_broker, ("INGRESS_SHED_LATENCY_MS", "200"), ("INGRESS_PRODUCE_BUDGET_MS", "5000"));
        var shedBefore = MetricsText.Value(await ingress.Client.GetStringAsync("/metrics"), "whatsapp_ingress_shed_total");
        foreach (var id in Cluster.BrokerIds)
        {
            Cluster.SetBrokerLatency(id, TimeSpan.FromMilliseconds(400));
        }

        // A slow acknowledgement is the saturation signal; the message itself is still stored.
        Assert.Equal(HttpStatusCode.OK, (await ingress.PostSignedAsync(Message(1))).StatusCode);

        var shed = await ingress.PostSignedAsync(Status(1));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, shed.StatusCode);
        Assert.True(shed.Headers.Contains("Retry-After"));
        Assert.Equal(HttpStatusCode.OK, (await ingress.PostSignedAsync(Message(2))).StatusCode);

        var metrics = await ingress.Client.GetStringAsync("/metrics");
        Assert.Equal(1, MetricsText.Value(metrics, "whatsapp_ingress_shed_total") - shedBefore);
        Assert.DoesNotContain(ReadLanes(), r => r.Topic == _topology[Lane.Statuses].Main.Name);
    }
}
