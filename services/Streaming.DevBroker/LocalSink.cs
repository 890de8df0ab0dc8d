using System.Text.Json;
using Streaming.Contracts;

namespace Streaming.DevBroker;

/// <summary>
/// The delivery endpoint of `make run` when no *_DELIVERY_URL is set: checks each delivery's Standard
/// Webhooks signature and logs it. SINK_FAIL_STATUS (e.g. 503 or 404) makes it fail every delivery,
/// to watch retries and dead letters. `make run` waits for its /readyz like the services'.
/// </summary>
internal static class LocalSink
{
    public static async Task<int> RunAsync(string[] args)
    {
        var port = args.SkipWhile(a => a != "--port").Skip(1).FirstOrDefault() ?? "8090";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        var app = builder.Build();

        var secret = app.Configuration["DELIVERY_SIGNING_SECRET"];
        if (!StandardWebhooks.TryParseSecret(secret, out _, out var error))
        {
            await Console.Error.WriteLineAsync($"sink: DELIVERY_SIGNING_SECRET: {error}");
            return 2;
        }

        var signer = new StandardWebhooks(secret!);
        var failStatus = int.TryParse(app.Configuration["SINK_FAIL_STATUS"], out var s) ? s : 0;
        // Ready as soon as it listens: it has no dependency to wait for.
        app.MapGet("/healthz", () => Results.Text("Healthy"));
        app.MapGet("/readyz", () => Results.Text("Healthy"));
        app.MapPost("/{lane}", async (string lane, HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            var id = request.Headers[StandardWebhooks.IdHeader].ToString();
            _ = long.TryParse(request.Headers[StandardWebhooks.TimestampHeader], out var timestamp);
            var signed = signer.Verify(id, timestamp, body.ToArray(), request.Headers[StandardWebhooks.SignatureHeader]);
            var type = TryType(body.ToArray());
            Console.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {lane} {type} {id} signature={(signed ? "ok" : "BAD")}{(failStatus > 0 ? $" -> answering {failStatus}" : "")}");
            return failStatus > 0 ? Results.StatusCode(failStatus) : signed ? Results.NoContent() : Results.Unauthorized();
        });
        await app.RunAsync();
        return 0;
    }

    private static string TryType(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.GetProperty("type").GetString() ?? "?";
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return "?";
        }
    }
}
