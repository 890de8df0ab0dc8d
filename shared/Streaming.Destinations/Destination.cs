using Streaming.Contracts;

namespace Streaming.Destinations;

/// <summary>Where the secret of a destination comes from: named in listings, never its value.</summary>
public enum SecretSource
{
    Inline,
    File,
    /// <summary>The lane's default destination: <c>DELIVERY_SIGNING_SECRET</c>.</summary>
    Environment,
}

/// <summary>
/// One business endpoint of the table. The signing key lives inside <see cref="Signer"/>, which has no
/// way to print it, so logging or listing a destination cannot leak a secret.
/// </summary>
public sealed record Destination
{
    /// <summary>The name of the lane's catch-all destination (DELIVERY_URL + DELIVERY_SIGNING_SECRET).</summary>
    public const string DefaultName = "default";

    public required string Name { get; init; }
    public IReadOnlyList<string> PhoneNumberIds { get; init; } = [];
    public IReadOnlyList<string> WabaIds { get; init; } = [];
    public Uri? MessagesUrl { get; init; }
    public Uri? StatusesUrl { get; init; }
    public required SecretSource SecretSource { get; init; }

    /// <summary>The <c>signingSecretFile</c> path (not a secret itself), when <see cref="SecretSource"/> is File.</summary>
    public string? SecretFile { get; init; }

    /// <summary>Null when the table was read without its secrets (streamctl).</summary>
    public StandardWebhooks? Signer { get; init; }

    /// <summary>Null: WORKER_DESTINATION_MAX_IN_FLIGHT.</summary>
    public int? MaxConcurrency { get; init; }

    /// <summary>Null: unlimited.</summary>
    public double? MaxRatePerSecond { get; init; }

    public Uri? UrlFor(Lane lane) => lane == Lane.Messages ? MessagesUrl : StatusesUrl;
}
