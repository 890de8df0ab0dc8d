using System.Globalization;
using System.Text;
using Streaming.Ingress.Security;
using Streaming.Testing;

namespace Streaming.Benchmarks.Infrastructure;

/// <summary>A webhook body as Meta would POST it, with its X-Hub-Signature-256 for <see cref="IngressHost.AppSecret"/>.</summary>
public sealed record SignedWebhook(byte[] Body, string Signature, int Events);

/// <summary>
/// Webhook bodies in Meta's format (the shape of the shared fixtures), compact JSON on one line so the
/// wrk script can read them line by line. Event ids are unique per <paramref name="run"/>; keys (wa_ids)
/// cycle through <c>keys</c> customers so events spread over partitions.
/// </summary>
public static class Webhooks
{
    private const string Head = """{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},""";
    private const string Tail = """},"field":"messages"}]}]}""";

    public static string WaId(int customer) => "5511" + (900000000 + customer).ToString(CultureInfo.InvariantCulture);

    /// <summary>One webhook carrying <paramref name="count"/> customer messages.</summary>
    public static SignedWebhook Messages(string run, int first, int count, int keys = 10_000)
    {
        var contacts = new StringBuilder();
        var messages = new StringBuilder();
        for (var i = first; i < first + count; i++)
        {
            var waId = WaId(i % keys);
            var sep = i == first ? "" : ",";
            contacts.Append(CultureInfo.InvariantCulture, $$$"""{{{sep}}}{"profile":{"name":"Customer {{{i % keys}}}"},"wa_id":"{{{waId}}}"}""");
            messages.Append(CultureInfo.InvariantCulture,
                $$$"""{{{sep}}}{"from":"{{{waId}}}","id":"wamid.{{{run}}}.m{{{i}}}","timestamp":"1750264001","type":"text","text":{"body":"Hello! I would like to know where my order 88{{{i % 1000:000}}} is, thanks."}}""");
        }

        return Sign($$"""{{Head}}"contacts":[{{contacts}}],"messages":[{{messages}}]{{Tail}}""", count);
    }

    /// <summary>One webhook carrying <paramref name="count"/> delivery statuses (the shape Meta sends, with pricing).</summary>
    public static SignedWebhook Statuses(string run, int first, int count, int keys = 10_000)
    {
        var statuses = new StringBuilder();
        for (var i = first; i < first + count; i++)
        {
            var sep = i == first ? "" : ",";
            statuses.Append(CultureInfo.InvariantCulture,
                $$$"""{{{sep}}}{"id":"wamid.{{{run}}}.s{{{i}}}","status":"delivered","timestamp":"1750264004","recipient_id":"{{{WaId(i % keys)}}}","conversation":{"id":"0f1e2d3c4b5a69788796a5b4c3d2e1f0","origin":{"type":"utility"}},"pricing":{"billable":true,"pricing_model":"PMP","category":"utility","type":"regular"}}""");
        }

        return Sign($$"""{{Head}}"statuses":[{{statuses}}]{{Tail}}""", count);
    }

    /// <summary>A pool of distinct message webhooks of <paramref name="batch"/> events each.</summary>
    public static IReadOnlyList<SignedWebhook> MessagePool(string run, int webhooks, int batch) =>
        Enumerable.Range(0, webhooks).Select(w => Messages(run, w * batch, batch)).ToArray();

    private static SignedWebhook Sign(string json, int events)
    {
        var body = Encoding.UTF8.GetBytes(json);
        return new SignedWebhook(body, WebhookSignature.Compute(body, IngressHost.AppSecret), events);
    }
}
