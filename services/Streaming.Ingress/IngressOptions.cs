using Microsoft.Extensions.Configuration;

namespace Streaming.Ingress;

/// <summary>Ingress settings, bound from the environment; every name is in docs/configuration.md.</summary>
public sealed class IngressOptions
{
    /// <summary>Meta app secret: the HMAC key of X-Hub-Signature-256. Never logged.</summary>
    [ConfigurationKeyName("WHATSAPP_APP_SECRET")]
    public string AppSecret { get; set; } = "";

    /// <summary>The token Meta echoes in the GET /webhook verification handshake. Never logged.</summary>
    [ConfigurationKeyName("WHATSAPP_VERIFY_TOKEN")]
    public string VerifyToken { get; set; } = "";

    [ConfigurationKeyName("INGRESS_HOST")]
    public string Host { get; set; } = "0.0.0.0";

    [ConfigurationKeyName("INGRESS_PORT")]
    public int Port { get; set; } = 8080;

    /// <summary>Meta sends up to 3 MB; 4 MiB leaves room.</summary>
    [ConfigurationKeyName("INGRESS_MAX_BODY_BYTES")]
    public int MaxBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>How long a request waits for Kafka's acknowledgements before answering 503 (librdkafka's own default is 5 minutes).</summary>
    [ConfigurationKeyName("INGRESS_PRODUCE_BUDGET_MS")]
    public int ProduceBudgetMs { get; set; } = 3000;

    [ConfigurationKeyName("INGRESS_RETRY_AFTER_SECONDS")]
    public int RetryAfterSeconds { get; set; } = 5;

    /// <summary>Producer bytes awaiting acknowledgement above which status-only webhooks are shed.</summary>
    [ConfigurationKeyName("INGRESS_SHED_INFLIGHT_BYTES")]
    public long ShedInFlightBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>Recent produce latency above which status-only webhooks are shed.</summary>
    [ConfigurationKeyName("INGRESS_SHED_LATENCY_MS")]
    public int ShedLatencyMs { get; set; } = 1000;

    [ConfigurationKeyName("INGRESS_QUEUE_MAX_MESSAGES")]
    public int QueueMaxMessages { get; set; } = 100_000;

    [ConfigurationKeyName("INGRESS_LINGER_MS")]
    public int LingerMs { get; set; } = 2;

    public TimeSpan ProduceBudget => TimeSpan.FromMilliseconds(ProduceBudgetMs);

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrEmpty(AppSecret))
        {
            yield return "WHATSAPP_APP_SECRET is required: the Meta app secret that signs webhooks (X-Hub-Signature-256)";
        }

        if (string.IsNullOrEmpty(VerifyToken))
        {
            yield return "WHATSAPP_VERIFY_TOKEN is required: the token you entered in Meta's webhook settings";
        }

        if (Port is < 0 or > 65535)
        {
            yield return $"INGRESS_PORT {Port} is not a TCP port";
        }

        if (MaxBodyBytes < 1024)
        {
            yield return $"INGRESS_MAX_BODY_BYTES {MaxBodyBytes} is too small (Meta sends up to 3 MB)";
        }

        if (ProduceBudgetMs is < 100 or > 60_000)
        {
            yield return $"INGRESS_PRODUCE_BUDGET_MS {ProduceBudgetMs} must be between 100 and 60000: Meta waits only seconds";
        }

        if (RetryAfterSeconds < 1)
        {
            yield return "INGRESS_RETRY_AFTER_SECONDS must be at least 1";
        }

        if (ShedInFlightBytes < 1 || ShedLatencyMs < 1 || QueueMaxMessages < 1 || LingerMs < 0)
        {
            yield return "INGRESS_SHED_INFLIGHT_BYTES, INGRESS_SHED_LATENCY_MS and INGRESS_QUEUE_MAX_MESSAGES must be positive, INGRESS_LINGER_MS not negative";
        }
    }
}
