using System.Security.Cryptography;
using System.Text;

namespace Streaming.Contracts;

/// <summary>
/// The Standard Webhooks signature scheme (standardwebhooks.com) that deliveries carry:
/// <c>webhook-signature: v1,base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))</c>, the key being the
/// base64 part of a <c>whsec_</c> secret. No maintained .NET package is available here, so it is written
/// out; it is small and checked against the specification's own example in the tests.
/// </summary>
public sealed class StandardWebhooks
{
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";
    private const string SecretPrefix = "whsec_";

    private readonly byte[] _key;

    public StandardWebhooks(string secret)
    {
        if (!TryParseSecret(secret, out var key, out var error))
        {
            throw new ArgumentException(error, nameof(secret));
        }

        _key = key;
    }

    public static bool TryParseSecret(string? secret, out byte[] key, out string error)
    {
        key = [];
        error = "";
        if (string.IsNullOrEmpty(secret) || !secret.StartsWith(SecretPrefix, StringComparison.Ordinal))
        {
            error = "the signing secret must look like whsec_<base64 key>";
            return false;
        }

        try
        {
            key = Convert.FromBase64String(secret[SecretPrefix.Length..]);
        }
        catch (FormatException)
        {
            error = "the part after whsec_ is not base64";
            return false;
        }

        if (key.Length < 16)
        {
            error = "the signing key is shorter than 16 bytes";
            return false;
        }

        return true;
    }

    public string Sign(string id, long timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes($"{id}.{timestamp}.");
        var content = new byte[prefix.Length + body.Length];
        prefix.CopyTo(content, 0);
        body.CopyTo(content.AsSpan(prefix.Length));
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(_key, content));
    }

    /// <summary>True when any of the space-separated signatures of the header is ours (constant-time).</summary>
    public bool Verify(string id, long timestamp, ReadOnlySpan<byte> body, string? signatureHeader)
    {
        if (string.IsNullOrEmpty(signatureHeader))
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Sign(id, timestamp, body));
        var match = false;
        foreach (var candidate in signatureHeader.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            match |= CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(candidate));
        }

        return match;
    }
}
