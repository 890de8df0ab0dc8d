using System.Net;
using System.Text;
using System.Text.Json;
using Streaming.Contracts;
using Streaming.Ingress.Security;
using Streaming.Ingress.Webhooks;
using Streaming.Testing;
using Xunit.Abstractions;

namespace Streaming.FaultInjection.Tests;

/// <summary>
/// Thousands of mutated bodies and headers from a seed: the ingress never answers 5xx, never dies, and
/// the topics hold exactly the events of the requests it answered 200.
/// </summary>
[Collection(SharedKafkaContainer.Collection)]
public sealed class FuzzedWebhookTests(ITestOutputHelper output)
{
    private const int Seed = 20261123;

    /// <summary>3,000 in make test; the soak sets FUZZ_REQUESTS (10,000 or more).</summary>
    private static readonly int Requests = int.TryParse(Environment.GetEnvironmentVariable("FUZZ_REQUESTS"), out var n) && n > 0 ? n : 3000;

    [Fact]
    public async Task A_fuzzed_corpus_never_gets_a_5xx_and_only_accepted_requests_produce()
    {
        await using var broker = await KafkaBroker.StartAsync();
        var topology = broker.Topology();
        await broker.ProvisionAsync(topology);
        await using var ingress = await IngressHost.StartAsync(broker, ("INGRESS_MAX_BODY_BYTES", "65536"));
        var random = new Random(Seed);
        var corpus = Enumerable.Range(0, Requests).Select(i => Mutations.Make(random, i)).ToArray();

        var statuses = new int[corpus.Length];
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < corpus.Length)
            {
                statuses[i] = (int)(await Send(ingress.Client, corpus[i])).StatusCode;
            }
        })));

        var byStatus = statuses.GroupBy(s => s).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count());
        var summary = $"{corpus.Length} requests, seed {Seed}: " + string.Join(", ", byStatus.Select(kv => $"{kv.Key}: {kv.Value}"));
        output.WriteLine(summary);
        var healthy = (await ingress.Client.GetAsync("/healthz")).StatusCode;

        // Exactly the events of the accepted requests, and none of any refused one.
        var expected = corpus.Where((_, i) => statuses[i] == 200).SelectMany(ExpectedEventIds).ToList();
        var stored = TopicReader.ReadAll(broker.BootstrapServers, topology[Lane.Messages].Main.Name, topology[Lane.Statuses].Main.Name)
            .Select(r => r.Header(HeaderNames.EventId)!).ToList();
        SoakLedger.RecordFuzz($"{summary}; 5xx: {statuses.Count(s => s >= 500)}; events stored {stored.Count}, of accepted requests {expected.Count}, "
            + (expected.Order().SequenceEqual(stored.Order()) ? "exactly those" : "NOT the same set"));

        Assert.DoesNotContain(statuses, s => s >= 500);
        Assert.True(byStatus.GetValueOrDefault(200) > 100 && byStatus.Count >= 5, "the corpus should reach acceptance and every refusal path");
        Assert.Equal(HttpStatusCode.OK, healthy);
        Assert.Equal(expected.Order(), stored.Order());
    }

    private static Task<HttpResponseMessage> Send(HttpClient client, Mutations.Request request)
    {
        var content = new ByteArrayContent(request.Body);
        if (request.ContentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
        }

        var message = new HttpRequestMessage(HttpMethod.Post, "/webhook") { Content = content };
        if (request.Signature is not null)
        {
            message.Headers.TryAddWithoutValidation(WebhookSignature.HeaderName, request.Signature);
        }

        return client.SendAsync(message);
    }

    private static IEnumerable<string> ExpectedEventIds(Mutations.Request request)
    {
        using var document = JsonDocument.Parse(request.Body);
        return WebhookSplitter.Split(document.RootElement, DateTimeOffset.UtcNow).Events.Select(e => e.EventId).ToArray();
    }
}

