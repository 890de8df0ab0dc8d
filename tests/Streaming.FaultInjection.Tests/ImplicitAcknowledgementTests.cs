using System.Net;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Contracts;
using Streaming.EmbeddedKafka;
using Streaming.Testing;
using Streaming.Worker;
using Streaming.Worker.Processing;
using Xunit.Abstractions;

namespace Streaming.FaultInjection.Tests;

/// <summary>
/// The implicit acknowledgement, made to happen on purpose: Produce request R1 for a partition gets an
/// error whose reply is held back, R2 for the same partition goes out behind it and is appended (the mock
/// does not check a non-transactional producer's sequence numbers), and when R2 succeeds librdkafka
/// reports R1's records "Persisted, no error" with offset -1001 although they are on no partition.
/// DeliveryRule refuses such a report: the ingress answers 503, a worker move produces again.
/// </summary>
public sealed class ImplicitAcknowledgementTests(ITestOutputHelper output)
{
    // Long enough that R2 leaves before R1's reply even on a loaded machine.
    private static readonly TimeSpan HeldReply = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [EmbeddedKafkaFact]
    public async Task A_webhook_whose_records_were_only_implicitly_acknowledged_is_answered_503_not_200()
    {
        await using var broker = await KafkaBroker.StartAsync();
        var cluster = broker.Embedded!;
        var topology = broker.Topology();
        await broker.ProvisionAsync(topology);
        var topic = topology[Lane.Messages].Main.Name;
        await using var ingress = await IngressHost.StartAsync(broker, ("INGRESS_PRODUCE_BUDGET_MS", "20000"), ("INGRESS_LINGER_MS", "0"));

        // Index 0, 13 and 26 share the sender, so the key and the partition: warm-up, R1, R2.
        var warmUp = Webhooks.Batch("implicit", 0, messages: 1, statuses: 0);
        Assert.Equal(HttpStatusCode.OK, (await ingress.PostSignedAsync(warmUp.Body)).StatusCode);
        var leader = LeaderOf(broker, topic, warmUp.EventIds[0]);

        var first = Webhooks.Batch("implicit", 13, messages: 1, statuses: 0);
        var second = Webhooks.Batch("implicit", 26, messages: 1, statuses: 0);

        // The /metrics registry is process-wide and keeps series for the life of the process: earlier tests'
        // counts stay in it, so this test counts from here.
        var before = await ingress.Client.GetStringAsync("/metrics");
        cluster.PushBrokerRequestErrors(leader, KafkaApiKey.Produce, (ErrorCode.RequestTimedOut, HeldReply));
        var firstAnswer = ingress.PostSignedAsync(first.Body);
        await Poll.UntilAsync(() => cluster.PendingBrokerRequestErrors(leader, KafkaApiKey.Produce) == 0, Deadline, "R1 to reach the broker");
        var secondResponse = await ingress.PostSignedAsync(second.Body);
        var firstResponse = await firstAnswer;
        var firstBody = await firstResponse.Content.ReadAsStringAsync();
        output.WriteLine($"first webhook: {(int)firstResponse.StatusCode} {firstBody.Trim()}; second: {(int)secondResponse.StatusCode}");

        var stored = TopicReader.ReadAll(broker.BootstrapServers, topic).Select(r => r.Header(HeaderNames.EventId)).ToHashSet();
        Assert.Equal(HttpStatusCode.OK, secondResponse.StatusCode);
        Assert.Contains(second.EventIds[0], stored);
        // The situation this test exists for: librdkafka said "persisted", the broker has nothing.
        Assert.DoesNotContain(first.EventIds[0], stored);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, firstResponse.StatusCode);
        Assert.Contains("Unverified", firstBody, StringComparison.Ordinal);
        Assert.NotNull(firstResponse.Headers.RetryAfter);
        var metrics = await ingress.Client.GetStringAsync("/metrics");
        Assert.Equal(1, MetricsText.Sum(metrics, "whatsapp_ingress_unverified_acks_total") - MetricsText.Sum(before, "whatsapp_ingress_unverified_acks_total"));
        Assert.Equal(1, MetricsText.Value(metrics, "whatsapp_ingress_unavailable_total{reason=\"unverified\"}")
            - MetricsText.Value(before, "whatsapp_ingress_unavailable_total{reason=\"unverified\"}"));

