using System.Collections.Concurrent;
using System.Diagnostics;
using Streaming.Contracts;
using Streaming.Testing;
using Streaming.Worker.Telemetry;

namespace Streaming.Worker.Tests;

[Collection(SharedKafkaContainer.Collection)]
public sealed class TraceContinuationTests
{
    [Fact]
    public async Task The_ingress_trace_continues_through_the_workers_delivery_span()
    {
        var deliveries = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == WorkerTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = deliveries.Add,
        };
        ActivitySource.AddActivityListener(listener);

        await using var scenario = await PipelineScenario.StartAsync();
        await using var ingress = await IngressHost.StartAsync(scenario.Broker, ("RETRY_DELAYS", scenario.RetryDelays));
        await scenario.StartWorkerAsync(Lane.Messages);
        Assert.True((await ingress.PostSignedAsync(Fixtures.Get("text-message.json"))).IsSuccessStatusCode);

        var record = TopicReader.ReadAll(scenario.Broker.BootstrapServers, scenario.Topology[Lane.Messages].Main.Name).Single();
        var eventId = record.Header(HeaderNames.EventId)!;
        Assert.True(ActivityContext.TryParse(record.Header(HeaderNames.TraceParent), null, out var ingressContext));

        var delivery = await Poll.UntilAsync(
            () => Task.FromResult(deliveries.FirstOrDefault(a => (string?)a.GetTagItem("whatsapp.event_id") == eventId)),
            a => a is not null, TimeSpan.FromSeconds(30), "the delivery span");
        Assert.Equal(ingressContext.TraceId, delivery!.TraceId);
        Assert.Equal(ingressContext.SpanId, delivery.ParentSpanId);
        Assert.Equal("Delivered", delivery.GetTagItem("delivery.outcome"));
    }
}
