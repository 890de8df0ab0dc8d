using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Streaming.Contracts;

namespace Streaming.Worker.Delivery;

/// <summary>
/// POSTs one event to the lane's endpoint, signed the Standard Webhooks way, through the resilience
/// pipeline (per-attempt timeout and circuit breaker, see <see cref="WorkerServiceCollectionExtensions"/>),
/// and says what the answer means. It never retries itself: retries live in Kafka's tier topics.
/// </summary>
public sealed class DeliveryClient(IHttpClientFactory clients, IOptions<WorkerOptions> options, StandardWebhooks signer, TimeProvider time)
{
    public const string HttpClientName = "delivery";

    private readonly Uri _url = new(options.Value.DeliveryUrl);

    /// <summary>The HTTP header that tells the business an earlier event of the conversation was dead-lettered (ORDERING=key).</summary>
    public const string AfterDeadLetterHeader = HeaderNames.AfterDeadLetter;

    public async Task<DeliveryResult> DeliverAsync(string eventId, byte[] envelope, CancellationToken cancellationToken, string? afterDeadLetter = null)
    {
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, _url) { Content = new ByteArrayContent(envelope) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add(StandardWebhooks.IdHeader, eventId);
        request.Headers.Add(StandardWebhooks.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(StandardWebhooks.SignatureHeader, signer.Sign(eventId, timestamp, envelope));
        if (afterDeadLetter is not null)
        {
            request.Headers.Add(AfterDeadLetterHeader, afterDeadLetter);
        }

        try
        {
            using var response = await clients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            return Classify(response, time.GetUtcNow());
        }
        catch (BrokenCircuitException)
        {
            return DeliveryResult.CircuitOpen;
        }
        catch (TimeoutRejectedException)
        {
            return new DeliveryResult(DeliveryOutcome.Retryable, Error: "timed out");
        }
        catch (HttpRequestException e)
        {
            return new DeliveryResult(DeliveryOutcome.Retryable, Error: $"connection error: {e.Message}");
        }
    }

    internal static DeliveryResult Classify(HttpResponseMessage response, DateTimeOffset now)
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
