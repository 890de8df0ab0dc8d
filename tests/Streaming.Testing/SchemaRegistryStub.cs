using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Streaming.Testing;

/// <summary>What the stub does with requests: answer, answer 503, or refuse connections.</summary>
public enum RegistryState
{
    Up,
    Unavailable,
    Refusing,
}

/// <summary>
/// A test double of a Confluent Schema Registry, in-process on a loopback port, covering exactly the REST
/// calls Confluent's <c>CachedSchemaRegistryClient</c> (2.14) makes for this project: register
/// (<c>POST /subjects/{s}/versions</c>), lookup (<c>POST /subjects/{s}</c>), get by id
/// (<c>GET /schemas/ids/{id}</c>), latest version (<c>GET /subjects/{s}/versions/latest</c>) and
/// compatibility (<c>POST /compatibility/subjects/{s}/versions/latest</c>), with the registry's error
/// bodies (<c>{"error_code":40401,...}</c>), HTTP basic auth, and a switch to go down.
/// Ids are global and one schema text keeps one id across subjects, as in the real registry.
/// When SCHEMA_REGISTRY_URL is set the stub forwards every call to that registry instead (with
/// SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO), so the same tests run against a real one, outages included.
/// Never product code.
/// </summary>
public sealed class SchemaRegistryStub : IAsyncDisposable
{
    public const string UserInfo = "registry-user:registry-secret-Zq9";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<(int Version, int Id)>> _subjects = new();
    private readonly Dictionary<int, (string Schema, string Type)> _schemas = new();
    private readonly ConcurrentQueue<string> _calls = new();
    private readonly string? _userInfo;
    private readonly Uri? _upstream;
    private readonly string? _upstreamUserInfo;
    private readonly HttpClient? _forwarder;
    private WebApplication _app;
    private int _port;
    private volatile RegistryState _state = RegistryState.Up;

    private SchemaRegistryStub(WebApplication app, string? userInfo, string? upstream, string? upstreamUserInfo)
    {
        _app = app;
        _userInfo = userInfo;
        if (upstream is { Length: > 0 })
        {
            _upstream = new Uri(upstream.Split(',')[0].TrimEnd('/') + "/");
            _upstreamUserInfo = upstreamUserInfo;
            _forwarder = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        }
    }

    /// <summary>The URL to give SCHEMA_REGISTRY_URL.</summary>
    public string Url => $"http://127.0.0.1:{_port}";

    /// <summary>True when the calls go to a real registry (SCHEMA_REGISTRY_URL was set for the tests).</summary>
    public bool ForwardsToRealRegistry => _upstream is not null;

    /// <summary>Every call received, as "METHOD /path", in order (the query string left out).</summary>
    public IReadOnlyList<string> Calls => _calls.ToArray();

    public RegistryState State => _state;

    /// <summary>
    /// Test hosts start with these, so a SCHEMA_REGISTRY_URL in the test process's environment (meant for
    /// the stub's forwarding) does not switch every other test to framed records; tests that want the
    /// registry pass <see cref="Settings"/>.
    /// </summary>
    public static (string Key, string? Value)[] Unset => [("SCHEMA_REGISTRY_URL", ""), ("SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", "")];

    /// <summary>The service settings that point at this stub, credentials included.</summary>
    public (string Key, string? Value)[] Settings => [("SCHEMA_REGISTRY_URL", Url), ("SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", _userInfo ?? "")];

    /// <summary>A signed-ready webhook body carrying one text message (for framed records written by a real ingress).</summary>
    public static byte[] MessageWebhook(string wamid, string from) => Encoding.UTF8.GetBytes($$$"""
        {"object":"whatsapp_business_account","entry":[{"id":"waba-1","changes":[{"field":"messages","value":{
          "messaging_product":"whatsapp","metadata":{"display_phone_number":"1555","phone_number_id":"p1"},
          "contacts":[{"profile":{"name":"Zoë ✓"},"wa_id":"{{{from}}}"}],
          "messages":[{"from":"{{{from}}}","id":"{{{wamid}}}","timestamp":"1","type":"text","text":{"body":"héllo é 😀"}}]}}]}]}
        """);

