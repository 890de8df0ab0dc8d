using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streaming.Ingress.Security;
using Streaming.Ingress.Telemetry;

namespace Streaming.Ingress.Endpoints;

/// <summary>
/// GET /webhook: Meta's verification handshake. Its own class so its lines log under their own
/// category (<see cref="Category"/>): an operator can raise or silence the handshake without touching
/// the event path's logs.
/// </summary>
public sealed class WebhookVerification
{
    public static readonly string Category = typeof(WebhookVerification).FullName!;

    private WebhookVerification()
    {
    }

    internal static IResult Verify(HttpRequest request, IOptions<IngressOptions> options, ILogger<WebhookVerification> logger)
    {
        var query = request.Query;
        var challenge = query["hub.challenge"].ToString();
        if (query["hub.mode"] == "subscribe"
            && challenge.Length > 0
            && WebhookSignature.SecretEquals(query["hub.verify_token"].ToString(), options.Value.VerifyToken))
        {
            logger.Verified();
            return Results.Text(challenge, "text/plain");
        }

        logger.VerificationRefused();
        return Results.Text("verification refused\n", "text/plain", statusCode: StatusCodes.Status403Forbidden);
    }
}
