using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Streaming.Kafka.Tests;

public class KafkaOptionsTests
{
    private static IServiceProvider Services(params (string, string?)[] settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Item1, s.Item2))).Build();
        return new ServiceCollection().AddKafkaTopology(configuration).BuildServiceProvider();
    }

    [Fact]
    public void Environment_names_bind_to_the_options()
    {
        var services = Services(("KAFKA_BOOTSTRAP_SERVERS", "a:9092,b:9092"), ("TOPIC_PREFIX", "acme"), ("RETRY_DELAYS", "1s,2s"),
            ("KAFKA_SECURITY_PROTOCOL", "SASL_SSL"), ("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"), ("KAFKA_SASL_USERNAME", "u"), ("KAFKA_SASL_PASSWORD", "p"));
        var kafka = services.GetRequiredService<IOptions<KafkaOptions>>().Value;
        var config = kafka.Apply(new ProducerConfig());
        Assert.Equal("a:9092,b:9092", config.BootstrapServers);
        Assert.Equal(SecurityProtocol.SaslSsl, config.SecurityProtocol);
        Assert.Equal(SaslMechanism.ScramSha512, config.SaslMechanism);
        Assert.Equal("acme.messages.retry.2s", services.GetRequiredService<Topology>()[Contracts.Lane.Messages].RetryTiers[1].Name);
    }

    [Theory]
    [InlineData(null, null, "KAFKA_BOOTSTRAP_SERVERS is required")]
    [InlineData("k:9092", "TLS", "KAFKA_SECURITY_PROTOCOL 'TLS'")]
    public void Missing_or_bad_settings_fail_at_start_up_naming_the_variable(string? bootstrap, string? protocol, string expected)
    {
        var services = Services(("KAFKA_BOOTSTRAP_SERVERS", bootstrap), ("KAFKA_SECURITY_PROTOCOL", protocol));
        var e = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<KafkaOptions>>().Value);
        Assert.Contains(e.Failures, f => f.Contains(expected));
    }

    [Theory]
    [InlineData("GSSAPI")]
    [InlineData("OAUTHBEARER")]
    [InlineData("MD5")]
    public void Sasl_mechanisms_other_than_plain_and_scram_are_refused_at_start_up(string mechanism)
    {
        var problems = new KafkaOptions { BootstrapServers = "k:9092", SaslMechanism = mechanism }.Validate().ToArray();
        Assert.Contains(problems, p => p.StartsWith($"KAFKA_SASL_MECHANISM '{mechanism}' is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512", StringComparison.Ordinal));
    }

    [Fact]
    public void A_bad_retry_list_fails_at_start_up_naming_the_variable()
    {
        var services = Services(("KAFKA_BOOTSTRAP_SERVERS", "k:9092"), ("RETRY_DELAYS", "soon"));
        var e = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<TopologyOptions>>().Value);
        Assert.Contains(e.Failures, f => f.Contains("RETRY_DELAYS 'soon'"));
    }
}
