using Microsoft.Extensions.Configuration;

namespace Streaming.SchemaRegistry;

/// <summary>Where the Schema Registry is; bound from the environment, every name is in docs/configuration.md.</summary>
public sealed class SchemaRegistryOptions
{
    /// <summary>Unset (the default): records are plain JSON and nothing talks to a registry.</summary>
    [ConfigurationKeyName("SCHEMA_REGISTRY_URL")]
    public string Url { get; set; } = "";

    /// <summary><c>user:password</c> for HTTP basic auth (Confluent Cloud: API key and secret). A secret: never logged.</summary>
    [ConfigurationKeyName("SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO")]
    public string BasicAuthUserInfo { get; set; } = "";

    public bool Enabled => !string.IsNullOrWhiteSpace(Url);

    public IEnumerable<string> Validate()
    {
        if (!Enabled)
        {
            if (!string.IsNullOrEmpty(BasicAuthUserInfo))
            {
                yield return "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO is set but SCHEMA_REGISTRY_URL is not";
            }

            yield break;
        }

        // The client takes a comma-separated list of URLs and tries each in turn.
        foreach (var url in Url.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                yield return $"SCHEMA_REGISTRY_URL must be absolute http(s) URLs, comma-separated (got '{url}')";
            }
            else if (!string.IsNullOrEmpty(uri.UserInfo))
            {
                // Said without echoing the URL: it carries the credentials.
                yield return "SCHEMA_REGISTRY_URL must not carry credentials: use SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO";
            }
        }

        if (!string.IsNullOrEmpty(BasicAuthUserInfo) && !BasicAuthUserInfo.Contains(':', StringComparison.Ordinal))
        {
            yield return "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO must look like user:password";
        }
    }
}