        // Meta redelivers the 503: now it is stored for real.
        Assert.Equal(HttpStatusCode.OK, (await ingress.PostSignedAsync(first.Body)).StatusCode);
        Assert.Contains(first.EventIds[0], TopicReader.ReadAll(broker.BootstrapServers, topic).Select(r => r.Header(HeaderNames.EventId)));
    }

    [EmbeddedKafkaFact]
    public async Task A_move_to_a_retry_tier_that_was_only_implicitly_acknowledged_is_produced_again_until_it_is_on_the_tier()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        var cluster = scenario.Broker.Embedded!;
        var lane = scenario.Topology[Lane.Messages];
        var tier = lane.RetryTiers[0].Name;
        await using var services = WorkerServices(scenario);
        var router = services.GetRequiredService<FailureRouter>();
        var failure = new Verdict(VerdictKind.Retryable, 503, "endpoint down");
        var firstTier = new SettleDecision(OutcomeKind.Retried, 1, Tier: 0, Delay: TimeSpan.FromSeconds(1));
        using var counters = new CounterListener((Worker.Telemetry.WorkerTelemetry.Name, "unverified_acks_total"));

        await router.RetryAsync(Record(lane.Main.Name, 0, "implicit.warm-up"), Fresh(lane), "implicit.warm-up", firstTier, failure, null, CancellationToken.None);
        var leader = LeaderOf(scenario.Broker, tier, "implicit.warm-up");

        cluster.PushBrokerRequestErrors(leader, KafkaApiKey.Produce, (ErrorCode.RequestTimedOut, HeldReply));
        var firstMove = router.RetryAsync(Record(lane.Main.Name, 1, "implicit.first"), Fresh(lane), "implicit.first", firstTier, failure, null, CancellationToken.None);
        await Poll.UntilAsync(() => cluster.PendingBrokerRequestErrors(leader, KafkaApiKey.Produce) == 0, Deadline, "R1 to reach the broker");
        await router.RetryAsync(Record(lane.Main.Name, 2, "implicit.second"), Fresh(lane), "implicit.second", firstTier, failure, null, CancellationToken.None);
        await firstMove.WaitAsync(Deadline);

        // The move returned, so the worker would now store the source offset: the record must be on the tier.
        var onTier = TopicReader.ReadAll(scenario.Broker.BootstrapServers, tier).Select(r => r.Header(HeaderNames.EventId)).ToList();
        output.WriteLine($"on {tier}: {string.Join(", ", onTier)}");
        Assert.Contains("implicit.first", onTier);
        Assert.Contains("implicit.second", onTier);
        Assert.Equal(1, counters[Worker.Telemetry.WorkerTelemetry.Name, "unverified_acks_total"]);
    }

    private static ServiceProvider WorkerServices(PipelineScenario scenario)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(scenario.WorkerSettings(Lane.Messages)).Build();
        return new ServiceCollection()
            .AddLogging(b => b.AddProvider(NullLoggerProvider.Instance))
            .AddMetrics()
            .AddWorker(configuration)
            .BuildServiceProvider();
    }

    private static RetryState Fresh(Kafka.LaneTopics lane) => new(0, null, null, null, lane.Main.Name);

    /// <summary>A main-topic record as the consumer would hand it over; every one has the same key, so the same tier partition.</summary>
    private static ConsumeResult<string?, byte[]> Record(string topic, long offset, string eventId) => new()
    {
        TopicPartitionOffset = new TopicPartitionOffset(topic, 0, offset),
        Message = new Message<string?, byte[]>
        {
            Key = "49000",
            Value = Encoding.UTF8.GetBytes("{}"),
            Headers = new Headers { { HeaderNames.EventId, Encoding.UTF8.GetBytes(eventId) } },
        },
    };

    /// <summary>The broker leading the partition that holds this event.</summary>
    private static int LeaderOf(KafkaBroker broker, string topic, string eventId)
    {
        var record = TopicReader.ReadAll(broker.BootstrapServers, topic).Single(r => r.Header(HeaderNames.EventId) == eventId);
        using var admin = broker.CreateAdmin();
        return admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Single(p => p.PartitionId == record.Partition).Leader;
    }
}
