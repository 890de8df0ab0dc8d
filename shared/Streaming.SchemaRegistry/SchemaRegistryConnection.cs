using Confluent.SchemaRegistry;
using Microsoft.Extensions.Options;

namespace Streaming.SchemaRegistry;

/// <summary>
/// The one <see cref="CachedSchemaRegistryClient"/> of a process, or none when SCHEMA_REGISTRY_URL is
/// unset. The client caches every schema id it registered, looked up or fetched: that cache is what keeps
/// a service serving while the registry is down.
/// </summary>
public sealed class SchemaRegistryConnection : IDisposable
{
    public SchemaRegistryConnection(IOptions<SchemaRegistryOptions> options)
    {
        var o = options.Value;
        if (!o.Enabled)
        {
            return;
        }

        var config = new SchemaRegistryConfig
        {
            Url = o.Url,
            // A registry that does not answer must not hold a request or a record for the default 30 s.
            RequestTimeoutMs = 5000,
        };
        if (!string.IsNullOrEmpty(o.BasicAuthUserInfo))
        {
            config.BasicAuthCredentialsSource = AuthCredentialsSource.UserInfo;
            config.BasicAuthUserInfo = o.BasicAuthUserInfo;
        }

        Client = new CachedSchemaRegistryClient(config);
    }

    /// <summary>For tests and tools that bring their own client.</summary>
    public SchemaRegistryConnection(ISchemaRegistryClient? client) => Client = client;

    public ISchemaRegistryClient? Client { get; }

    /// <summary>The registry did not answer, or answered with an error: worth waiting for.</summary>
    public static bool IsRegistryError(Exception e) =>
        e is SchemaRegistryException or HttpRequestException or TaskCanceledException or TimeoutException
        || (e is AggregateException a && a.InnerExceptions.All(IsRegistryError));

    public void Dispose() => Client?.Dispose();
}
