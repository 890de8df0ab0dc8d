using Streaming.Testing;

namespace Streaming.Kafka.Tests;

/// <summary>The collection fixture that stops the shared Testcontainers broker changes nothing on the embedded path.</summary>
public sealed class SharedKafkaContainerTests
{
    [Fact]
    public async Task Disposing_the_fixture_with_no_container_is_harmless_and_brokers_still_start()
    {
        var fixture = new SharedKafkaContainer();
        await fixture.InitializeAsync();
        await fixture.DisposeAsync();
        await fixture.DisposeAsync();

        await using var broker = await KafkaBroker.StartAsync();
        Assert.Equal(KafkaBroker.ExpectedKind, broker.Kind);
        var topology = broker.Topology();
        await broker.ProvisionAsync(topology);
        using var admin = broker.CreateAdmin();
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
        Assert.Contains(metadata.Topics, t => t.Topic == topology.Topics[0].Name);
    }
}
