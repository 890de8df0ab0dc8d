using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streaming.Ingress.Publishing;
using Streaming.Ingress.Security;
using Streaming.Ingress.Telemetry;
using Streaming.Ingress.Webhooks;

namespace Streaming.Ingress.Endpoints;

/// <summary>GET /webhook (Meta's verification handshake) and POST /webhook (events).</summary>
public static class WebhookEndpoints
{
    public const string Path = "/webhook";

    public static IEndpointRouteBuilder MapWebhook(this IEndpointRouteBuilder app)
    {
        app.MapGet(Path, WebhookVerification.Verify);
        app.MapPost(Path, ReceiveAsync);
        return app;
    }

    private static async Task<IResult> ReceiveAsync(
        HttpContext context,
        IOptions<IngressOptions> options,
        AppSecretKey secret,
        EventPublisher publisher,
        IngressTelemetry telemetry,
        ILogger<EventPublisher> logger,
        TimeProvider time)
    {
        var receivedAt = time.GetUtcNow();
        var request = context.Request;
        var settings = options.Value;

        if (!RequestBody.IsJson(request))
        {
            return Refuse(StatusCodes.Status415UnsupportedMediaType, "Content-Type must be application/json");
        }

        var body = await RequestBody.ReadAsync(request, settings.MaxBodyBytes, context.RequestAborted);
        if (body is null)
        {
            return Refuse(StatusCodes.Status413PayloadTooLarge, $"body over {settings.MaxBodyBytes} bytes");
        }

        // Nothing of the body is parsed before the signature holds.
        if (!WebhookSignature.IsValid(body, request.Headers[WebhookSignature.HeaderName], secret.Bytes))
        {
            telemetry.SignatureFailed();
            return Refuse(StatusCodes.Status401Unauthorized, $"missing or wrong {WebhookSignature.HeaderName}");
        }

        SplitResult webhook;
        try
        {
            using var document = JsonDocument.Parse(body);
            webhook = WebhookSplitter.Split(document.RootElement, receivedAt);
        }
        catch (JsonException e)
        {
            return Refuse(StatusCodes.Status400BadRequest, $"malformed JSON: {e.Message}");
        }
        catch (InvalidOperationException e)
        {
            // Well-formed JSON whose strings are not valid Unicode (bad UTF-8, a lone surrogate escape).
            return Refuse(StatusCodes.Status400BadRequest, $"malformed JSON text: {e.Message}");
        }

        if (!webhook.IsWebhook)
        {
            return Refuse(StatusCodes.Status400BadRequest, webhook.Error!);
        }

        var result = await publisher.PublishAsync(webhook, receivedAt, context.RequestAborted);
        if (result.Outcome != PublishOutcome.Stored)
        {
            telemetry.Unavailable(result.Outcome);
            logger.NotStored(result.Outcome, (long)result.Elapsed.TotalMilliseconds, result.Error);
            context.Response.Headers.RetryAfter = settings.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Results.Text($"not stored ({result.Outcome}); retry later\n", "text/plain", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        logger.Stored(webhook.Events.Count, (long)result.Elapsed.TotalMilliseconds);
        return Results.Text($"stored {webhook.Events.Count} events\n", "text/plain");

        IResult Refuse(int status, string reason)
        {
            telemetry.Rejected(status);
            logger.Refused(status, reason);
            return Results.Text(reason + "\n", "text/plain", Encoding.UTF8, status);
        }
    }
}

/// <summary>The app secret as HMAC key bytes, decoded once.</summary>
public sealed class AppSecretKey(IOptions<IngressOptions> options)
{
    public byte[] Bytes { get; } = Encoding.UTF8.GetBytes(options.Value.AppSecret);
}
