using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Streaming.Worker.Delivery;

namespace Streaming.Worker.Tests;

/// <summary>
/// An endpoint that speaks HTTP/1.0 and closes every connection after its answer (Python's
/// http.server by default). .NET keeps such a connection in its pool (it treats a 1.0 response
/// without a Connection header as persistent), so a later delivery can be written to a socket the
/// server has already closed and fail with "the response ended prematurely". Through the worker's
/// delivery HttpClient none may fail.
/// </summary>
public sealed class Http10EndpointTests
{
    private const int Deliveries = 500;
    private const int Concurrency = 32;

    [Fact]
    public async Task Deliveries_to_an_http_1_0_endpoint_that_closes_each_connection_never_fail_spuriously()
    {
        await using var endpoint = Http10Endpoint.Start();
        await using var services = WorkerDeliveryServices(endpoint.Url);
        var client = services.GetRequiredService<IHttpClientFactory>().CreateClient(DeliveryClient.HttpClientName);

        var failures = new List<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, Deliveries), new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (i, ct) =>
        {
            using var content = new ByteArrayContent(Encoding.UTF8.GetBytes($$"""{"eventId":"wamid.http10-{{i}}"}"""));
            content.Headers.ContentType = new("application/json");
            try
            {
                using var response = await client.PostAsync(endpoint.Url, content, ct);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    lock (failures)
                    {
                        failures.Add($"{i}: HTTP {(int)response.StatusCode}");
                    }
                }
            }
            catch (HttpRequestException e)
            {
                lock (failures)
                {
                    failures.Add($"{i}: {e.HttpRequestError} {e.Message}");
                }
            }
        });

        Assert.True(failures.Count == 0, $"{failures.Count} of {Deliveries} deliveries failed, e.g. {string.Join("; ", failures.Take(3))}");
        Assert.Equal(Deliveries, endpoint.Answered);
    }

    [Fact]
    public async Task Connections_to_http_1_1_endpoints_are_still_reused()
    {
        await using var endpoint = Http10Endpoint.Start(keepAlive: true);
        await using var services = WorkerDeliveryServices(endpoint.Url);
        var client = services.GetRequiredService<IHttpClientFactory>().CreateClient(DeliveryClient.HttpClientName);
        for (var i = 0; i < 20; i++)
        {
            using var response = await client.PostAsync(endpoint.Url, new StringContent("{}", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(20, endpoint.Answered);
        Assert.Equal(1, endpoint.Connections);
    }

    [Theory]
    [InlineData("1.0", null, true)]
    [InlineData("1.0", "keep-alive", false)]
    [InlineData("1.0", "Keep-Alive", false)]
    [InlineData("1.1", null, false)]
    public void Only_an_http_1_0_answer_without_keep_alive_marks_its_endpoint(string version, string? connection, bool closes)
    {
        using var response = new HttpResponseMessage(HttpStatusCode.OK) { Version = Version.Parse(version) };
        if (connection is not null)
        {
            response.Headers.Connection.Add(connection);
        }

        Assert.Equal(closes, NonPersistentConnectionHandler.ClosesAfterAnswer(response));
    }

    /// <summary>The worker's own delivery HttpClient configuration, without Kafka (nothing here resolves the producer).</summary>
    private static ServiceProvider WorkerDeliveryServices(Uri url)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["KAFKA_BOOTSTRAP_SERVERS"] = "127.0.0.1:9",
            ["WORKER_LANE"] = "messages",
            ["DELIVERY_URL"] = url.ToString(),
            ["DELIVERY_SIGNING_SECRET"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            // The breaker must not hide failures by refusing to try.
            ["CIRCUIT_MIN_THROUGHPUT"] = "100000",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddWorker(configuration);
        return services.BuildServiceProvider();
    }

    /// <summary>
    /// A raw HTTP server: reads one request, answers <c>HTTP/1.0 200 OK</c> with a Content-Length and
    /// no Connection header, and closes, the way Python's http.server does. With keepAlive it answers
    /// HTTP/1.1 and serves the next request on the same connection.
    /// </summary>
    internal sealed class Http10Endpoint : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _accepting;
        private readonly bool _keepAlive;
        private int _answered;
        private int _connections;

        private Http10Endpoint(bool keepAlive)
        {
            _keepAlive = keepAlive;
            _listener = new TcpListener(IPAddress.Loopback, 0);
            _listener.Start(512);
            Url = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/messages");
            _accepting = AcceptAsync();
        }

        public Uri Url { get; }

        public int Answered => Volatile.Read(ref _answered);

        public int Connections => Volatile.Read(ref _connections);

        public static Http10Endpoint Start(bool keepAlive = false) => new(keepAlive);

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    var socket = await _listener.AcceptSocketAsync(_stop.Token);
                    Interlocked.Increment(ref _connections);
                    _ = ServeAsync(socket);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        private async Task ServeAsync(Socket socket)
        {
            using var _ = socket;
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            var buffer = new byte[64 * 1024];
            var length = 0;
            try
            {
                do
                {
                    // One request: headers up to the blank line, then Content-Length bytes of body.
                    int headerEnd;
                    while ((headerEnd = IndexOf(buffer.AsSpan(0, length), "\r\n\r\n"u8)) < 0)
                    {
                        var read = await stream.ReadAsync(buffer.AsMemory(length), _stop.Token);
                        if (read == 0)
                        {
                            return;
                        }

                        length += read;
                    }

                    var headers = Encoding.ASCII.GetString(buffer, 0, headerEnd);
                    var bodyLength = headers.Split("\r\n")
                        .Where(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                        .Select(h => int.Parse(h["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture))
                        .FirstOrDefault();
                    var requestEnd = headerEnd + 4 + bodyLength;
                    while (length < requestEnd)
                    {
                        var read = await stream.ReadAsync(buffer.AsMemory(length), _stop.Token);
                        if (read == 0)
                        {
                            return;
                        }

                        length += read;
                    }

                    var answer = _keepAlive
                        ? "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
                        : "HTTP/1.0 200 OK\r\nServer: BaseHTTP/0.6 Python/3.11\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(answer), _stop.Token);
                    Interlocked.Increment(ref _answered);
                    buffer.AsSpan(requestEnd, length - requestEnd).CopyTo(buffer);
                    length -= requestEnd;
                }
                while (_keepAlive);

                socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
            {
                // The client went away; nothing to answer.
            }
        }

        private static int IndexOf(ReadOnlySpan<byte> haystack, ReadOnlySpan<byte> needle) => haystack.IndexOf(needle);

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _accepting;
            _stop.Dispose();
        }
    }
}
