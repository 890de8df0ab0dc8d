using System.Collections.Concurrent;
using System.Diagnostics;
using Streaming.Contracts;
using Streaming.Ingress.Telemetry;
using Streaming.Testing;
using Streaming.Worker.Telemetry;

namespace Streaming.Worker.Tests;

/// <summary>Traces by the OpenTelemetry messaging conventions: the ingress's publish span is the parent of the worker's process span.</summary>
[Collection(SharedKafkaContainer.Collection)]
public sealed class TraceContinuationTests
{
    private static ActivityListener Listen(ConcurrentBag<Activity> stopped)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is WorkerTelemetry.Name or IngressTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Add,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    [Fact]
    public async Task The_ingress_publish_span_is_the_parent_of_the_workers_process_span()
    {
        var spans = new ConcurrentBag<Activity>();
        using var listener = Listen(spans);

        await using var scenario = await PipelineScenario.StartAsync();
        await using var ingress = await IngressHost.StartAsync(scenario.Broker, ("RETRY_DELAYS", scenario.RetryDelays));
        await scenario.StartWorkerAsync(Lane.Messages);
        Assert.True((await ingress.PostSignedAsync(Fixtures.Get("text-message.json"))).IsSuccessStatusCode);

        var topic = scenario.Topology[Lane.Messages].Main.Name;
        var record = TopicReader.ReadAll(scenario.Broker.BootstrapServers, topic).Single();
        var eventId = record.Header(HeaderNames.EventId)!;
        Assert.True(ActivityContext.TryParse(record.Header(HeaderNames.TraceParent), null, out var carried));

        var publish = spans.Single(a => a.Source.Name == IngressTelemetry.Name && (string?)a.GetTagItem("whatsapp.event_id") == eventId);
        Assert.Equal($"{topic} publish", publish.DisplayName);
        Assert.Equal(ActivityKind.Producer, publish.Kind);
        Assert.Equal(publish.SpanId, carried.SpanId);

        var process = await Poll.UntilAsync(
            () => Task.FromResult(spans.FirstOrDefault(a => a.Source.Name == WorkerTelemetry.Name && (string?)a.GetTagItem("whatsapp.event_id") == eventId)),
            a => a is not null, TimeSpan.FromSeconds(30), "the process span");
        Assert.Equal($"{topic} process", process!.DisplayName);
        Assert.Equal(ActivityKind.Consumer, process.Kind);
        Assert.Equal(publish.TraceId, process.TraceId);
        Assert.Equal(publish.SpanId, process.ParentSpanId);
        Assert.Equal("kafka", process.GetTagItem("messaging.system"));
        Assert.Equal(topic, process.GetTagItem("messaging.destination.name"));
        Assert.Equal(scenario.Topology.ConsumerGroup(Lane.Messages), process.GetTagItem("messaging.kafka.consumer.group"));
        Assert.Equal(record.Offset, process.GetTagItem("messaging.kafka.offset"));
        Assert.Equal(record.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture), process.GetTagItem("messaging.destination.partition.id"));
        Assert.Equal("Delivered", process.GetTagItem("delivery.outcome"));
        Assert.Equal(ActivityStatusCode.Unset, process.Status);
    }

    [Fact]
    public async Task A_failed_delivery_ends_its_process_span_in_error_and_the_retry_continues_the_trace()
    {
        var spans = new ConcurrentBag<Activity>();
        using var listener = Listen(spans);

        await using var scenario = await PipelineScenario.StartAsync();
        scenario.Stub.Reply = (_, attempt) => attempt == 1 ? new StubReply(500) : StubReply.Ok;
        await using var ingress = await IngressHost.StartAsync(scenario.Broker, ("RETRY_DELAYS", scenario.RetryDelays));
        await scenario.StartWorkerAsync(Lane.Messages);
        Assert.True((await ingress.PostSignedAsync(SchemaRegistryStub.MessageWebhook("wamid.trace.retry", "4912345"))).IsSuccessStatusCode);

        Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, ["wamid.trace.retry"], TimeSpan.FromSeconds(60)));
        var process = await Poll.UntilAsync(
            () => Task.FromResult(spans.Where(a => a.Source.Name == WorkerTelemetry.Name && (string?)a.GetTagItem("whatsapp.event_id") == "wamid.trace.retry").ToArray()),
            a => a.Length >= 2, TimeSpan.FromSeconds(30), "both process spans");

        var failed = Assert.Single(process, a => (string?)a.GetTagItem("delivery.outcome") == "Retryable");
        Assert.Equal(ActivityStatusCode.Error, failed.Status);
        Assert.Contains("500", failed.StatusDescription);
        Assert.Equal($"{scenario.Topology[Lane.Messages].Main.Name} process", failed.DisplayName);

        var delivered = Assert.Single(process, a => (string?)a.GetTagItem("delivery.outcome") == "Delivered");
        Assert.Equal(ActivityStatusCode.Unset, delivered.Status);
        Assert.Equal($"{scenario.Topology[Lane.Messages].RetryTiers[0].Name} process", delivered.DisplayName);
        Assert.Equal(failed.TraceId, delivered.TraceId);
        Assert.Equal(failed.ParentSpanId, delivered.ParentSpanId);
    }
}