/// <summary>Seeded mutations of real webhooks: most stay correctly signed so they reach the parser and splitter.</summary>
internal static class Mutations
{
    public sealed record Request(byte[] Body, string? Signature, string? ContentType);

    private static readonly byte[][] Seeds = Fixtures.All().Values.ToArray();

    private static readonly string[] Tokens =
    [
        "null", "true", "[]", "{}", "\"\"", "0", "-1", "1e309", "\"\\ud800\"", "[[[[[[[[[[]]]]]]]]]]", "{\"entry\":null}",
        "\"whatsapp_business_account\"", "{\"id\":{}}", "\"changes\"", "[{\"field\":1}]", "\"\u0000\"",
    ];

    public static Request Make(Random random, int index)
    {
        var body = Mutate(random, Seeds[random.Next(Seeds.Length)]);
        var signature = WebhookSignature.Compute(body, IngressHost.AppSecret);
        var contentType = "application/json";
        switch (random.Next(20))
        {
            case 0: signature = null; break;
            case 1: signature = "sha256=" + Convert.ToHexStringLower(RandomBytes(random, 32)); break;
            case 2: signature = WebhookSignature.Compute(Mutate(random, body), IngressHost.AppSecret); break;
            case 3: signature = signature[..^2]; break;
            case 4: contentType = random.Next(2) == 0 ? "text/plain" : null!; break;
            case 5: contentType = "application/json; charset=utf-8"; break;
        }

        return new Request(body, signature, contentType);
    }

    private static byte[] Mutate(Random random, byte[] source)
    {
        var text = Encoding.UTF8.GetString(source);
        switch (random.Next(10))
        {
            case 0: return source; // unchanged: must be accepted
            case 1: return source[..random.Next(source.Length)]; // truncated
            case 2:
            {
                var bytes = (byte[])source.Clone();
                for (var n = random.Next(1, 6); n > 0; n--)
                {
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                }

                return bytes;
            }
            case 3: return Encoding.UTF8.GetBytes(ReplaceValue(random, text, Tokens[random.Next(Tokens.Length)]));
            case 4: return Encoding.UTF8.GetBytes(text.Replace("\"" + Pick(random, "id", "from", "field", "value", "entry", "changes", "statuses", "messages", "object") + "\"", "\"x" + random.Next(9) + "\""));
            case 5: return Encoding.UTF8.GetBytes(new string('[', random.Next(10, 5000)));
            case 6: return RandomBytes(random, random.Next(0, 2000));
            case 7: return Encoding.UTF8.GetBytes(text.Replace("\"text\"", "\"" + new string('x', random.Next(1, 70_000)) + "\""));
            case 8: return Encoding.UTF8.GetBytes(ReplaceValue(random, text, "\"" + new string('\u00e9', random.Next(1, 200)) + "\""));
            default: return Encoding.UTF8.GetBytes(text.Replace("\"status\"", "\"status\",\"extra\":{\"k\":[1,2,{\"z\":null}]}"));
        }
    }

    /// <summary>Replaces one JSON value (after a random colon) with a token.</summary>
    private static string ReplaceValue(Random random, string text, string token)
    {
        var colons = Enumerable.Range(0, text.Length).Where(i => text[i] == ':').ToArray();
        if (colons.Length == 0)
        {
            return text;
        }

        var at = colons[random.Next(colons.Length)] + 1;
        var end = at;
        var depth = 0;
        var inString = false;
        for (; end < text.Length; end++)
        {
            var c = text[end];
            if (inString)
            {
                if (c == '\\') { end++; continue; }
                if (c == '"') inString = false;
                continue;
            }

            if (c == '"') inString = true;
            else if (c is '{' or '[') depth++;
            else if (c is '}' or ']') { if (depth-- == 0) break; }
            else if (c == ',' && depth == 0) break;
        }

        return text[..at] + token + text[end..];
    }

    private static string Pick(Random random, params string[] options) => options[random.Next(options.Length)];

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }
}