    /// <param name="userInfo">user:password the stub demands (HTTP basic), or null for none.</param>
    /// <param name="upstream">A registry to forward to instead of answering; default SCHEMA_REGISTRY_URL (with SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO).</param>
    public static async Task<SchemaRegistryStub> StartAsync(string? userInfo = UserInfo, string? upstream = null, string? upstreamUserInfo = null)
    {
        var stub = upstream is null
            ? new SchemaRegistryStub(Build(), userInfo, Environment.GetEnvironmentVariable("SCHEMA_REGISTRY_URL"), Environment.GetEnvironmentVariable("SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO"))
            : new SchemaRegistryStub(Build(), userInfo, upstream, upstreamUserInfo);
        await stub.ListenAsync(0);
        return stub;
    }

    /// <summary>Down (503 to every call, or connections refused) or up again, on the same port.</summary>
    public async Task SetStateAsync(RegistryState state)
    {
        var was = _state;
        _state = state;
        if (state == RegistryState.Refusing && was != RegistryState.Refusing)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        else if (state != RegistryState.Refusing && was == RegistryState.Refusing)
        {
            _app = Build();
            await ListenAsync(_port);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_state != RegistryState.Refusing)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _forwarder?.Dispose();
    }

    private static WebApplication Build()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        return builder.Build();
    }

    private async Task ListenAsync(int port)
    {
        _app.Urls.Add($"http://127.0.0.1:{port}");
        _app.Run(HandleAsync);
        await _app.StartAsync();
        _port = new Uri(_app.Urls.First()).Port;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "/";
        _calls.Enqueue($"{request.Method} {path}");
        if (_state == RegistryState.Unavailable)
        {
            await ErrorAsync(context, HttpStatusCode.ServiceUnavailable, 50003, "the stub is down");
            return;
        }

        if (_userInfo is not null && request.Headers.Authorization.ToString() != "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(_userInfo)))
        {
            await ErrorAsync(context, HttpStatusCode.Unauthorized, 40101, "Unauthorized");
            return;
        }

        using var bodyReader = new StreamReader(request.Body, Encoding.UTF8);
        var body = await bodyReader.ReadToEndAsync();
        if (_forwarder is not null)
        {
            await ForwardAsync(context, body);
            return;
        }

        var segments = path.Trim('/').Split('/').Select(Uri.UnescapeDataString).ToArray();
        var (status, answer) = (request.Method, segments) switch
        {
            ("POST", ["subjects", var s, "versions"]) => Registered(s, body),
            ("POST", ["subjects", var s]) => Lookup(s, body),
            ("GET", ["schemas", "ids", var id]) => ById(id),
            ("GET", ["subjects", var s, "versions", "latest"]) => Latest(s),
            ("POST", ["compatibility", "subjects", var s, "versions", "latest"]) => Compatibility(s, body),
            _ => (HttpStatusCode.NotFound, Error(404, $"the stub does not serve {request.Method} {path}")),
        };
        await WriteAsync(context, status, answer);
    }

    private (HttpStatusCode, JsonObject) Registered(string subject, string body)
    {
        if (!TryReadSchema(body, out var schema, out var type))
        {
            return (HttpStatusCode.UnprocessableEntity, Error(42201, "Invalid schema"));
        }

        var (id, _) = RegisterCore(subject, schema, type);
        return (HttpStatusCode.OK, new JsonObject { ["id"] = id });
    }

    private (HttpStatusCode, JsonObject) Lookup(string subject, string body)
    {
        if (!TryReadSchema(body, out var schema, out var type))
        {
            return (HttpStatusCode.UnprocessableEntity, Error(42201, "Invalid schema"));
        }

        lock (_gate)
        {
            if (!_subjects.TryGetValue(subject, out var versions))
            {
                return (HttpStatusCode.NotFound, Error(40401, $"Subject '{subject}' not found."));
            }

            foreach (var (version, id) in versions)
            {
                if (_schemas[id] == (schema, type))
                {
                    return (HttpStatusCode.OK, Describe(subject, version, id));
                }
            }

            return (HttpStatusCode.NotFound, Error(40403, "Schema not found"));
        }
    }

    private (HttpStatusCode, JsonObject) ById(string text)
    {
        lock (_gate)
        {
            if (!int.TryParse(text, out var id) || !_schemas.TryGetValue(id, out var schema))
            {
                return (HttpStatusCode.NotFound, Error(40403, "Schema not found"));
            }

            return (HttpStatusCode.OK, new JsonObject { ["schemaType"] = schema.Type, ["schema"] = schema.Schema });
        }
    }

    private (HttpStatusCode, JsonObject) Latest(string subject)
    {
        lock (_gate)
        {
            return _subjects.TryGetValue(subject, out var versions)
                ? (HttpStatusCode.OK, Describe(subject, versions[^1].Version, versions[^1].Id))
                : (HttpStatusCode.NotFound, Error(40401, $"Subject '{subject}' not found."));
        }
    }

    /// <summary>The stub's rule: compatible unless the new schema drops a property the latest one has.</summary>
    private (HttpStatusCode, JsonObject) Compatibility(string subject, string body)
    {
        if (!TryReadSchema(body, out var schema, out _))
        {
            return (HttpStatusCode.UnprocessableEntity, Error(42201, "Invalid schema"));
        }

        lock (_gate)
        {
            if (!_subjects.TryGetValue(subject, out var versions))
            {
                return (HttpStatusCode.NotFound, Error(40401, $"Subject '{subject}' not found."));
            }

            var latest = Properties(_schemas[versions[^1].Id].Schema);
            return (HttpStatusCode.OK, new JsonObject { ["is_compatible"] = latest.IsSubsetOf(Properties(schema)) });
        }
    }

    private (int Id, int Version) RegisterCore(string subject, string schema, string type)
    {
        lock (_gate)
        {
            var id = _schemas.FirstOrDefault(kv => kv.Value == (schema, type)).Key;
            if (id == 0)
            {
                id = _schemas.Count + 1;
                _schemas[id] = (schema, type);
            }

            var versions = _subjects.TryGetValue(subject, out var list) ? list : _subjects[subject] = [];
            if (versions.FirstOrDefault(v => v.Id == id) is { Version: > 0 } existing)
            {
                return (id, existing.Version);
            }

            versions.Add((versions.Count + 1, id));
            return (id, versions.Count);
        }
    }

    private JsonObject Describe(string subject, int version, int id) => new()
    {
        ["subject"] = subject,
        ["version"] = version,
        ["id"] = id,
        ["schemaType"] = _schemas[id].Type,
        ["schema"] = _schemas[id].Schema,
    };

    private static HashSet<string> Properties(string schema)
    {
        try
        {
            return JsonNode.Parse(schema)?["properties"]?.AsObject().Select(p => p.Key).ToHashSet() ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    /// <summary>The client's body: <c>{"schema": "...", "schemaType": "JSON", "references": [...]}</c>; no type means AVRO.</summary>
    private static bool TryReadSchema(string body, out string schema, out string type)
    {
        schema = "";
        type = "AVRO";
        try
        {
            var node = JsonNode.Parse(body);
            if (node?["schema"]?.GetValue<string>() is not { Length: > 0 } text)
            {
                return false;
            }

            schema = text;
            type = node["schemaType"]?.GetValue<string>() ?? "AVRO";
            return true;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return false;
        }
    }

    private async Task ForwardAsync(HttpContext context, string body)
    {
        var target = new Uri(_upstream!, context.Request.Path.Value!.TrimStart('/') + context.Request.QueryString);
        using var forward = new HttpRequestMessage(new HttpMethod(context.Request.Method), target);
        if (context.Request.ContentLength > 0 || body.Length > 0)
        {
            forward.Content = new StringContent(body, Encoding.UTF8, "application/vnd.schemaregistry.v1+json");
        }

        if (!string.IsNullOrEmpty(_upstreamUserInfo))
        {
            forward.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(_upstreamUserInfo)));
        }

        using var answer = await _forwarder!.SendAsync(forward);
        context.Response.StatusCode = (int)answer.StatusCode;
        context.Response.ContentType = "application/vnd.schemaregistry.v1+json";
        await context.Response.WriteAsync(await answer.Content.ReadAsStringAsync());
    }

    private static JsonObject Error(int code, string message) => new() { ["error_code"] = code, ["message"] = message };

    private static Task ErrorAsync(HttpContext context, HttpStatusCode status, int code, string message) =>
        WriteAsync(context, status, Error(code, message));

    private static async Task WriteAsync(HttpContext context, HttpStatusCode status, JsonObject answer)
    {
        context.Response.StatusCode = (int)status;
        context.Response.ContentType = "application/vnd.schemaregistry.v1+json";
        await context.Response.WriteAsync(answer.ToJsonString());
    }
}
