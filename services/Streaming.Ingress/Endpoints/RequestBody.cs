using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace Streaming.Ingress.Endpoints;

internal static class RequestBody
{
    /// <summary>Reads the raw body, or null once it passes <paramref name="limit"/> bytes (answered 413).</summary>
    public static async Task<byte[]?> ReadAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        var buffer = new ArrayBufferWriter<byte>((int)Math.Max(1, request.ContentLength ?? 16 * 1024));
        while (true)
        {
            var memory = buffer.GetMemory(16 * 1024);
            var read = await request.Body.ReadAsync(memory, cancellationToken);
            if (read == 0)
            {
                return buffer.WrittenSpan.ToArray();
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > limit)
            {
                return null;
            }
        }
    }

    public static bool IsJson(HttpRequest request) =>
        request.ContentType is { } type
        && Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(type, out var media)
        && (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase));
}
