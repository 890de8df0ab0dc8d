using Xunit;

namespace Streaming.Testing;

/// <summary>
/// Owns the Testcontainers broker that <see cref="KafkaBroker.StartAsync"/> starts once and shares
/// between a test assembly's classes (only when Docker is the choice): xunit disposes it after the
/// last test of the collection, so the container stops with the run instead of being left to the
/// resource reaper. Nothing is started here: on the embedded and external paths it does nothing.
/// Each test assembly declares the collection (xunit v2 needs the definition in the assembly):
/// <code>[CollectionDefinition(SharedKafkaContainer.Collection)] public sealed class KafkaCollection : ICollectionFixture&lt;SharedKafkaContainer&gt;;</code>
/// and its classes that start brokers join it with <c>[Collection(SharedKafkaContainer.Collection)]</c>.
/// </summary>
public sealed class SharedKafkaContainer : IAsyncLifetime
{
    public const string Collection = "kafka";

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => KafkaBroker.DisposeSharedContainerAsync();
}
