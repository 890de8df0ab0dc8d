using Confluent.Kafka;
using Microsoft.Extensions.Configuration;

namespace Streaming.Kafka;

/// <summary>How to reach the cluster. Security settings are optional: the embedded broker has none.</summary>
public sealed class KafkaOptions
{
    [ConfigurationKeyName("KAFKA_BOOTSTRAP_SERVERS")]
    public string BootstrapServers { get; set; } = "";

    /// <summary>PLAINTEXT (default), SSL, SASL_PLAINTEXT or SASL_SSL.</summary>
    [ConfigurationKeyName("KAFKA_SECURITY_PROTOCOL")]
    public string? SecurityProtocol { get; set; }

    [ConfigurationKeyName("KAFKA_SASL_MECHANISM")]
    public string? SaslMechanism { get; set; }

    [ConfigurationKeyName("KAFKA_SASL_USERNAME")]
    public string? SaslUsername { get; set; }

    [ConfigurationKeyName("KAFKA_SASL_PASSWORD")]
    public string? SaslPassword { get; set; }

    [ConfigurationKeyName("KAFKA_SSL_CA_LOCATION")]
    public string? SslCaLocation { get; set; }

    /// <summary>Fills in the connection part of any client config; the caller adds the role-specific part.</summary>
    public T Apply<T>(T config) where T : ClientConfig
    {
        config.BootstrapServers = BootstrapServers;
        if (!string.IsNullOrWhiteSpace(SecurityProtocol))
        {
            config.SecurityProtocol = Enum.Parse<SecurityProtocol>(SecurityProtocol.Replace("_", ""), ignoreCase: true);
        }

        if (!string.IsNullOrWhiteSpace(SaslMechanism))
        {
            config.SaslMechanism = Enum.Parse<SaslMechanism>(SaslMechanism.Replace("-", ""), ignoreCase: true);
        }

        config.SaslUsername = NullIfBlank(SaslUsername);
        config.SaslPassword = NullIfBlank(SaslPassword);
        config.SslCaLocation = NullIfBlank(SslCaLocation);
        return config;
    }

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(BootstrapServers))
        {
            yield return "KAFKA_BOOTSTRAP_SERVERS is required (host:port[,host:port...]); `make dev-broker` prints one for the embedded broker";
        }

        if (!string.IsNullOrWhiteSpace(SecurityProtocol) && !Enum.TryParse<SecurityProtocol>(SecurityProtocol.Replace("_", ""), true, out _))
        {
            yield return $"KAFKA_SECURITY_PROTOCOL '{SecurityProtocol}' is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL";
        }

        // GSSAPI and OAUTHBEARER need settings (keytabs, token endpoints) that nothing here passes: refused
        // at start-up rather than failing to authenticate later.
        if (!string.IsNullOrWhiteSpace(SaslMechanism)
            && (!Enum.TryParse<SaslMechanism>(SaslMechanism.Replace("-", ""), true, out var mechanism) || mechanism is Confluent.Kafka.SaslMechanism.Gssapi or Confluent.Kafka.SaslMechanism.OAuthBearer))
        {
            yield return $"KAFKA_SASL_MECHANISM '{SaslMechanism}' is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (GSSAPI and OAUTHBEARER are not supported)";
        }
    }

    private static string? NullIfBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
