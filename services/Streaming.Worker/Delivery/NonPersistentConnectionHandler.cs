using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Streaming.Worker.Delivery;

/// <summary>
/// Deliveries to endpoints that close every connection after their answer (HTTP/1.0 servers such as
/// Python's http.server) must not fail on a connection the server has already closed.
/// <para>
/// Why they do: SocketsHttpHandler keeps a connection after an HTTP/1.0 response that has no
/// <c>Connection</c> header (it reads the absence as keep-alive; RFC 9112 §9.3 says such a connection
/// closes), and hands it straight to the next request. The server's FIN races that request: when the
/// request wins, it is written to a closed socket and fails with "the response ended prematurely"
/// (ResponseEnded). A later HTTP/1.1 request with <c>Connection: close</c> does not help by itself:
/// it can still be given one of the dead connections already pooled.
/// </para>
/// <para>
/// What this does: once an origin answers HTTP/1.0 without keep-alive, its requests go through a
/// handler of their own that never pools a connection (and say <c>Connection: close</c>), so no dead
/// connection can be picked. A request that gets no answer at all (ResponseEnded, or reset) on the
/// pooled handler, as the requests under way in the moment before the origin was known can, is sent
/// once more on such a fresh connection. That is safe: a server that closed the connection before
/// reading the request never saw it, and a server that did see it and answered nothing is retried
/// once, within the at-least-once contract (the webhook-id lets the endpoint drop a duplicate).
/// HTTP/1.1 endpoints keep their pooled keep-alive connections.
/// </para>
/// </summary>
public sealed class NonPersistentConnectionHandler : DelegatingHandler
{
    private readonly NonPersistentEndpoints _endpoints;
    private readonly ILogger _logger;
    private readonly Lazy<HttpMessageInvoker> _unpooled = new(() => new HttpMessageInvoker(DeliveryConnections.Unpooled()), LazyThreadSafetyMode.ExecutionAndPublication);

    public NonPersistentConnectionHandler(NonPersistentEndpoints endpoints, ILogger<NonPersistentConnectionHandler> logger)
    {
        _endpoints = endpoints;
        _logger = logger;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var uri = request.RequestUri!;
        if (_endpoints.Contains(uri))
        {
            return await SendUnpooledAsync(request, cancellationToken);
        }

        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e) when (NoAnswer(e) && CanResend(request))
        {
            NonPersistentLog.ResentOnFreshConnection(_logger, NonPersistentEndpoints.Origin(uri), e.HttpRequestError.ToString());
            return await SendUnpooledAsync(request, cancellationToken);
        }

        if (ClosesAfterAnswer(response) && _endpoints.Add(uri))
        {
            NonPersistentLog.Learned(_logger, NonPersistentEndpoints.Origin(uri));
        }

        return response;
    }

    /// <summary>HTTP/1.0 persists only with an explicit <c>Connection: keep-alive</c> (RFC 9112 §9.3).</summary>
    internal static bool ClosesAfterAnswer(HttpResponseMessage response) =>
        response.Version == HttpVersion.Version10
        && !response.Headers.Connection.Contains("keep-alive", StringComparer.OrdinalIgnoreCase);

    private Task<HttpResponseMessage> SendUnpooledAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.ConnectionClose = true;
        return _unpooled.Value.SendAsync(request, cancellationToken);
    }

    /// <summary>The connection ended before any byte of an answer: the symptom of a connection the server had closed.</summary>
    private static bool NoAnswer(HttpRequestException e) =>
        e.HttpRequestError == HttpRequestError.ResponseEnded
        || e.InnerException is IOException { InnerException: SocketException { SocketErrorCode: SocketError.ConnectionReset or SocketError.ConnectionAborted } };

    /// <summary>Deliveries are byte arrays, which can be sent again; a stream might not be.</summary>
    private static bool CanResend(HttpRequestMessage request) => request.Content is null or ByteArrayContent;

    protected override void Dispose(bool disposing)
    {
        if (disposing && _unpooled.IsValueCreated)
        {
            _unpooled.Value.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>Origins (scheme://host:port) known to close every connection after their answer; shared by every delivery handler the factory builds.</summary>
public sealed class NonPersistentEndpoints
{
    private readonly ConcurrentDictionary<string, byte> _origins = new(StringComparer.OrdinalIgnoreCase);

    public bool Contains(Uri uri) => _origins.ContainsKey(Origin(uri));

    /// <returns>true when the origin was not known before.</returns>
    public bool Add(Uri uri) => _origins.TryAdd(Origin(uri), 0);

    public static string Origin(Uri uri) => uri.GetLeftPart(UriPartial.Authority);
}

/// <summary>The delivery client's connection handlers, built in one place so both have the same settings.</summary>
public static class DeliveryConnections
{
    /// <summary>
    /// Adds <see cref="NonPersistentConnectionHandler"/> to a named client, after the handlers added so
    /// far: innermost, so its resilience pipeline (breaker, timeout) sees one attempt, resent or not.
    /// </summary>
    public static IServiceCollection AddNonPersistentConnections(this IServiceCollection services, string httpClientName)
    {
        services.TryAddSingleton<NonPersistentEndpoints>();
        services.AddHttpClient(httpClientName).AddHttpMessageHandler(sp => new NonPersistentConnectionHandler(
            sp.GetRequiredService<NonPersistentEndpoints>(), sp.GetRequiredService<ILogger<NonPersistentConnectionHandler>>()));
        return services;
    }

    /// <summary>Keep-alive connections, renewed every two minutes so DNS changes are picked up.</summary>
    public static SocketsHttpHandler Pooled() => new() { PooledConnectionLifetime = TimeSpan.FromMinutes(2) };

    /// <summary>A connection per request, never kept: a zero lifetime closes each after its response.</summary>
    public static SocketsHttpHandler Unpooled() => new() { PooledConnectionLifetime = TimeSpan.Zero };
}

internal static partial class NonPersistentLog
{
    [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "Endpoint {Origin} answers HTTP/1.0 without keep-alive: its deliveries use a new connection each")]
    public static partial void Learned(ILogger logger, string origin);

    [LoggerMessage(EventId = 41, Level = LogLevel.Debug, Message = "Endpoint {Origin} closed a pooled connection without answering ({Error}); sent again on a new connection")]
    public static partial void ResentOnFreshConnection(ILogger logger, string origin, string error);
}
