using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Streaming.Contracts;

namespace Streaming.Worker.Delivery;

/// <summary>
/// The one HTTP client stack every destination delivers through (the <c>default</c> destination, DELIVERY_URL,
/// included): keep-alive connections, with the HTTP/1.0 handling of <see cref="NonPersistentConnectionHandler"/>.
/// No resilience handler here: each destination has its own circuit and timeout (Destinations/), so one
/// destination's failures never open a circuit another shares. No HTTP-level retries: retries are tiers.
/// </summary>
public static class DeliveryClient
{
    public const string HttpClientName = "delivery";
    public const string TimedOut = "timed out";

    /// <summary>The HTTP header that tells the business an earlier event of the conversation was dead-lettered (ORDERING=key).</summary>
    public const string AfterDeadLetterHeader = HeaderNames.AfterDeadLetter;

    public static IServiceCollection AddDeliveryClient(this IServiceCollection services)
    {
        services.AddHttpClient(HttpClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(DeliveryConnections.Pooled);
        services.AddNonPersistentConnections(HttpClientName);
        return services;
    }

    /// <summary>A signed Standard Webhooks POST of the envelope, naming its destination in a <c>destination</c> header.</summary>
    public static HttpRequestMessage SignedRequest(
        Uri url, StandardWebhooks signer, string destination, string eventId, byte[] envelope, long timestamp, string? afterDeadLetter = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(envelope) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add(StandardWebhooks.IdHeader, eventId);
        request.Headers.Add(StandardWebhooks.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(StandardWebhooks.SignatureHeader, signer.Sign(eventId, timestamp, envelope));
        if (afterDeadLetter is not null)
        {
            request.Headers.Add(AfterDeadLetterHeader, afterDeadLetter);
        }

        request.Headers.Add(HeaderNames.Destination, destination);
        return request;
    }

    /// <summary>What the answer means: delivered, retryable (with its Retry-After) or terminal.</summary>
    public static DeliveryResult Classify(HttpResponseMessage response, DateTimeOffset now)
    {
        var code = (int)response.StatusCode;
        if (response.IsSuccessStatusCode)
        {
            return DeliveryResult.Delivered;
        }

        var error = $"HTTP {code} {response.ReasonPhrase}".TrimEnd();
        return IsRetryable(response.StatusCode)
            ? new DeliveryResult(DeliveryOutcome.Retryable, code, error, RetryAfter(response.Headers.RetryAfter, now))
            : new DeliveryResult(DeliveryOutcome.Terminal, code, error);
    }

    internal static bool IsRetryable(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or (HttpStatusCode)425 or HttpStatusCode.TooManyRequests || (int)status >= 500;

    private static TimeSpan? RetryAfter(RetryConditionHeaderValue? header, DateTimeOffset now) => header switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date > now ? date - now : TimeSpan.Zero,
        _ => null,
    };
}
