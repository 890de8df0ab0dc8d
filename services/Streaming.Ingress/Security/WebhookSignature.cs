using System.Security.Cryptography;
using System.Text;

namespace Streaming.Ingress.Security;

/// <summary>Meta's X-Hub-Signature-256: <c>sha256=</c> + hex HMAC-SHA256 of the raw body keyed by the app secret.</summary>
public static class WebhookSignature
{
    public const string HeaderName = "X-Hub-Signature-256";
    private const string Prefix = "sha256=";

    public static bool IsValid(ReadOnlySpan<byte> body, string? header, ReadOnlySpan<byte> appSecret)
    {
        if (header is null || !header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var hex = header.AsSpan(Prefix.Length).Trim();
        Span<byte> claimed = stackalloc byte[HMACSHA256.HashSizeInBytes];
        if (hex.Length != claimed.Length * 2 || Convert.FromHexString(hex, claimed, out _, out var written) != System.Buffers.OperationStatus.Done || written != claimed.Length)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(appSecret, body, expected);
        return CryptographicOperations.FixedTimeEquals(expected, claimed);
    }

    public static string Compute(ReadOnlySpan<byte> body, string appSecret) =>
        Prefix + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(appSecret), body));

    /// <summary>Constant-time comparison of two secrets given as text (the verify token). Hashing first hides the length too.</summary>
    public static bool SecretEquals(string? given, string expected) =>
        given is not null && CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}
