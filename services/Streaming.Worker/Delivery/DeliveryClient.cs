using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Streaming.Contracts;
using Streaming.Destinations;
using Streaming.Worker.Destinations;

namespace Streaming.Worker.Delivery;

/// <summary>
/// POSTs one event to the lane's endpoint, signed the Standard Webhooks way, through the resilience
/// pipeline (per-attempt timeout and circuit breaker, see <see cref="WorkerServiceCollectionExtensions"/>),
/// and says what the answer means. It never retries itself: retries live in Kafka's tier topics.
/// </summary>
public sealed class DeliveryClient(
    IHttpClientFactory clients, IOptions<WorkerOptions> options, StandardWebhooks signer, DestinationTelemetry destinations, TimeProvider time)
{
    public const string HttpClientName = "delivery";
    public const string TimedOut = "timed out";

    // Unset only with DESTINATIONS_FILE and no default destination: then this client is never used.
    private readonly Uri? _url = Uri.TryCreate(options.Value.DeliveryUrl, UriKind.Absolute, out var url) ? url : null;

    /// <summary>The HTTP header that tells the business an earlier event of the conversation was dead-lettered (ORDERING=key).</summary>
    public const string AfterDeadLetterHeader = HeaderNames.AfterDeadLetter;

    /// <summary>Delivers to DELIVERY_URL, the one endpoint when there is no DESTINATIONS_FILE: the destination <c>default</c>.</summary>
    public async Task<DeliveryResult> DeliverAsync(string eventId, byte[] envelope, CancellationToken cancellationToken, string? afterDeadLetter = null)
    {
        var started = time.GetTimestamp();
        DeliveryResult result;
        destinations.DefaultInFlight(1);
        try
        {
            result = await SendAsync(eventId, envelope, afterDeadLetter, cancellationToken);
        }
        finally
        {
            destinations.DefaultInFlight(-1);
        }

        destinations.Observed(Destination.DefaultName, result, result.Outcome == DeliveryOutcome.CircuitOpen ? null : time.GetElapsedTime(started));
        return result;
    }

    /// <summary>A signed Standard Webhooks POST of the envelope, naming its destination in a <c>destination</c> header.</summary>
    internal static HttpRequestMessage SignedRequest(
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

    private async Task<DeliveryResult> SendAsync(string eventId, byte[] envelope, string? afterDeadLetter, CancellationToken cancellationToken)
    {
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        using var request = SignedRequest(_url ?? throw new InvalidOperationException("DELIVERY_URL is not set"), signer, Destination.DefaultName, eventId, envelope, timestamp, afterDeadLetter);

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
            return new DeliveryResult(DeliveryOutcome.Retryable, Error: TimedOut);
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
