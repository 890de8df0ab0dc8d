using System.Net;
using System.Text;
using System.Text.Json;
using Streaming.Contracts;
using Streaming.Kafka;
using Streaming.Testing;

namespace Streaming.Ingress.Tests;

/// <summary>Signed webhooks through Kestrel into the broker, read back from the topics.</summary>
[Collection(SharedKafkaContainer.Collection)]
public sealed class IngressIntegrationTests : IAsyncLifetime
{
    private KafkaBroker _broker = null!;
    private IngressHost _ingress = null!;
    private Topology _topology = null!;

    public async Task InitializeAsync()
    {
        _broker = await KafkaBroker.StartAsync();
        _topology = _broker.Topology();
        await _broker.ProvisionAsync(_topology);
        _ingress = await IngressHost.StartAsync(_broker);
    }

    public async Task DisposeAsync()
    {
        await _ingress.DisposeAsync();
        await _broker.DisposeAsync();
    }

    private IReadOnlyList<ReadRecord> ReadLanes() =>
        TopicReader.ReadAll(_broker.BootstrapServers, _topology[Lane.Messages].Main.Name, _topology[Lane.Statuses].Main.Name);

    [Fact]
    public async Task A_signed_webhook_is_stored_on_the_right_topics_with_keys_ids_and_headers()
    {
        var response = await _ingress.PostSignedAsync(Fixtures.Get("mixed-batch.json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var records = ReadLanes();
        var messages = records.Where(r => r.Topic == _topology[Lane.Messages].Main.Name).OrderBy(r => r.Key).ToArray();
        var statuses = records.Where(r => r.Topic == _topology[Lane.Statuses].Main.Name).OrderBy(r => r.Key).ToArray();
        Assert.Equal(["5511987654321", "818012345678"], messages.Select(r => r.Key));
        Assert.Equal(["447700900456", "5511987654321"], statuses.Select(r => r.Key));

        foreach (var record in records)
        {
            using var envelope = JsonDocument.Parse(record.Value);
            Assert.Equal(envelope.RootElement.GetProperty("eventId").GetString(), record.Header(HeaderNames.EventId));
            Assert.Equal(envelope.RootElement.GetProperty("type").GetString(), record.Header(HeaderNames.EventType));
            Assert.Equal(envelope.RootElement.GetProperty("receivedAt").GetDateTimeOffset(), DateTimeOffset.Parse(record.Header(HeaderNames.ReceivedAt)!));
            Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", record.Header(HeaderNames.TraceParent));
        }

        Assert.Contains(statuses, r => r.Header(HeaderNames.EventId) == "wamid.HBgMNDQ3NzAwOTAwNDU2FQIAERgSMkE5QzFGNjBDRTQ0QjdBQjU2AA==:sent");
    }

    [Fact]
    public async Task One_key_always_lands_on_one_partition()
    {
        var body = Fixtures.Get("batched-entries.json");
        Assert.Equal(HttpStatusCode.OK, (await _ingress.PostSignedAsync(body)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _ingress.PostSignedAsync(body)).StatusCode);

        var byKey = ReadLanes().Where(r => r.Topic == _topology[Lane.Messages].Main.Name).GroupBy(r => r.Key);
        Assert.All(byKey, g => Assert.Single(g.Select(r => r.Partition).Distinct()));
    }

    [Fact]
    public async Task Meta_redelivering_the_same_webhook_yields_the_same_event_ids()
    {
        var body = Fixtures.Get("batched-entries.json");
        Assert.Equal(HttpStatusCode.OK, (await _ingress.PostSignedAsync(body)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _ingress.PostSignedAsync(body)).StatusCode);

        var ids = ReadLanes().GroupBy(r => r.Header(HeaderNames.EventId)).ToArray();
        Assert.Equal(6, ids.Length);
        Assert.All(ids, g => Assert.Equal(2, g.Count()));
    }

    public static TheoryData<string, string?, string, int> BadInputs() => new()
    {
        { "missing signature", "", "application/json", 401 },
        { "wrong signature", "sha256=" + new string('0', 64), "application/json", 401 },
        { "signature of another secret", Ingress.Security.WebhookSignature.Compute("{}"u8, "not-the-secret"), "application/json", 401 },
        { "not JSON", null, "text/plain", 415 },
        { "no content type", null, "", 415 },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Bad_requests_get_their_4xx_and_produce_nothing(string what, string? signature, string contentType, int expected)
    {
        var body = Fixtures.Get("text-message.json");
        HttpResponseMessage response;
        if (contentType.Length == 0)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/webhook") { Content = new ByteArrayContent(body) };
            request.Headers.TryAddWithoutValidation("X-Hub-Signature-256", Ingress.Security.WebhookSignature.Compute(body, IngressHost.AppSecret));
            response = await _ingress.Client.SendAsync(request);
        }
        else
        {
            response = await _ingress.PostSignedAsync(body, signature, contentType);
        }

        Assert.True(expected == (int)response.StatusCode, $"{what}: {(int)response.StatusCode}");
        Assert.Empty(ReadLanes());
    }

    [Theory]
    [InlineData("not json at all", "malformed JSON")]
    [InlineData("""{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages"}]}]}""", "no \"value\" object")]
    [InlineData("""{"object":"page","entry":[]}""", "whatsapp_business_account")]
    [InlineData("""{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]}]""", "malformed JSON")]
    [InlineData("", "malformed JSON")]
    [InlineData("""{"object":"whatsapp_business_account","entry":[{"id":"\ud800","changes":[]}]}""", "malformed JSON text")]
    public async Task Signed_bodies_that_are_not_webhooks_get_400_with_the_reason(string json, string reason)
    {
        var response = await _ingress.PostSignedAsync(Encoding.UTF8.GetBytes(json));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(reason, await response.Content.ReadAsStringAsync());
        Assert.DoesNotContain("   at ", await response.Content.ReadAsStringAsync());
        Assert.Empty(ReadLanes());
    }

    [Fact]
    public async Task A_body_over_the_limit_gets_413_and_produces_nothing()
    {
        var huge = Encoding.UTF8.GetBytes("{\"object\":\"whatsapp_business_account\",\"pad\":\"" + new string('x', 4 * 1024 * 1024) + "\",\"entry\":[]}");
        var response = await _ingress.PostSignedAsync(huge);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);

        // Chunked, without a Content-Length to refuse up front.
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhook") { Content = new StreamContent(new MemoryStream(huge)) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.TransferEncodingChunked = true;
        request.Headers.TryAddWithoutValidation("X-Hub-Signature-256", Ingress.Security.WebhookSignature.Compute(huge, IngressHost.AppSecret));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await _ingress.Client.SendAsync(request)).StatusCode);
        Assert.Empty(ReadLanes());
    }

    [Fact]
    public async Task The_verification_handshake_echoes_the_challenge_only_for_the_right_token()
    {
        var ok = await _ingress.Client.GetAsync($"/webhook?hub.mode=subscribe&hub.verify_token={IngressHost.VerifyToken}&hub.challenge=1158201444");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("text/plain", ok.Content.Headers.ContentType?.MediaType);
        Assert.Equal("1158201444", await ok.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.Forbidden, (await _ingress.Client.GetAsync("/webhook?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _ingress.Client.GetAsync($"/webhook?hub.mode=unsubscribe&hub.verify_token={IngressHost.VerifyToken}&hub.challenge=1")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _ingress.Client.GetAsync("/webhook")).StatusCode);
    }

    [Fact]
    public async Task Health_readiness_and_metrics_answer()
    {
        Assert.Equal(HttpStatusCode.OK, (await _ingress.Client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _ingress.Client.GetAsync("/readyz")).StatusCode);

        var before = await _ingress.Client.GetStringAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, (await _ingress.PostSignedAsync(Fixtures.Get("mixed-batch.json"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _ingress.PostSignedAsync(Fixtures.Get("mixed-batch.json"), "sha256=00")).StatusCode);
        var after = await _ingress.Client.GetStringAsync("/metrics");

        double Delta(string series) => MetricsText.Value(after, series) - MetricsText.Value(before, series);
        Assert.Equal(2, Delta("whatsapp_ingress_events_total{lane=\"messages\",type=\"message\""));
        Assert.Equal(2, Delta("whatsapp_ingress_events_total{lane=\"statuses\",type=\"status\""));
        Assert.Equal(1, Delta("whatsapp_ingress_signature_failures_total"));
        Assert.Equal(1, Delta("whatsapp_ingress_produce_duration_seconds_count"));
        Assert.Equal(1, Delta("http_requests_received_total{code=\"401\",method=\"POST\""));
        Assert.Contains("http_request_duration_seconds_count{code=\"200\",method=\"POST\"", after);
    }

    [Fact]
    public async Task Readiness_fails_when_the_lane_topics_do_not_exist()
    {
        await using var other = await IngressHost.StartAsync(_broker, ("TOPIC_PREFIX", "no-such-prefix"));
        var response = await other.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await other.Client.GetAsync("/healthz")).StatusCode);
    }
}
