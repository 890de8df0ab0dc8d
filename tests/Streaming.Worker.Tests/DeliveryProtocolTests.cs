using System.Net;
using System.Text;
using Streaming.Contracts;
using Streaming.Worker.Delivery;

namespace Streaming.Worker.Tests;

public class DeliveryProtocolTests
{
    [Fact]
    public void Signatures_match_the_standard_webhooks_reference_example()
    {
        // The example of the Standard Webhooks specification.
        var signer = new StandardWebhooks("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        var body = Encoding.UTF8.GetBytes("""{"test": 2432232314}""");
        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", signer.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body));
        Assert.True(signer.Verify("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, "v1,bm9ub3RyZWFs v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
        Assert.False(signer.Verify("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
    }

    [Theory]
    [InlineData("", "whsec_")]
    [InlineData("secret", "whsec_")]
    [InlineData("whsec_!!!", "not base64")]
    [InlineData("whsec_c2hvcnQ=", "shorter than 16 bytes")]
    public void Bad_signing_secrets_are_refused_with_the_reason(string secret, string reason)
    {
        Assert.False(StandardWebhooks.TryParseSecret(secret, out _, out var error));
        Assert.Contains(reason, error);
    }

    [Theory]
    [InlineData(200, DeliveryOutcome.Delivered)]
    [InlineData(204, DeliveryOutcome.Delivered)]
    [InlineData(408, DeliveryOutcome.Retryable)]
    [InlineData(425, DeliveryOutcome.Retryable)]
    [InlineData(429, DeliveryOutcome.Retryable)]
    [InlineData(500, DeliveryOutcome.Retryable)]
    [InlineData(503, DeliveryOutcome.Retryable)]
    [InlineData(400, DeliveryOutcome.Terminal)]
    [InlineData(401, DeliveryOutcome.Terminal)]
    [InlineData(404, DeliveryOutcome.Terminal)]
    [InlineData(410, DeliveryOutcome.Terminal)]
    [InlineData(422, DeliveryOutcome.Terminal)]
    public void Answers_are_classified_as_the_design_says(int status, DeliveryOutcome expected)
    {
        using var response = new HttpResponseMessage((HttpStatusCode)status);
        var result = DeliveryClient.Classify(response, DateTimeOffset.UtcNow);
        Assert.Equal(expected, result.Outcome);
        Assert.Equal(expected == DeliveryOutcome.Delivered ? null : status, result.StatusCode);
    }

    [Fact]
    public void Retry_after_is_read_as_seconds_or_as_a_date()
    {
        var now = new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
        using var seconds = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        seconds.Headers.TryAddWithoutValidation("Retry-After", "7");
        Assert.Equal(TimeSpan.FromSeconds(7), DeliveryClient.Classify(seconds, now).RetryAfter);

        using var date = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        date.Headers.TryAddWithoutValidation("Retry-After", now.AddSeconds(90).ToString("R"));
        Assert.Equal(TimeSpan.FromSeconds(90), DeliveryClient.Classify(date, now).RetryAfter);
    }

    [Fact]
    public void Bad_worker_settings_are_refused_naming_the_variable()
    {
        var failures = new WorkerOptions { LaneName = "urgent", DeliveryUrl = "ftp://x", SigningSecret = "nope", MaxInFlight = 0 }.Validate().ToArray();
        Assert.Contains(failures, f => f.StartsWith("WORKER_LANE"));
        Assert.Contains(failures, f => f.StartsWith("DELIVERY_URL"));
        Assert.Contains(failures, f => f.StartsWith("DELIVERY_SIGNING_SECRET"));
        Assert.Contains(failures, f => f.StartsWith("WORKER_MAX_IN_FLIGHT"));
        Assert.DoesNotContain(failures, f => f.Contains("nope"));
    }
}
