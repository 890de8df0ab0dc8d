using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Streaming.Contracts;
using Streaming.Ingress.Telemetry;
using Streaming.Kafka;
using Streaming.Testing;

namespace Streaming.Ingress.Tests;

/// <summary>One <c>{topic} publish</c> producer span per record (OpenTelemetry messaging conventions), its context in the record's headers.</summary>
public sealed class PublishTracingTests : IAsyncLifetime
{
    private KafkaBroker _broker = null!;
    private Topology _topology = null!;
    private readonly ConcurrentBag<Activity> _spans = new();
    private ActivityListener _listener = null!;

    public async Task InitializeAsync()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == IngressTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Add,
        };
        ActivitySource.AddActivityListener(_listener);
        _broker = await KafkaBroker.StartAsync();
        _topology = _broker.Topology();
        await _broker.ProvisionAsync(_topology);
    }

    public async Task DisposeAsync()
    {
        _listener.Dispose();
        await _broker.DisposeAsync();
    }

    private Activity[] SpansOf(IEnumerable<string> eventIds)
    {
        var ids = eventIds.ToHashSet();
        return _spans.Where(a => a.GetTagItem("whatsapp.event_id") is string id && ids.Contains(id)).ToArray();
    }

    [Fact]
    public async Task Each_record_carries_the_context_of_its_own_publish_span_a_sibling_under_the_request()
    {
        await using var ingress = await IngressHost.StartAsync(_broker);
        Assert.Equal(HttpStatusCode.OK, (await ingress.PostSignedAsync(Fixtures.Get("mixed-batch.json"))).StatusCode);

        var records = TopicReader.ReadAll(_broker.BootstrapServers, _topology[Lane.Messages].Main.Name, _topology[Lane.Statuses].Main.Name);
        Assert.True(records.Select(r => r.Topic).Distinct().Count() == 2, "mixed-batch.json should reach both lanes");
        var spans = SpansOf(records.Select(r => r.Header(HeaderNames.EventId)!));
        Assert.Equal(records.Count, spans.Length);

        foreach (var record in records)
        {
            Assert.True(ActivityContext.TryParse(record.Header(HeaderNames.TraceParent), null, out var carried));
            var span = Assert.Single(spans, s => s.SpanId == carried.SpanId);
            Assert.Equal(record.Header(HeaderNames.EventId), span.GetTagItem("whatsapp.event_id"));
            Assert.Equal($"{record.Topic} publish", span.DisplayName);
            Assert.Equal(ActivityKind.Producer, span.Kind);
            Assert.Equal("kafka", span.GetTagItem("messaging.system"));
            Assert.Equal(record.Topic, span.GetTagItem("messaging.destination.name"));
            Assert.Equal(ActivityStatusCode.Unset, span.Status);
        }

        // Siblings in one trace (the request's), not a chain of records.
        Assert.Single(spans.Select(s => s.TraceId).Distinct());
        Assert.Single(spans.Select(s => s.ParentSpanId).Distinct());
        Assert.DoesNotContain(spans, s => spans.Any(p => p.SpanId == s.ParentSpanId));
    }

    [EmbeddedKafkaFact]
    public async Task A_webhook_that_is_not_stored_ends_its_publish_spans_in_error()
    {
        await using var ingress = await IngressHost.StartAsync(_broker, ("INGRESS_PRODUCE_BUDGET_MS", "1000"));
        await Poll.UntilAsync(async () => (await ingress.PostSignedAsync(SchemaRegistryStub.MessageWebhook("wamid.warm", "491"))).StatusCode,
            s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "the ingress to store its first webhook");

        _broker.Embedded!.SetAllBrokersDown();
        try
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await ingress.PostSignedAsync(SchemaRegistryStub.MessageWebhook("wamid.lost", "491"))).StatusCode);
        }
        finally
        {
            _broker.Embedded.SetAllBrokersUp();
        }

        var span = Assert.Single(SpansOf(["wamid.lost"]));
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.False(string.IsNullOrEmpty(span.StatusDescription));
    }
}
